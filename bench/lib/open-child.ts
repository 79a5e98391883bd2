/**
 * One fresh process of the read-models-at-scale benchmark: opens a SQLite store, answers
 * the first questions a user asks (a process, its last 10 events, a session's grants),
 * then makes the first append to the long stream, and prints the times and its RSS.
 * Usage: open-child.ts <path> <probe id> <session id> <long stream id>
 */
import { openRegistry } from '../../src/index.ts';
import { lineRequest } from './fixtures.ts';
import { nowMs } from './measure.ts';

const [path, probe, session, long] = process.argv.slice(2) as [string, string, string, string];
const start = nowMs();
const registry = await openRegistry(`sqlite:${path}`);
const record = await registry.getProcess(probe);
if (!record) throw new Error(`no process ${probe}`);
const events = await registry.eventsAfter(probe, 0);
const last10 = await registry.eventsAfter(probe, Math.max(0, events.length - 10));
const grants = await registry.listHandleGrants({ sessionId: session });
const answered = nowMs();
if (last10.length === 0 || grants.length === 0) throw new Error('empty answers');
await registry.appendEvent(long, lineRequest(0));
const appended = nowMs();
await registry.close();
process.stdout.write(
  `${JSON.stringify({
    firstAnswersMs: answered - start,
    firstAppendMs: appended - answered,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  })}\n`,
);
