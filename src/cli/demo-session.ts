import { isRegistryError } from '../domain/errors.ts';
import type { ProcessEventType, ProcessRegistry, Scope } from '../index.ts';

/**
 * The demo: one small, realistic agent session, seeded through the public API the way a
 * runtime would use it. A main agent turn runs a tool call that streams lines and
 * completes, spawns a sub-agent turn whose result wakes the main turn, and starts a job
 * that a worker leases and fails; a watcher tool keeps running. Every command names its
 * audit actor (withContext).
 *
 * Re-running writes nothing: registrations and grants are idempotent, appends carry replay
 * keys, completions repeat the same outcome, the external ref is set only when missing,
 * and the job's lease steps run only while the job is not finished.
 */

export const DEMO_SESSION = 'demo-session';

export const demoIds = {
  main: 'demo:agent:main',
  grep: 'demo:tool:grep-1',
  researcher: 'demo:agent:researcher-1',
  job: 'demo:job:reindex-7',
  watch: 'demo:tool:test-watch',
} as const;

const session: Scope = { sessionId: DEMO_SESSION };
const mainFrame: Scope = { sessionId: DEMO_SESSION, agentFrameId: 'main' };
const host = 'local';

const objectOf = (properties: Record<string, 'string' | 'number'>) => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(properties).map(([k, t]) => [k, { type: t }])),
  required: Object.keys(properties),
});

const producerLine: ProcessEventType = {
  name: 'producer.line',
  payloadSchema: objectOf({ stream: 'string', line: 'string' }),
};
const turnMessage: ProcessEventType = {
  name: 'turn.message',
  payloadSchema: objectOf({ role: 'string', text: 'string' }),
};
/** The sub-agent's result: wakes whoever is waiting, with the summary as the wake input. */
const turnFinished: ProcessEventType = {
  name: 'turn.finished',
  payloadSchema: objectOf({ summary: 'string' }),
  semantics: {
    wake: {
      input: {
        kind: 'template',
        template: 'researcher finished: {summary}',
        fields: { summary: { kind: 'pointer', pointer: '/summary' } },
      },
      dedupeKey: { kind: 'eventIdentity' },
    },
  },
};
const jobProgress: ProcessEventType = {
  name: 'job.progress',
  payloadSchema: objectOf({ percent: 'number' }),
};

/**
 * A scripted clock for the seed: the session's steps are spread over the minutes before
 * now, as a real one would be, so relative times and `at` have something to show. Only the
 * seeding registry uses it; `step` never moves time backwards.
 */
export class ScriptClock {
  private current: number;
  constructor(private readonly start: number) {
    this.current = start;
  }
  readonly read = (): number => this.current;
  step(offsetSeconds: number): void {
    this.current = Math.max(this.current, this.start + offsetSeconds * 1000);
  }
}

/** Seconds from the session's start to its last step (the clock starts this long ago). */
export const DEMO_SPAN_SECONDS = 7 * 60;

export const seedDemo = async (registry: ProcessRegistry, clock: ScriptClock): Promise<void> => {
  const as = (actor: string) => registry.withContext({ actor, correlationId: DEMO_SESSION });
  const runtime = as('runtime');
  const main = as('agent:main');
  const shell = as('tool:shell');
  const researcher = as('agent:researcher');
  const worker = as('worker:w1');

  clock.step(0);
  await runtime.registerProcess({
    id: demoIds.main,
    input: {
      type: 'agent_turn',
      agent: 'main',
      prompt: 'Replace the deprecated API calls in src/',
    },
    eventTypes: [turnMessage],
    provenance: { ownerScope: session, hostProfileId: host },
  });
  await runtime.grantHandle(session, demoIds.main, { kind: 'agent', label: 'main turn' });
  clock.step(2);
  await main.appendEvent(demoIds.main, {
    eventType: 'turn.message',
    payload: { role: 'assistant', text: 'Looking for deprecated calls first' },
    replayKey: 'message:1',
  });

  // A tool call that streams its output and completes.
  clock.step(5);
  await main.registerProcess({
    id: demoIds.grep,
    input: { type: 'tool_call', tool: 'shell', command: 'rg -n @deprecated src' },
    eventTypes: [producerLine],
    provenance: { ownerScope: mainFrame, hostProfileId: host },
  });
  await main.grantHandle(mainFrame, demoIds.grep, { kind: 'tool', label: 'rg -n @deprecated src' });
  const lines = [
    'src/app.ts:12: legacyAuth() // @deprecated',
    'src/db.ts:40: connectSync() // @deprecated',
    'src/ui.ts:7: oldTheme() // @deprecated',
  ];
  for (const [i, line] of lines.entries()) {
    clock.step(6 + i * 0.4);
    await shell.appendEvent(demoIds.grep, {
      eventType: 'producer.line',
      payload: { stream: 'stdout', line },
      replayKey: `line:${i + 1}`,
    });
  }
  clock.step(8);
  await shell.completeProcess(demoIds.grep, {
    type: 'success',
    value: { exitCode: 0, matches: 3 },
  });

  // A sub-agent turn whose result wakes the main turn, which acknowledges it.
  clock.step(30);
  await main.registerProcess({
    id: demoIds.researcher,
    input: {
      type: 'agent_turn',
      agent: 'researcher',
      prompt: 'Which of these deprecated calls are still reached?',
    },
    eventTypes: [turnMessage, turnFinished],
    provenance: {
      ownerScope: { sessionId: DEMO_SESSION, agentFrameId: 'researcher' },
      hostProfileId: host,
      causedBy: { kind: 'process', processId: demoIds.main },
    },
  });
  await main.grantHandle(mainFrame, demoIds.researcher, { kind: 'agent', label: 'researcher' });
  clock.step(32);
  await researcher.appendEvent(demoIds.researcher, {
    eventType: 'turn.message',
    payload: { role: 'assistant', text: 'Reading git blame for 3 deprecated calls' },
    replayKey: 'message:1',
  });
  clock.step(150);
  const finished = await researcher.appendEvent(demoIds.researcher, {
    eventType: 'turn.finished',
    payload: { summary: '2 of 3 deprecated calls are over a year old' },
    replayKey: 'turn:finished',
    wakeTargetScope: mainFrame,
  });
  clock.step(151);
  await researcher.completeProcess(demoIds.researcher, {
    type: 'success',
    value: { stale: ['src/app.ts:12', 'src/db.ts:40'] },
  });
  clock.step(153);
  await main.ackWake(demoIds.researcher, finished.event.sequence);

  // An external job: a worker leases it, reports progress and fails it.
  clock.step(160);
  const job = await main.registerProcess({
    id: demoIds.job,
    input: { type: 'job', queue: 'indexer', task: 'reindex', repo: 'acme/web' },
    eventTypes: [jobProgress],
    provenance: { ownerScope: mainFrame, hostProfileId: host },
  });
  if (!job.externalRef) {
    await main.setExternalRef(demoIds.job, { backend: 'queue', id: 'indexer/7' });
  }
  await main.grantHandle(mainFrame, demoIds.job, { kind: 'job', label: 'reindex acme/web' });
  if (job.status.state === 'running') {
    clock.step(170);
    let lease = await worker.claimProcessLease(demoIds.job, 'worker:w1', 60_000);
    clock.step(180);
    // a second worker finds the job taken: refused, and journaled (`history --refused`)
    await as('worker:w2')
      .claimProcessLease(demoIds.job, 'worker:w2', 60_000)
      .catch((error: unknown) => {
        if (!isRegistryError(error, 'lease_held')) throw error;
      });
    clock.step(190);
    await worker.appendEvent(demoIds.job, {
      eventType: 'job.progress',
      payload: { percent: 40 },
      replayKey: 'progress:40',
    });
    clock.step(200);
    lease = await worker.renewProcessLease(lease, 60_000);
    clock.step(230);
    await worker.appendEvent(demoIds.job, {
      eventType: 'job.progress',
      payload: { percent: 80 },
      replayKey: 'progress:80',
    });
    clock.step(250);
    await worker.completeProcess(demoIds.job, {
      type: 'failure',
      class: 'execution',
      code: 'timeout',
      message: 'index build exceeded 60s',
    });
    clock.step(251);
    await worker.completeProcessLease({ processId: demoIds.job, leaseToken: lease.leaseToken });
  }

  // A watcher that keeps running.
  clock.step(300);
  await main.registerProcess({
    id: demoIds.watch,
    input: { type: 'tool_call', tool: 'shell', command: 'npm test -- --watch' },
    eventTypes: [producerLine],
    provenance: { ownerScope: mainFrame, hostProfileId: host },
  });
  await main.grantHandle(mainFrame, demoIds.watch, { kind: 'tool', label: 'tests (watch)' });
  for (const [i, line] of ['PASS test/app.test.ts', 'PASS test/db.test.ts'].entries()) {
    clock.step(310 + i * 5);
    await shell.appendEvent(demoIds.watch, {
      eventType: 'producer.line',
      payload: { stream: 'stdout', line },
      replayKey: `line:${i + 1}`,
    });
  }
  clock.step(DEMO_SPAN_SECONDS);
  await main.appendEvent(demoIds.main, {
    eventType: 'turn.message',
    payload: { role: 'assistant', text: 'Replaced 2 deprecated calls; tests are running' },
    replayKey: 'message:2',
  });
};
