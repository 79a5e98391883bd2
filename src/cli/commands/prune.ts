import type { PruneProgress } from '../../index.ts';
import { type CommandDef, cliPrefix, positionalArgs } from '../context.ts';
import { exitCodes, usageError } from '../errors.ts';
import { parseSpan, parseTime } from '../times.ts';

const phases: Record<PruneProgress['phase'], string> = {
  archive: 'archiving',
  verify: 'verifying the archive',
  remove: 'removing from the store',
};

/** `90d` (an age: that long before now) or any time `--since` takes. */
const cutOff = (text: string, now: number): number => {
  const age = parseSpan(text.trim());
  return age === undefined ? parseTime(text, now, '--before time') : now - age;
};

/**
 * Retention (the library's pruneTerminalProcesses): archives the processes that ended
 * before `--before`, verifies the archive, and only then removes them from the store. The
 * archive directory gets a subdirectory per prune; `procreg import <that dir>` restores it.
 */
export const pruneCommand: CommandDef = {
  name: 'prune',
  usage: 'prune --before <age|time> --archive <dir> [--dry-run] [--max <n>]',
  summary: 'archive, then remove, processes that ended before a time',
  flags: ['before', 'archive', 'dry-run', 'max'],
  details: [
    'Only completed, failed and cancelled processes are pruned, never running ones.',
    'Each prune is recorded in the log (when, by whom, the manifest hash); `history` of a',
    'pruned process says where it went.',
  ],
  examples: [
    'procreg prune --before 90d --archive ./archive --dry-run',
    'procreg prune --before 90d --archive ./archive',
    'procreg import ./archive/prune-<id>',
  ],
  run: async (ctx) => {
    positionalArgs(ctx, [], pruneCommand.usage);
    const { before, archive, max } = ctx.flags;
    if (before === undefined || archive === undefined) {
      throw usageError(`prune needs --before and --archive; usage: ${pruneCommand.usage}`);
    }
    const limit = max === undefined ? undefined : Number(max);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw usageError(`--max must be a positive whole number, not \`${max}\``);
    }
    const terminalBeforeMs = cutOff(before, ctx.now());
    const dryRun = ctx.flags['dry-run'] === true;
    const registry = await ctx.open(ctx.storeUrl, dryRun ? 'read' : 'write');
    const progress = ctx.progress('prune', 'processes');
    progress.update('selecting processes');
    let result: Awaited<ReturnType<typeof registry.pruneTerminalProcesses>>;
    try {
      result = await registry.pruneTerminalProcesses(
        {
          terminalBeforeMs,
          archiveTo: archive,
          dryRun,
          ...(limit === undefined ? {} : { limit }),
        },
        ({ phase, done, total }) => progress.update(phases[phase], done, total),
      );
    } catch (error) {
      progress.abort();
      throw error;
    }
    const count = result.processes.length;
    progress.finish(`${dryRun ? 'would prune' : 'pruned'} ${count} processes`);
    const { out } = ctx;
    if (out.json) {
      out.document({
        ...result,
        ...(result.position ? { position: String(result.position) } : {}),
      });
      return exitCodes.ok;
    }
    const cut = new Date(terminalBeforeMs).toISOString();
    if (count === 0) out.line(`no process ended before ${cut}`);
    else if (dryRun) {
      out.line(`would prune ${count} processes that ended before ${cut}:`);
      for (const p of result.processes) out.line(`  ${p.processId}`);
    } else {
      const events = result.processes.reduce((sum, p) => sum + p.events, 0);
      out.line(`pruned ${count} processes (${events} events) that ended before ${cut}`);
      out.line(`archive: ${result.archive} (manifest sha256 ${result.manifestSha256})`);
      out.line(out.style.dim(`restore: ${cliPrefix(ctx)} import ${result.archive}`));
    }
    if (result.finished > 0) {
      out.line(`finished an interrupted prune: removed ${result.finished} archived streams`);
    }
    return exitCodes.ok;
  },
};
