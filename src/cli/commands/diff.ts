import type { ProcessChanges } from '../../index.ts';
import { type CommandDef, positionalArgs } from '../context.ts';
import { exitCodes } from '../errors.ts';
import { renderTable } from '../table.ts';
import { formatAbsolute, parseTimePoint } from '../times.ts';

/** One line per kind of change, in words an auditor reads without the SPEC at hand. */
const describe = (p: ProcessChanges): string[] => {
  const lines: string[] = [];
  if (p.registered) lines.push(`registered ${p.registered.inputType ?? ''}`.trim());
  if (p.events) {
    const { first, last, count } = p.events;
    lines.push(
      `${count} event${count === 1 ? '' : 's'} (#${first}${last > first ? `–#${last}` : ''})`,
    );
  }
  if (p.externalRefSet > 0)
    lines.push(`external ref set${p.externalRefSet > 1 ? ` ×${p.externalRefSet}` : ''}`);
  for (const g of p.grants) {
    lines.push(
      g.kind === 'transferred'
        ? `grant moved ${g.scopeId} → ${g.toScopeId}`
        : `grant ${g.kind} ${g.scopeId}${g.reason && g.reason !== 'revoked' ? ` (${g.reason})` : ''}`,
    );
  }
  for (const l of p.leases) {
    lines.push(
      `lease ${l.kind} by ${l.ownerId} (fencing ${l.fencingToken}) at ${formatAbsolute(l.atMs, { withMs: true })}`,
    );
  }
  if (p.wakesAcked.length > 0) lines.push(`wakes acked #${p.wakesAcked.join(', #')}`);
  if (p.terminal) lines.push(`ended ${p.terminal.state}`);
  if (p.pruned) {
    const { atMs, actor, archive, manifestSha256 } = p.pruned;
    lines.push(
      `pruned at ${formatAbsolute(atMs, { withMs: true })}${actor ? ` by ${actor}` : ''} into ${archive} (manifest sha256 ${manifestSha256.slice(0, 12)}…)`,
    );
  }
  return lines;
};

/**
 * `diff <from> <to>`: what changed between two moments, per process (the library's
 * changesBetween): the question an auditor asks after an incident.
 */
export const diffCommand: CommandDef = {
  name: 'diff',
  usage: 'diff <from> <to>',
  summary: 'what changed between two moments (times or pos:N), per process',
  flags: [],
  details: ['Points as for `at`: ISO times, 14:05, -1h, epoch ms, pos:42, now.'],
  examples: [
    'procreg diff -1h now',
    'procreg diff 14:00 14:05 --json',
    'procreg diff pos:10 pos:40',
  ],
  run: async (ctx) => {
    const [fromText, toText] = positionalArgs(ctx, ['from', 'to'], diffCommand.usage);
    const now = ctx.now();
    const from = parseTimePoint(fromText!, now, 'from');
    const to = parseTimePoint(toText!, now, 'to');
    const registry = await ctx.open(ctx.storeUrl, 'read');
    const changes = await registry.changesBetween(from, to);
    const { out } = ctx;
    if (out.json) {
      out.document(changes);
      return exitCodes.ok;
    }
    const count = changes.processes.length;
    out.line(
      `${count} process${count === 1 ? '' : 'es'} changed between position ${changes.from.position} and ${changes.to.position}`,
    );
    const rows = changes.processes.flatMap((p) =>
      describe(p).map((what, i) => [i === 0 ? p.processId : '', what]),
    );
    if (rows.length > 0) {
      out.lines(
        renderTable([{ header: 'PROCESS' }, { header: 'WHAT CHANGED' }], rows, {
          headerStyle: out.style.dim,
          ...(out.width ? { maxWidth: out.width } : {}),
        }),
      );
    }
    return exitCodes.ok;
  },
};
