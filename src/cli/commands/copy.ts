import { type CommandDef, positionalArgs, shellQuote } from '../context.ts';
import { usageError } from '../errors.ts';
import { importWithProgress } from './import.ts';

/**
 * Copies one store's whole log into another, empty one (export piped into import, without
 * a file): e.g. from the embedded SQLite file to an EventStoreDB cluster. The source is
 * read twice (check, then write); if it changes in between, the copy fails and the target
 * keeps only whole batches, so copy from a store nobody is writing to.
 */
export const copyCommand: CommandDef = {
  name: 'copy',
  usage: 'copy [--from <url>] --to <url>',
  summary: 'copy every event from one store into another, empty one',
  flags: ['from', 'to'],
  details: ['--from defaults to the --store URL.'],
  examples: ['procreg copy --from sqlite:./procreg.db --to esdb://localhost:2113?tls=false'],
  run: async (ctx) => {
    positionalArgs(ctx, [], copyCommand.usage);
    const from = ctx.flags.from ?? ctx.storeUrl;
    const to = ctx.flags.to;
    if (to === undefined) {
      throw usageError('copy needs --to <url>, e.g. `procreg copy --to sqlite:./copy.db`');
    }
    if (to === from)
      throw usageError(`--from and --to are both \`${to}\`; copy into another store`);
    const source = await ctx.open(from, 'read');
    const target = await ctx.open(to, 'write');
    const copied = await importWithProgress(
      target,
      () => source.exportEvents(),
      ctx.progress('copy', 'events'),
    );
    const { out } = ctx;
    if (out.json) out.document({ copied, from, to });
    else {
      out.line(`copied ${copied} events from ${from} to ${to}`);
      out.line(out.style.dim(`check it: procreg --store ${shellQuote(to)} verify`));
    }
    return 0;
  },
};
