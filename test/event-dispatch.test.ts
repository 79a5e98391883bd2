import { describe, expect, it } from 'vitest';
import type { RecordedDomainEvent } from '../src/domain/codec.ts';
import { EventDispatch, type Sink } from '../src/projections/event-dispatch.ts';

const applied = (processId: string, position: number) =>
  ({ stream: `process-${processId}`, position: BigInt(position) }) as RecordedDomainEvent;

const recorder = (log: string[], name: string, onNext?: () => void): Sink => ({
  next: (event) => {
    log.push(`${name}@${event.position}`);
    onNext?.();
  },
  complete: () => log.push(`${name}:end`),
});

describe('EventDispatch', () => {
  it("delivers an event to its own process's listeners and the global ones only", () => {
    const dispatch = new EventDispatch();
    const log: string[] = [];
    dispatch.subscribe('a', recorder(log, 'a1'));
    dispatch.subscribe('a', recorder(log, 'a2'));
    dispatch.subscribe('b', recorder(log, 'b1'));
    dispatch.subscribeAll(recorder(log, 'all'));
    dispatch.publish(applied('a', 1));
    dispatch.publish(applied('c', 2));
    dispatch.publish(applied('b', 3));
    expect(log).toEqual(['a1@1', 'a2@1', 'all@1', 'all@2', 'b1@3', 'all@3']);
    expect(dispatch.counts).toEqual({ processListeners: 3, globalListeners: 1, processes: 2 });
  });

  it('skips listeners unsubscribed during a delivery and does not tell ones subscribed during it', () => {
    const dispatch = new EventDispatch();
    const log: string[] = [];
    let second: { unsubscribe(): void } | undefined;
    const first = dispatch.subscribe(
      'p',
      recorder(log, 'first', () => {
        first.unsubscribe();
        second?.unsubscribe();
        dispatch.subscribe('p', recorder(log, 'late'));
      }),
    );
    second = dispatch.subscribe('p', recorder(log, 'second'));
    const third = dispatch.subscribe('p', recorder(log, 'third'));
    dispatch.publish(applied('p', 1));
    expect(log).toEqual(['first@1', 'third@1']);
    third.unsubscribe();
    third.unsubscribe();
    expect(dispatch.counts).toEqual({ processListeners: 1, globalListeners: 0, processes: 1 });
    dispatch.publish(applied('p', 2));
    expect(log.at(-1)).toBe('late@2');
  });

  it('forgets a process once its last listener leaves, and completes everyone on close', () => {
    const dispatch = new EventDispatch();
    const log: string[] = [];
    const handles = Array.from({ length: 1_000 }, (_, i) =>
      dispatch.subscribe(`p${i}`, recorder(log, `p${i}`)),
    );
    for (const handle of handles.slice(0, 998)) handle.unsubscribe();
    expect(dispatch.counts).toEqual({ processListeners: 2, globalListeners: 0, processes: 2 });
    dispatch.subscribeAll(recorder(log, 'all'));
    dispatch.close();
    expect(log.sort()).toEqual(['all:end', 'p998:end', 'p999:end']);
    expect(dispatch.counts).toEqual({ processListeners: 0, globalListeners: 0, processes: 0 });
    dispatch.subscribe('p1', recorder(log, 'after'));
    expect(log.at(-1)).toBe('after:end');
    expect(dispatch.listenerCount).toBe(0);
  });
});
