import { describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import type { StoredEvent } from '../src/store/port.ts';
import { registration } from './conformance/fixtures.ts';

/**
 * Tamper evidence on a memory store, which records the digest after each position as
 * SQLite does (store/memory-digests.ts): single changes made to the log behind procreg's
 * back, each reported at its exact position, including the one no stream chain shows (the
 * last event of a stream gone).
 */

/** The store's own log and its set of removed events (positions are 1-based indexes). */
interface Insides {
  log: StoredEvent[];
  removed: WeakSet<StoredEvent>;
}

const PROCESSES = 12;
const LINES = 20;

/** A fresh store of registrations and lines, and a registry on it. */
const seeded = async () => {
  const store = new MemoryEventStore();
  const registry = await openRegistry(store);
  for (let p = 0; p < PROCESSES; p++) await registry.registerProcess(registration(`job-${p}`));
  for (let round = 0; round < 4; round++) {
    for (let p = 0; p < PROCESSES; p++) {
      await registry.appendEvents(
        `job-${p}`,
        Array.from({ length: LINES / 4 }, (_, i) => ({
          eventType: 'producer.line',
          payload: { text: `line ${round * 5 + i} of job ${p}` },
        })),
      );
    }
  }
  const { log, removed } = store as unknown as Insides;
  return { registry, log, removed };
};

const at = (event: StoredEvent, kind: string, named = true) => ({
  position: event.position,
  stream: named ? event.stream : null,
  revision: named ? event.revision : null,
  kind,
});

describe('verifyIntegrity on a memory store that records a digest per position', () => {
  it('an untouched log verifies ok', async () => {
    const { registry, log } = await seeded();
    expect(await registry.verifyIntegrity()).toMatchObject({
      ok: true,
      checked: log.length,
      problems: [],
    });
  });

  it('reports the last event of a stream removed as missing, at its position', async () => {
    const { registry, log, removed } = await seeded();
    const last = log.filter((e) => e.stream === 'process-job-4').at(-1)!;
    removed.add(last);
    expect((await registry.verifyIntegrity()).problems).toEqual([at(last, 'missing', false)]);
  });

  it('reports an event removed mid-stream as missing, at its own position', async () => {
    const { registry, log, removed } = await seeded();
    const gone = log.filter((e) => e.stream === 'process-job-7')[3]!;
    removed.add(gone);
    expect((await registry.verifyIntegrity()).problems).toEqual([at(gone, 'missing')]);
  });

  it('reports changed data as altered, at its position', async () => {
    const { registry, log } = await seeded();
    const i = 100;
    const event = log[i]!;
    log[i] = { ...event, data: { ...(event.data as object), changed: true } };
    expect((await registry.verifyIntegrity()).problems).toEqual([at(event, 'altered')]);
  });

  it('reports two events of different streams swapped as reordered, at both positions', async () => {
    const { registry, log } = await seeded();
    const [i, j] = [40, 150];
    const [first, second] = [log[i]!, log[j]!];
    expect(first.stream).not.toBe(second.stream);
    log[i] = { ...second, position: first.position };
    log[j] = { ...first, position: second.position };
    expect((await registry.verifyIntegrity()).problems).toEqual([
      { ...at(second, 'reordered'), position: first.position },
      { ...at(first, 'reordered'), position: second.position },
    ]);
  });
});
