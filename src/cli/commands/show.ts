import type { ProcessLease } from '../../index.ts';
import { parseCount } from '../args.ts';
import { type CommandContext, type CommandDef, positionalArgs } from '../context.ts';
import { outcomeText, scopeText, stateStyle, stateText, summarize } from '../describe.ts';
import { renderFields, renderTable } from '../table.ts';
import { formatAbsolute, formatRelative, formatWhen } from '../times.ts';
import { pointJson, pointText, type ReadView, requireProcess, type ViewPoint } from '../view.ts';
import { eventColumns, eventRows } from './events.ts';

const DEFAULT_LAST = 10;

const leaseText = (lease: ProcessLease | undefined, at: number, now: number): string => {
  if (!lease) return 'none';
  const live = lease.expiresAtMs > at;
  const expiry = `${live ? 'expires' : 'expired'} ${formatAbsolute(lease.expiresAtMs)} (${formatRelative(lease.expiresAtMs, now)})`;
  return `${lease.ownerId}, fencing ${lease.fencingToken}, ${expiry}`;
};

/** One process: its record, grants, lease and last events, as a view shows them. */
export const showView = async (
  ctx: CommandContext,
  view: ReadView,
  processId: string,
  at?: ViewPoint,
): Promise<number> => {
  const last = parseCount(ctx.flags.last, '--last', DEFAULT_LAST);
  const record = await requireProcess(ctx, view, processId, at);
  const [grants, lease, eventCount] = await Promise.all([
    view.handleGrantsForProcess(record.id),
    view.getProcessLease(record.id),
    view.countEvents(record.id),
  ]);
  // only the tail is read: sequences are dense, so the last n follow count - n
  const lastEvents =
    last === 0
      ? []
      : (await view.eventsAfter(record.id, Math.max(0, eventCount - last))).slice(-last);
  const { out } = ctx;
  if (out.json) {
    out.document({
      ...(at ? { at: pointJson(at.point) } : {}),
      process: record,
      grants,
      lease: lease ?? null,
      eventCount,
      lastEvents,
    });
    return 0;
  }
  const now = ctx.now();
  const { style } = out;
  if (at) out.line(style.dim(`as of ${pointText(at.point, now)}`));
  out.line(`${style.bold(record.id)}  ${stateStyle(record, style)(stateText(record))}`);
  const { provenance, status } = record;
  const { type: _type, ...input } = record.input;
  const fields: [string, string][] = [
    ['type', record.input.type],
    ['input', Object.keys(input).length === 0 ? '-' : summarize(input, 100)],
    ['owner', `${scopeText(provenance.ownerScope)} (host ${provenance.hostProfileId})`],
  ];
  if (provenance.causedBy !== undefined) fields.push(['caused by', summarize(provenance.causedBy)]);
  if (record.externalRef) {
    fields.push(['external', `${record.externalRef.id} (${record.externalRef.backend})`]);
  }
  fields.push(['created', formatWhen(record.createdAtMs, now)]);
  fields.push(['updated', formatWhen(record.updatedAtMs, now)]);
  if (status.state !== 'running') fields.push(['outcome', outcomeText(status.awaitOutput, 100)]);
  fields.push(['lease', leaseText(lease, at?.timeMs ?? now, now)]);
  const declared = record.eventTypes.map((t) => t.name).filter((n) => !n.startsWith('process.'));
  if (declared.length > 0) fields.push(['event types', declared.join(', ')]);
  out.lines(renderFields(fields, { keyStyle: style.dim, indent: '  ' }));
  const maxWidth = out.width ? { maxWidth: out.width } : {};
  out.line();
  out.line(style.bold(`grants (${grants.length})`));
  if (grants.length > 0) {
    out.lines(
      renderTable(
        [{ header: 'SCOPE' }, { header: 'KIND' }, { header: 'LABEL' }, { header: 'GRANTED' }],
        grants.map((g) => [
          g.scopeId,
          g.descriptor.kind ?? '-',
          g.descriptor.label ?? '-',
          formatWhen(g.grantedAtMs, now),
        ]),
        { headerStyle: style.dim, indent: '  ', ...maxWidth },
      ),
    );
  }
  out.line();
  const shown = lastEvents.length < eventCount ? `last ${lastEvents.length} of ` : '';
  out.line(style.bold(`events (${shown}${eventCount})`));
  if (lastEvents.length > 0) {
    out.lines(
      renderTable(eventColumns, eventRows(lastEvents, style), {
        headerStyle: style.dim,
        indent: '  ',
        ...maxWidth,
      }),
    );
  }
  return 0;
};

export const showCommand: CommandDef = {
  name: 'show',
  usage: 'show <id> [--last <n>]',
  summary: 'one process: record, grants, lease and its last events',
  flags: ['last'],
  examples: ['procreg show demo:job:reindex-7', 'procreg show demo:tool:grep-1 --json'],
  run: async (ctx) => {
    const [id] = positionalArgs(ctx, ['<id>'], showCommand.usage);
    return showView(ctx, await ctx.open(ctx.storeUrl, 'read'), id!);
  },
};
