import { describe, expect, it } from 'vitest';
import type { RecordedPrune } from '../src/domain/retention.ts';
import { incarnationBase, PrunedStreams } from '../src/store/eventstoredb-incarnations.ts';
import type { StoredEvent } from '../src/store/port.ts';

const event = (stream: string, revision: number, position: bigint): StoredEvent => ({
  id: `${stream}-${revision}`,
  stream,
  revision,
  position,
  type: 'ProcessRegistered',
  data: null,
  metadata: null,
});

const prune = (position: bigint, streams: string[]): RecordedPrune => ({
  position,
  metadata: {
    eventVersion: 1,
    command: 'pruneTerminalProcesses',
    commandId: 'c',
    recordedAtMs: 0,
    actor: null,
    correlationId: null,
    causationId: null,
  } as RecordedPrune['metadata'],
  event: {
    type: 'ProcessesPruned',
    data: {
      pruneId: `p${position}`,
      terminalBeforeMs: 0,
      archive: '/a',
      manifestSha256: '0'.repeat(64),
      atMs: 0,
      processes: streams.map((stream) => ({
        processId: stream.slice('process-'.length),
        stream,
        // a position this log never had (an imported record): it must not matter
        lastRevision: 99,
        lastPosition: '999999',
        file: 'f',
        sha256: '0'.repeat(64),
        events: 100,
      })),
    },
  },
});

describe('where an incarnation of an EventStoreDB stream starts', () => {
  it.each([
    // given the $tb values the stream's metadata held, when an event has this revision
    { starts: [], revision: 5, base: 0 },
    { starts: [3], revision: 2, base: 0 },
    { starts: [3], revision: 3, base: 3 },
    { starts: [3, 7], revision: 6, base: 3 },
    { starts: [3, 7], revision: 9, base: 7 },
  ])('starts $starts, revision $revision → base $base', ({ starts, revision, base }) => {
    expect(incarnationBase(starts, revision)).toBe(base);
  });
});

describe('which $all events a prune took', () => {
  it('hides a named stream before the last record naming it, rebases it after, by the records’ own positions, whatever order they are learnt in', () => {
    // given records at positions 10 (naming a) and 20 (naming a and b), learnt in any order
    const named: string[] = [];
    const index = new PrunedStreams((s) => named.push(s));
    index.add(prune(20n, ['process-a', 'process-b']));
    index.add(prune(10n, ['process-a']));
    index.add(prune(20n, ['process-c'])); // a record applies once
    // then
    const table: [StoredEvent, string][] = [
      [event('process-a', 0, 5n), 'hidden'],
      [event('process-a', 4, 15n), 'hidden'],
      [event('process-a', 9, 25n), 'rebase'],
      [event('process-b', 0, 19n), 'hidden'],
      [event('process-b', 1, 21n), 'rebase'],
      [event('process-c', 0, 1n), 'as-is'],
      [event('process-d', 0, 30n), 'as-is'],
    ];
    for (const [e, kind] of table)
      expect([e.stream, e.position, index.classify(e)]).toEqual([e.stream, e.position, kind]);
    expect(named).toEqual(['process-a', 'process-b', 'process-a']);
  });
});
