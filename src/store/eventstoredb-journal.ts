import { randomUUID } from 'node:crypto';
import type { Json } from '../domain/json.ts';
import {
  JOURNAL_KEEP_PER_PROCESS,
  type RefusedCommand,
  RefusedCommandSchema,
} from '../domain/refusal.ts';
import type { EventStore, RefusalJournal } from './port.ts';

/**
 * Each process's refusals live in a stream of their own, `refused-<processId>`, outside the
 * `process-` prefix that the projections, history, asOf and export read: writing one
 * changes no process stream and no read model (its `$all` position is skipped by every
 * reader of the registry's log). Reads return the latest `keep` entries; `drop` deletes the
 * stream (retention, when the process's own stream is removed).
 */
export const JOURNAL_STREAM_PREFIX = 'refused-';
export const REFUSED_EVENT_TYPE = 'CommandRefused';

export class StreamJournal implements RefusalJournal {
  /** streams this instance has set `$maxCount` on (or tried to) */
  private readonly bounded = new Set<string>();

  constructor(
    private readonly store: Pick<EventStore, 'appendToStream' | 'readStream'>,
    private readonly server: {
      deleteStream: (stream: string) => Promise<void>;
      setMaxCount: (stream: string, maxCount: number) => Promise<void>;
    },
    private readonly keep = JOURNAL_KEEP_PER_PROCESS,
  ) {}

  async record(entries: readonly RefusedCommand[]): Promise<void> {
    const byProcess = new Map<string, RefusedCommand[]>();
    for (const entry of entries) {
      byProcess.set(entry.processId, [...(byProcess.get(entry.processId) ?? []), entry]);
    }
    for (const [processId, list] of byProcess) {
      const stream = `${JOURNAL_STREAM_PREFIX}${processId}`;
      if (!this.bounded.has(stream)) {
        this.bounded.add(stream);
        await this.server.setMaxCount(stream, this.keep).catch(() => {});
      }
      await this.store.appendToStream(
        stream,
        list.map((entry) => ({
          id: randomUUID(),
          type: REFUSED_EVENT_TYPE,
          data: { ...entry } as Json,
          metadata: {},
        })),
        { expectedRevision: 'any' },
      );
    }
  }

  async read(processId: string): Promise<RefusedCommand[]> {
    const latest = await this.store.readStream(`${JOURNAL_STREAM_PREFIX}${processId}`, {
      direction: 'backwards',
      maxCount: this.keep,
    });
    return latest.reverse().map((stored) => RefusedCommandSchema.parse(stored.data));
  }

  async drop(processIds: readonly string[]): Promise<void> {
    for (const id of processIds) await this.server.deleteStream(`${JOURNAL_STREAM_PREFIX}${id}`);
  }
}
