import type { LogDigest } from '../../domain/integrity.ts';
import type { CommandContext } from '../context.ts';
import { exitCodes, usageError } from '../errors.ts';
import { renderTable } from '../table.ts';

/** `<digest>@<position>`, as `procreg digest` prints it. */
export const formatDigest = (digest: LogDigest): string => `${digest.digest}@${digest.position}`;

const parseDigest = (text: string): LogDigest => {
  const match = /^([0-9a-f]{64})@(\d+)$/.exec(text.trim());
  if (!match) {
    throw usageError(
      `--against takes a digest as \`procreg digest\` prints it (<64 hex digits>@<position>), not \`${text}\``,
    );
  }
  return { digest: match[1]!, position: BigInt(match[2]!) };
};

/**
 * `procreg verify --integrity`: the library's verifyIntegrity, printed. Exit 1 on any
 * problem; an unchained prefix (events written before procreg hashed them) is said, not
 * counted as a problem.
 */
export const verifyIntegrity = async (ctx: CommandContext): Promise<number> => {
  const against = ctx.flags.against === undefined ? undefined : parseDigest(ctx.flags.against);
  const registry = await ctx.open(ctx.storeUrl, 'read');
  const progress = ctx.progress('verify', 'events');
  progress.update('checking the log against its hashes');
  let report: Awaited<ReturnType<typeof registry.verifyIntegrity>>;
  try {
    report = await registry.verifyIntegrity({
      ...(against ? { against } : {}),
      onProgress: ({ checked, head }) => progress.update('checking hashes', checked, Number(head)),
    });
  } catch (error) {
    progress.abort();
    throw error;
  }
  const { problems, unchained } = report;
  progress.finish(`${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  const { out } = ctx;
  if (out.json) {
    out.document(report);
    return report.ok ? exitCodes.ok : exitCodes.failure;
  }
  const upTo = `${report.checked} events, up to position ${report.digest.position}`;
  if (report.ok) {
    out.line(
      `${out.style.green('ok')}: every event matches its hash and its stream's chain (${upTo})${against ? `, and the log up to position ${against.position} still hashes to the kept digest` : ''}`,
    );
  } else {
    out.line(
      `${out.style.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}`)} in the log (${upTo}):`,
    );
    out.lines(
      renderTable(
        [{ header: 'POSITION' }, { header: 'KIND' }, { header: 'STREAM' }, { header: 'REVISION' }],
        problems.map((p) => [
          String(p.position),
          p.kind,
          p.stream ?? '?',
          p.revision === null ? '?' : String(p.revision),
        ]),
        { headerStyle: out.style.dim, indent: '  ', ...(out.width ? { maxWidth: out.width } : {}) },
      ),
    );
  }
  if (unchained.events > 0) {
    out.line(
      `${out.style.yellow('unchained')}: the first ${unchained.events} events (through position ${unchained.through}) were written before procreg hashed events; their content cannot be proven`,
    );
  }
  out.line(`digest: ${formatDigest(report.digest)}`);
  return report.ok ? exitCodes.ok : exitCodes.failure;
};
