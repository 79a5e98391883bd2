/**
 * Child process for failure modes that need a restricted process (dropped capabilities, a
 * file size limit): it reports each step's outcome as one JSON line.
 * Usage: node --import tsx sqlite-probe.ts append-once <file>   open, read, append one event
 *        node --import tsx sqlite-probe.ts fill <file>          append 3-event batches until one fails
 */
import { randomUUID } from 'node:crypto';
import { isRegistryError } from '../../src/domain/errors.ts';
import type { EventStore } from '../../src/store/port.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';

const [mode, file] = process.argv.slice(2);
if (!file || (mode !== 'append-once' && mode !== 'fill')) throw new Error('usage: <mode> <file>');

const report = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const failure = (error: unknown) =>
  isRegistryError(error)
    ? { code: error.code, message: error.message }
    : { code: 'unexpected', message: String(error) };

const step = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
  try {
    const value = await run();
    report({ step: name, ok: true, value });
    return value;
  } catch (error) {
    report({ step: name, ok: false, error: failure(error) });
    return undefined;
  }
};

const event = (data: Record<string, string | number>) => ({
  id: randomUUID(),
  type: 'Probe',
  data,
  metadata: {},
});

const store = await step('open', async () => openSqliteStore(file));
if (store) await (mode === 'fill' ? fill(store) : appendOnce(store));

async function appendOnce(opened: EventStore): Promise<void> {
  await step('read', async () => (await opened.readStream('probe')).length);
  await step(
    'append',
    async () =>
      (await opened.appendToStream('probe', [event({})], { expectedRevision: 'any' })).nextRevision,
  );
}

async function fill(opened: EventStore): Promise<void> {
  let revision = await opened.streamRevision('fill');
  for (;;) {
    const group = randomUUID();
    const events = [0, 1, 2].map((index) => event({ group, index, pad: 'x'.repeat(4000) }));
    try {
      const result = await opened.appendToStream('fill', events, {
        expectedRevision: revision === -1 ? 'no_stream' : revision,
      });
      revision = result.nextRevision;
      report({ step: 'ack', group, ids: events.map((e) => e.id) });
    } catch (error) {
      report({ step: 'append', ok: false, error: failure(error) });
      return;
    }
  }
}
