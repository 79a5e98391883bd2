import type { ProcessRecord } from '../../index.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { scopeText, stateStyle, stateText } from '../describe.ts';
import { renderTable } from '../table.ts';
import { formatAbsolute, formatRelative } from '../times.ts';
import { pointJson, pointText, type ReadView, type ViewPoint } from '../view.ts';

/**
 * Processes of a view, running only unless `--all`. `--session <id>` keeps the processes
 * a session has a stake in: owned by it (provenance owner scope) or granted to any of its
 * scopes (frames included).
 */
export const listView = async (
  ctx: CommandContext,
  view: ReadView,
  at?: ViewPoint,
): Promise<number> => {
  const all = ctx.flags.all === true;
  let records = all ? await view.listProcesses() : await view.listNonTerminal();
  const session = ctx.flags.session;
  if (session !== undefined) {
    const kept: ProcessRecord[] = [];
    for (const record of records) {
      if (record.provenance.ownerScope.sessionId === session) kept.push(record);
      else if (
        (await view.handleGrantsForProcess(record.id)).some((g) => g.sessionId === session)
      ) {
        kept.push(record);
      }
    }
    records = kept;
  }
  const { out } = ctx;
  if (out.json) {
    out.document({ ...(at ? { at: pointJson(at.point) } : {}), processes: records });
    return 0;
  }
  const now = ctx.now();
  if (at) out.line(out.style.dim(`as of ${pointText(at.point, now)}`));
  if (records.length === 0) {
    const which = all ? 'processes' : 'running processes';
    const where = session === undefined ? '' : ` in session ${session}`;
    out.line(`no ${which}${where}${all ? '' : ' (--all includes finished ones)'}`);
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
  return 0;
};

export const lsCommand: CommandDef = {
  name: 'ls',
  usage: 'ls [--all] [--session <id>]',
  summary: 'list running processes (--all: every process)',
  flags: ['all', 'session'],
  examples: ['procreg ls', 'procreg ls --all --session demo-session', 'procreg ls --json'],
  run: async (ctx) => {
    positionalArgs(ctx, [], lsCommand.usage);
    return listView(ctx, await ctx.open(ctx.storeUrl, 'read'));
  },
};
