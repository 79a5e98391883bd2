import type { RecordedDomainEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { type DomainEvent, streamOf } from '../domain/events.ts';
import { toExportLine } from '../domain/export-line.ts';
import { type ReplayStep, replaySteps } from '../domain/replay.ts';
import type { HistoryEntry } from '../queries/history.ts';

type PointInput = number | { timeMs: number } | { position: bigint | number };

/** What the remote registry reads for replay and cases: history and asOf positions. */
export interface LogReads {
  history(processId: string): Promise<HistoryEntry[]>;
  asOf(at: PointInput): { position(): Promise<bigint> };
}

/**
 * The remote registry's `replay` and `extractCase`, computed on the client from `history`
 * (every entry carries type, data, metadata, revision, position and event id) with the same
 * pure fold (`domain/replay.ts`) and export-line format as the registry's.
 */
const entriesUpTo = async (
  reads: LogReads,
  processId: string,
  until: PointInput | undefined,
): Promise<HistoryEntry[]> => {
  const upTo = until === undefined ? undefined : await reads.asOf(until).position();
  const entries = (await reads.history(processId)).filter(
    (e) => upTo === undefined || e.position <= upTo,
  );
  if (entries.length > 0) return entries;
  throw new RegistryError(
    'not_found',
    `process \`${processId}\` did not exist as of position ${upTo}; pick a later point`,
  );
};

const recordedOf = (processId: string, entry: HistoryEntry): RecordedDomainEvent => ({
  event: { type: entry.type, data: entry.data } as DomainEvent,
  metadata: entry.metadata,
  stream: streamOf(processId),
  revision: entry.revision,
  position: entry.position,
  eventId: entry.eventId,
});

export const replayOver = async (
  reads: LogReads,
  processId: string,
  until?: PointInput,
): Promise<ReplayStep[]> =>
  replaySteps((await entriesUpTo(reads, processId, until)).map((e) => recordedOf(processId, e)));

export const caseOver = async (
  reads: LogReads,
  processId: string,
  until?: PointInput,
): Promise<string[]> =>
  (await entriesUpTo(reads, processId, until)).map((e) => {
    const line = toExportLine({
      id: e.eventId,
      stream: streamOf(processId),
      revision: e.revision,
      position: e.position,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
    });
    return `${JSON.stringify(line)}\n`;
  });
