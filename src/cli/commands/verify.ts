import { type CommandDef, positionalArgs } from '../context.ts';
import { summarize } from '../describe.ts';
import { exitCodes, usageError } from '../errors.ts';
import { renderTable } from '../table.ts';
import { verifyIntegrity } from './integrity.ts';

/**
 * Rebuilds every read model from the log and diffs it with the live one (the library's
 * verifyProjections), or with `--integrity` checks the log's hashes (verifyIntegrity, see
 * integrity.ts). Exit 0 when all is well, 1 on any difference or problem, so scripts and CI
 * can gate on it.
 */
export const verifyCommand: CommandDef = {
  name: 'verify',
  usage: 'verify [--integrity [--against <digest@pos>]]',
  summary:
    'rebuild the read models from the log and diff (or check its hashes); exit 1 on any difference',
  flags: ['integrity', 'against'],
  details: [
    '--integrity reads the whole log and checks every event against its hash, its link to the',
    'one before it in its stream and the digest recorded at its position; it names each problem',
    '(altered, missing, reordered, inserted, chain_broken) with its position. --against checks',
    'that the log up to a digest kept earlier (procreg digest) still hashes to it.',
  ],
  examples: [
    'procreg verify',
    'procreg verify --json',
    'procreg verify --integrity',
    'procreg verify --integrity --against 3f1a…c2@10412',
  ],
  run: async (ctx) => {
    positionalArgs(ctx, [], verifyCommand.usage);
    if (ctx.flags.integrity) return verifyIntegrity(ctx);
    if (ctx.flags.against !== undefined) throw usageError('--against needs --integrity');
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const progress = ctx.progress('verify', 'events');
    progress.update('rebuilding read models from the log');
    let differences: Awaited<ReturnType<typeof registry.verifyProjections>>;
    try {
      // Positions are dense from 1 on memory, SQLite and PostgreSQL, so `upTo` approximates the total;
      // on EventStoreDB they are byte offsets and the bar shows the count only.
      const dense =
        registry.durabilityTier === 'inline' || /^(sqlite|postgres(ql)?):/.test(ctx.storeUrl);
      differences = await registry.verifyProjections(({ events, upTo }) => {
        if (events % 1000 === 0) {
          progress.update('rebuilding read models', events, dense ? Number(upTo) : undefined);
        }
      });
    } catch (error) {
      progress.abort();
      throw error;
    }
    const { position } = registry.diagnostics();
    progress.finish(`${differences.length} difference${differences.length === 1 ? '' : 's'}`);
    const { out } = ctx;
    const ok = differences.length === 0;
    if (out.json) {
      out.document({ ok, position, differences });
    } else if (ok) {
      out.line(
        `${out.style.green('ok')}: every read model matches its rebuild from the log (up to position ${position})`,
      );
    } else {
      out.line(
        `${out.style.red(`${differences.length} difference${differences.length === 1 ? '' : 's'}`)} between the live read models and their rebuild from the log (up to position ${position}):`,
      );
      out.lines(
        renderTable(
          [{ header: 'MODEL' }, { header: 'KEY' }, { header: 'LIVE' }, { header: 'REBUILT' }],
          differences.map((d) => [d.model, d.key, summarize(d.live, 60), summarize(d.rebuilt, 60)]),
          {
            headerStyle: out.style.dim,
            indent: '  ',
            ...(out.width ? { maxWidth: out.width } : {}),
          },
        ),
      );
    }
    return ok ? exitCodes.ok : exitCodes.failure;
  },
};
