import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/index.ts';
import type { ConformanceContext } from '../support/harness.ts';
import { registration } from './fixtures.ts';

/**
 * docs/SPEC.md "Unreadable stored events": an event this release cannot read (here an
 * unknown type, as a newer release would write) is never skipped: every query, command,
 * history and export that needs it fails `unavailable` naming its stream, revision and type.
 * A store that projects inline (memory) refuses such a write at its port instead; either
 * way nothing reads past it.
 */
/**
 * Writes, through a connection of its own, an event of a type procreg does not know after
 * `p1`'s last event (its process event `one`, revision 1). Returns that event's history entry
 * when the store kept the new one (at revision 2), else checks that the refusal stored
 * nothing and the registry reads on as before.
 */
const poison = async (ctx: ConformanceContext): Promise<HistoryEntry | undefined> => {
  const r = ctx.registry;
  await r.registerProcess(registration('p1'));
  await r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'one' } });
  const last = (await r.history('p1')).at(-1)!;
  const before = await ctx.log();
  const raw = await ctx.connect();
  const metadata = { ...last.metadata, hash: undefined, prevHash: undefined };
  let stored: unknown;
  try {
    stored = await raw
      .appendToStream(
        'process-p1',
        [
          {
            id: randomUUID(),
            type: 'FutureEvent',
            data: { from: 'the future' },
            metadata,
          } as never,
        ],
        { expectedRevision: last.revision },
      )
      .then(
        () => true,
        (e: unknown) => e,
      );
  } finally {
    await raw.close();
  }
  if (stored === true) return last;
  // refused at the port: nothing stored, and the registry reads on as before
  expect(stored).toMatchObject({ name: 'RegistryError', code: 'unavailable' });
  expect((await ctx.log()).map((e) => e.id)).toEqual(before.map((e) => e.id));
  expect((await r.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1]);
  return undefined;
};

const named = {
  name: 'RegistryError',
  code: 'unavailable',
  message: expect.stringMatching(/stream process-p1, revision 2, type FutureEvent/),
};

export const unreadableRules = (ctx: ConformanceContext): void => {
  it('fails what needs an unreadable stored event with unavailable naming it, or refuses to store it', async () => {
    if (!(await poison(ctx))) return;
    const r = ctx.registry;
    await expect(r.getProcess('p1')).rejects.toMatchObject(named);
    await expect(r.eventsAfter('p1', 0)).rejects.toMatchObject(named);
    await expect(r.history('p1')).rejects.toMatchObject(named);
    // a waiter cannot see past it either: it fails too, rather than waiting in vain
    await expect(
      r.waitEventAfter('p1', 'producer.line', 1, { timeoutMs: 10_000 }),
    ).rejects.toMatchObject(named);
    const logged = (await ctx.log()).length;
    await expect(
      r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'two' } }),
    ).rejects.toMatchObject({ code: 'unavailable' });
    expect((await ctx.log()).length).toBe(logged);
  });

  it('resumes by itself once the unreadable event is repaired in the store', async () => {
    const one = await poison(ctx);
    if (!one) return;
    const r = ctx.registry;
    await expect(r.eventsAfter('p1', 0)).rejects.toMatchObject(named);
    // repaired (what an upgrade achieves): the same place holds process event 2, readable
    const data = structuredClone(one.data) as {
      event: { sequence: number; invocation: { subject: { sequence: number } } };
    };
    data.event.sequence = 2;
    data.event.invocation.subject.sequence = 2;
    const metadata = { ...one.metadata, hash: undefined, prevHash: undefined };
    const event = { type: one.type, data, metadata };
    if (!(await ctx.rewrite('process-p1', 2, event))) return; // a store that cannot rewrite
    // a waiter taken first thing after the repair, before any query caught the models up
    const woken = r.waitEventAfter('p1', 'producer.line', 2, { timeoutMs: 10_000 });
    expect((await r.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2]);
    const three = await r.appendEvent('p1', { eventType: 'producer.line', payload: { text: '3' } });
    expect(three.event.sequence).toBe(3);
    expect((await woken).sequence).toBe(3);
    const history = await r.history('p1');
    expect(history.map((h) => h.revision)).toEqual([0, 1, 2, 3]);
    // time travel too: as of the repaired event (the versions, where a store keeps them)
    const view = r.asOf({ position: history[2]!.position });
    expect((await view.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2]);
    expect((await view.listProcesses()).records.map((p) => p.id)).toEqual(['p1']);
    expect(await r.verifyProjections()).toEqual([]);
    await expect.poll(() => r.diagnostics().liveFeedError).toBeUndefined();
    // and another instance, opened now, reads all of it
    const other = await ctx.open();
    expect((await other.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1, 2, 3]);
  });

  it('fails an export that meets an unreadable stored event with unavailable naming it', async () => {
    if (!(await poison(ctx))) return;
    const exported = async () => {
      for await (const _ of ctx.registry.exportEvents());
    };
    await expect(exported()).rejects.toMatchObject(named);
  });
};
