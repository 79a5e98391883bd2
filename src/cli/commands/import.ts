import { stat } from 'node:fs/promises';
import type { ImportProgress, LineSource, ProcessRegistry } from '../../index.ts';
import { type CommandContext, type CommandDef, cliPrefix, positionalArgs } from '../context.ts';
import { usageError } from '../errors.ts';
import { fileChunks, requireReadableFile, withStdinSpooled } from '../files.ts';
import type { Progress } from '../progress.ts';

const isDirectory = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/**
 * Runs an import into `target` with progress: the library reads the source twice, first
 * checking every line (count unknown), then writing (count known from the check).
 */
export const importWithProgress = async (
  target: ProcessRegistry,
  source: LineSource,
  progress: Progress,
): Promise<number> => {
  let checked = 0;
  const onProgress = ({ phase, lines }: ImportProgress) => {
    if (phase === 'check') {
      checked = lines;
      progress.update('checking', lines);
    } else {
      progress.update('writing', lines, checked);
    }
  };
  try {
    const { imported } = await target.importEvents(source, onProgress);
    progress.finish(`imported ${imported} events`);
    return imported;
  } catch (error) {
    progress.abort();
    throw error;
  }
};

const importFrom = async (ctx: CommandContext, path: string, label: string): Promise<number> => {
  const registry = await ctx.open(ctx.storeUrl, 'write');
  const imported = await importWithProgress(
    registry,
    fileChunks(path),
    ctx.progress('import', 'events'),
  );
  const { out } = ctx;
  if (out.json) out.document({ imported, into: ctx.storeUrl });
  else {
    out.line(`imported ${imported} events from ${label} into ${ctx.storeUrl}`);
    out.line(out.style.dim(`check it: ${cliPrefix(ctx)} verify`));
  }
  return 0;
};

/** A prune's archive directory: its processes back into a store that lacks them. */
const importArchiveFrom = async (ctx: CommandContext, dir: string): Promise<number> => {
  const registry = await ctx.open(ctx.storeUrl, 'write');
  const progress = ctx.progress('import', 'events');
  let result: { imported: number; processes: number };
  try {
    result = await registry.importArchive(dir, ({ phase, lines }) =>
      progress.update(phase === 'check' ? 'checking' : 'writing', lines),
    );
  } catch (error) {
    progress.abort();
    throw error;
  }
  progress.finish(`restored ${result.processes} processes`);
  const { out } = ctx;
  if (out.json) out.document({ ...result, from: dir, into: ctx.storeUrl });
  else {
    out.line(
      `restored ${result.processes} processes (${result.imported} events) from the archive ${dir} into ${ctx.storeUrl}`,
    );
  }
  return 0;
};

/**
 * Loads an NDJSON export into the store, which must hold no procreg events yet (a fresh
 * file): nothing is written unless every line checks out. `-` or no file reads stdin.
 */
export const importCommand: CommandDef = {
  name: 'import',
  usage: 'import [<file>|<archive dir>|-]',
  summary: 'load an NDJSON export into an empty store, or restore a prune archive',
  flags: [],
  examples: [
    'procreg --store sqlite:./copy.db import procreg.ndjson',
    'gunzip -c procreg.ndjson.gz | procreg --store sqlite:./copy.db import -',
    'procreg import ./archive/prune-<id>   (restores the processes a prune archived)',
  ],
  run: async (ctx) => {
    const [file] = positionalArgs(ctx, ['<file>?'], importCommand.usage);
    if (file !== undefined && file !== '-') {
      if (await isDirectory(file)) return importArchiveFrom(ctx, file);
      await requireReadableFile(file);
      return importFrom(ctx, file, file);
    }
    if (file === undefined && ctx.stdin.isTTY) {
      throw usageError(
        'import reads NDJSON from a file or a pipe; e.g. `procreg import procreg.ndjson` or `... | procreg import -`',
      );
    }
    return withStdinSpooled(ctx.stdin, (path) => importFrom(ctx, path, 'stdin'));
  },
};
