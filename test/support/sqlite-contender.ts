/**
 * Child process for the multi-process test: appends `count` events to one stream that
 * other processes append to at the same time, re-reading the revision and backing off
 * with jitter whenever another process got there first. It starts appending when a line
 * arrives on stdin, so that all contenders start at once.
 * Usage: node --import tsx sqlite-contender.ts <file> <child> <count> <stream>
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WrongExpectedRevisionError } from '../../src/store/port.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';

const [file, child, countText, stream] = process.argv.slice(2);
if (!file || !child || !countText || !stream)
  throw new Error('usage: <file> <child> <count> <stream>');
const count = Number(countText);

const store = await openSqliteStore(file, { busyTimeoutMs: 20_000 });
// start together: report ready, wait for the parent's go (a line on stdin)
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
let conflicts = 0;
for (let i = 0; i < count; i++) {
  // one id per event across attempts: a refused attempt stored nothing
  const event = { id: randomUUID(), type: 'Contended', data: { child, i }, metadata: { child } };
  for (let attempt = 0; ; attempt++) {
    const revision = await store.streamRevision(stream);
    try {
      await store.appendToStream(stream, [event], {
        expectedRevision: revision === -1 ? 'no_stream' : revision,
      });
      break;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      conflicts += 1;
      await sleep(Math.random() * Math.min(20, 2 ** attempt));
    }
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ child, appended: count, conflicts })}\n`);
