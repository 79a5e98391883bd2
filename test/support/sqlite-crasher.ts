/**
 * Child process for the crash test: appends 1- and 3-event batches to three streams
 * concurrently (so group commits happen) until it is killed, and prints one line per
 * acknowledged append. Writes to a pipe are synchronous on Linux, so a printed line means
 * the append was acknowledged before the next one started.
 * Usage: node --import tsx sqlite-crasher.ts <file>
 */
import { randomUUID } from 'node:crypto';
import { openSqliteStore } from '../../src/store/sqlite.ts';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: <file>');

// Started ahead of its round: opens the file only when a line arrives on stdin.
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const store = await openSqliteStore(file);
process.stdout.write('ready\n');
await Promise.all(
  ['crash-a', 'crash-b', 'crash-c'].map(async (stream) => {
    let revision = await store.streamRevision(stream);
    for (;;) {
      const size = Math.random() < 0.5 ? 1 : 3;
      const group = randomUUID();
      const pad = 'x'.repeat(Math.floor(Math.random() * 3000));
      const events = Array.from({ length: size }, (_, index) => ({
        id: randomUUID(),
        type: 'Crash',
        data: { group, index, size, pad },
        metadata: { stream },
      }));
      const result = await store.appendToStream(stream, events, {
        expectedRevision: revision === -1 ? 'no_stream' : revision,
      });
      revision = result.nextRevision;
      const ack = { stream, ids: events.map((e) => e.id), nextRevision: revision };
      process.stdout.write(`${JSON.stringify(ack)}\n`);
    }
  }),
);
