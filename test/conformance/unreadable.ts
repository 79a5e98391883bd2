import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
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
 * `p1`'s last event. Returns true when the store kept it, else checks that the refusal
 * stored nothing and the registry reads on as before.
 */
const poison = async (ctx: ConformanceContext): Promise<boolean> => {
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
  if (stored === true) return true;
  // refused at the port: nothing stored, and the registry reads on as before
  expect(stored).toMatchObject({ name: 'RegistryError', code: 'unavailable' });
  expect((await ctx.log()).map((e) => e.id)).toEqual(before.map((e) => e.id));
  expect((await r.eventsAfter('p1', 0)).map((e) => e.sequence)).toEqual([1]);
  return false;
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
    const logged = (await ctx.log()).length;
    await expect(
      r.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'two' } }),
    ).rejects.toMatchObject({ code: 'unavailable' });
    expect((await ctx.log()).length).toBe(logged);
  });

  it('fails an export that meets an unreadable stored event with unavailable naming it', async () => {
    if (!(await poison(ctx))) return;
    const exported = async () => {
      for await (const _ of ctx.registry.exportEvents());
    };
    await expect(exported()).rejects.toMatchObject(named);
  });
};
