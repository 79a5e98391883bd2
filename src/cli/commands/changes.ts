import type { ProcessRecord } from '../../index.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { stateStyle, stateText } from '../describe.ts';
import { usageError } from '../errors.ts';
import type { Style } from '../style.ts';
import { formatAbsolute } from '../times.ts';

/** How often `--follow` asks for changes when the last page was empty. */
const FOLLOW_POLL_MS = 250;

const changeLine = (record: ProcessRecord, style: Style): string =>
  [
    formatAbsolute(record.updatedAtMs).padEnd(19),
    style.bold(record.id),
    stateStyle(record, style)(stateText(record)),
    record.input.type,
  ].join('  ');

const limitOf = (ctx: CommandContext): number | undefined => {
  const { limit } = ctx.flags;
  if (limit === undefined) return undefined;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw usageError(`--limit takes a whole number from 1 to 1000, not \`${limit}\``);
  }
  return n;
};

/**
 * The change feed: one page of the processes whose record changed after `--cursor` (all
 * of them from the start without one), each at its latest state, in change order; the
 * cursor to continue from is printed last. `--follow` keeps reading pages as changes come,
 * until Ctrl-C (`--json`: one `{ cursor, record }` line per change).
 */
const run = async (ctx: CommandContext): Promise<number> => {
  positionalArgs(ctx, [], changesCommand.usage);
  const limit = limitOf(ctx);
  const registry = await ctx.open(ctx.storeUrl, 'read');
  const { out } = ctx;
  let cursor = ctx.flags.cursor;
  if (!ctx.flags.follow) {
    const page = await registry.processesChangedSince(cursor, limit);
    if (out.json) out.document(page);
    else {
      for (const record of page.records) out.line(changeLine(record, out.style));
      if (page.records.length === 0) out.line('no changes');
      out.line(out.style.dim(`next: --cursor ${page.nextCursor}`));
    }
    return 0;
  }
  if (!out.json && out.stderr.isTTY)
    out.note(out.errStyle.dim('following changes; Ctrl-C to stop'));
  let stopped = false;
  void ctx.untilInterrupted().then(() => {
    stopped = true;
  });
  while (!stopped) {
    const page = await registry.processesChangedSince(cursor, limit);
    for (const record of page.records) {
      if (out.json) out.record({ cursor: page.nextCursor, record });
      else out.line(changeLine(record, out.style));
    }
    cursor = page.nextCursor;
    if (page.records.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    }
  }
  return 0;
};

export const changesCommand: CommandDef = {
  name: 'changes',
  usage: 'changes [--cursor <c>] [--limit <n>] [--follow]',
  summary: 'processes whose record changed since a cursor, in change order (--follow: live)',
  flags: ['cursor', 'limit', 'follow'],
  details: [
    'Each process appears once per page, at its latest state; pass the printed cursor to continue.',
    '--follow --json prints one { cursor, record } JSON line per change (NDJSON).',
  ],
  examples: [
    'procreg changes',
    'procreg changes --cursor WyJjIiwiNDIiXQ',
    'procreg changes --follow --json',
  ],
  run,
};
