import type { Page, ProcessFilter, ProcessList, ProcessRecord } from '../../index.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { scopeText, stateStyle, stateText } from '../describe.ts';
import { usageError } from '../errors.ts';
import { renderTable } from '../table.ts';
import { formatAbsolute, formatRelative, parseTime } from '../times.ts';
import { pointJson, pointText, type ReadView, type ViewPoint } from '../view.ts';

const statuses = ['running', 'completed', 'failed', 'cancelled', 'terminal'] as const;

/** The filter the flags ask for: running only unless `--all` or `--status`. */
const filterOf = (ctx: CommandContext): ProcessFilter => {
  const { flags } = ctx;
  const filter: ProcessFilter = {};
  if (flags.status !== undefined) {
    const status = statuses.find((s) => s === flags.status);
    if (!status) {
      throw usageError(`--status takes one of ${statuses.join(', ')}, not \`${flags.status}\``);
    }
    filter.status = status;
  } else if (flags.all !== true) filter.status = 'running';
  if (flags.type !== undefined) {
    if (flags.type.length !== 1) throw usageError('ls --type takes one input type');
    filter.inputType = flags.type[0]!;
  }
  const now = ctx.now();
  if (flags.since !== undefined) filter.createdFromMs = parseTime(flags.since, now, '--since');
  if (flags.until !== undefined) filter.createdToMs = parseTime(flags.until, now, '--until');
  return filter;
};

const pageOf = (ctx: CommandContext): Page => {
  const { limit, cursor } = ctx.flags;
  const page: Page = {};
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw usageError(`--limit takes a whole number from 1 to 1000, not \`${limit}\``);
    }
    page.limit = n;
  }
  if (cursor !== undefined) page.cursor = cursor;
  return page;
};

/**
 * `--session <id>`: the processes a session has a stake in, owned by it (provenance owner
 * scope) or granted to any of its scopes. Two indexed listings in the same order, merged:
 * the page is the first `limit` of their union, and its last record is where both resume.
 */
const sessionPage = async (
  view: ReadView,
  filter: ProcessFilter,
  page: Page,
  session: string,
): Promise<ProcessList> => {
  // loaded here, not at the top: `procreg help` loads every command and no dependency
  const { byListOrder, DEFAULT_PAGE_LIMIT, listCursor } = await import(
    '../../domain/process-list.ts'
  );
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  const [owned, granted] = await Promise.all([
    view.listProcesses({ ...filter, ownerSessionId: session }, page),
    view.listProcesses({ ...filter, grantedSessionId: session }, page),
  ]);
  const byId = new Map<string, ProcessRecord>();
  for (const r of [...owned.records, ...granted.records]) byId.set(r.id, r);
  const merged = [...byId.values()].sort(byListOrder);
  const records = merged.slice(0, limit);
  const more =
    merged.length > limit || owned.nextCursor !== undefined || granted.nextCursor !== undefined;
  // a cursor is a place in list order, whatever the filter: both listings resume there
  return more && records.length > 0
    ? { records, nextCursor: listCursor(records.at(-1)!) }
    : { records };
};

/** A page of processes of a view (see the flags); `--json` carries `nextCursor`. */
export const listView = async (
  ctx: CommandContext,
  view: ReadView,
  at?: ViewPoint,
): Promise<number> => {
  const filter = filterOf(ctx);
  const page = pageOf(ctx);
  const session = ctx.flags.session;
  const { records, nextCursor } =
    session === undefined
      ? await view.listProcesses(filter, page)
      : await sessionPage(view, filter, page, session);
  const { out } = ctx;
  if (out.json) {
    out.document({
      ...(at ? { at: pointJson(at.point) } : {}),
      processes: records,
      ...(nextCursor ? { nextCursor } : {}),
    });
    return 0;
  }
  const now = ctx.now();
  if (at) out.line(out.style.dim(`as of ${pointText(at.point, now)}`));
  if (records.length === 0) {
    const which = filter.status === undefined ? 'processes' : `${filter.status} processes`;
    const where = session === undefined ? '' : ` in session ${session}`;
    const hint = filter.status === 'running' && ctx.flags.status === undefined;
    out.line(`no ${which}${where}${hint ? ' (--all includes finished ones)' : ''}`);
    return 0;
  }
  const rows = records.map((r) => [
    r.id,
    { text: stateText(r), style: stateStyle(r, out.style) },
    r.input.type,
    scopeText(r.provenance.ownerScope),
    formatAbsolute(r.createdAtMs),
    formatRelative(r.updatedAtMs, now),
  ]);
  out.lines(
    renderTable(
      [
        { header: 'ID' },
        { header: 'STATE' },
        { header: 'TYPE' },
        { header: 'OWNER' },
        { header: 'CREATED' },
        { header: 'UPDATED' },
      ],
      rows,
      { headerStyle: out.style.bold, ...(out.width ? { maxWidth: out.width } : {}) },
    ),
  );
  if (nextCursor) out.line(out.style.dim(`more: add --cursor ${nextCursor}`));
  return 0;
};

export const lsCommand: CommandDef = {
  name: 'ls',
  usage:
    'ls [--all | --status <state>] [--session <id>] [--type <input type>] [--since <time>] [--until <time>] [--limit <n>] [--cursor <c>]',
  summary: 'list processes, oldest first, a page at a time (default: running ones)',
  flags: ['all', 'status', 'session', 'type', 'since', 'until', 'limit', 'cursor'],
  examples: [
    'procreg ls',
    'procreg ls --all --session demo-session',
    'procreg ls --status failed --since -1h',
    'procreg ls --json --limit 1000',
  ],
  run: async (ctx) => {
    positionalArgs(ctx, [], lsCommand.usage);
    return listView(ctx, await ctx.open(ctx.storeUrl, 'read'));
  },
};
