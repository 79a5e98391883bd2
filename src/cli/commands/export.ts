import { type CommandDef, positionalArgs } from '../context.ts';
import { type ChunkSink, writeAll, writeFileAtomically } from '../files.ts';

/**
 * The whole log as NDJSON (one domain event per line, in log order), to stdout or to a
 * file with `-o`. On stdout the NDJSON is the result, so nothing else is printed there;
 * with `-o` a summary is (`--json`: `{ exported, file }`).
 */
export const exportCommand: CommandDef = {
  name: 'export',
  usage: 'export [-o <file>]',
  summary: 'write the whole log as NDJSON to stdout or a file',
  flags: ['out'],
  examples: ['procreg export -o procreg.ndjson', 'procreg export | gzip > procreg.ndjson.gz'],
  run: async (ctx) => {
    positionalArgs(ctx, [], exportCommand.usage);
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const progress = ctx.progress('export', 'events');
    let exported = 0;
    const write = (stream: ChunkSink) =>
      writeAll(stream, registry.exportEvents(), () => {
        exported += 1;
        progress.update('writing', exported);
      });
    const file = ctx.flags.out;
    try {
      progress.update('writing', 0);
      // the CLI's own stdout (process.stdout when run as a program), so an embedding
      // that captures output gets the export too
      if (file === undefined || file === '-') await write(ctx.out.stdout);
      else await writeFileAtomically(file, write);
    } catch (error) {
      progress.abort();
      throw error;
    }
    progress.finish(`exported ${exported} events`);
    if (file === undefined || file === '-') return 0;
    const { out } = ctx;
    if (out.json) out.document({ exported, file });
    else out.line(`exported ${exported} events from ${ctx.storeUrl} to ${file}`);
    return 0;
  },
};
