/**
 * Question 7 (informational): the EventStoreDB adapter against the gRPC stand-in.
 *
 * The stand-in (test/support/esdb-standin.ts, run here in its own OS process) speaks the
 * protocol from memory: it is not a server, has no disk and no cluster, so these figures
 * say what the adapter and client cost, not what EventStoreDB does.
 * Value: events/s of `appendEvent` (500 processes round-robin; 100 in quick mode), in sequence and with 8
 * concurrent callers. Baseline, same run: `@eventstore/db-client` appending events of the
 * same size straight to the stand-in (expected revision `any`), the same way. Ratio =
 * registry / bare client.
 */

import { randomUUID } from 'node:crypto';
import { ANY, EventStoreDBClient, type JSONType, jsonEvent } from '@eventstore/db-client';
import { openRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { pairedThroughput, type ThroughputPlan, timed, timedConcurrent } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { startStandIn } from './lib/standin-process.ts';
import { recordTemplate } from './lib/synthetic-log.ts';

const SCENARIO = 'EventStoreDB adapter (stand-in, not a server)';
const CALLERS = 8;

await runScenario(SCENARIO, async ({ quick, log }) => {
  const plan: ThroughputPlan = quick
    ? { warmup: 1, runs: 2, chunks: 2 }
    : { warmup: 1, runs: 5, chunks: 6 };
  const perChunk = quick ? 100 : 250;
  const n = perChunk * plan.chunks;
  // registering costs several round trips each; quick mode registers fewer
  const PROCESSES = quick ? 100 : 500;
  const standIn = await startStandIn();
  try {
    const registry = await openRegistry(standIn.connectionString, { clock: fixedClock });
    const client = EventStoreDBClient.connectionString(standIn.connectionString);
    const ids = processIds('p', PROCESSES);
    log('registering');
    await timedConcurrent(PROCESSES, CALLERS, (i) =>
      registry.registerProcess(registration(ids[i]!)),
    );
    let next = 0;
    const append = () => registry.appendEvent(ids[next % PROCESSES]!, lineRequest(next++));
    const template = await recordTemplate();
    const data = JSON.parse(template.line.data) as JSONType;
    const metadata = new TextEncoder().encode(template.line.metadata);
    let raw = 0;
    const bare = () =>
      client.appendToStream(
        `bare-${raw++ % PROCESSES}`,
        jsonEvent({ id: randomUUID(), type: 'ProcessEventAppended', data, metadata }),
        { expectedRevision: ANY },
      );
    const rows: Row[] = [];
    const row = (measure: string, p: { value: number; baseline: number; ratio: number }) =>
      comparedRow(
        SCENARIO,
        measure,
        p.value,
        'events/s',
        { what: 'bare @eventstore/db-client appendToStream', value: p.baseline },
        p.ratio,
        `stand-in, not a server: informational only. ${n} events per run in ${plan.chunks} interleaved slices, ${PROCESSES} processes round-robin`,
      );
    log('1 caller');
    rows.push(
      row(
        'appendEvent, 1 caller',
        await pairedThroughput(
          plan,
          () => timed(perChunk, append),
          () => timed(perChunk, bare),
        ),
      ),
    );
    log(`${CALLERS} callers`);
    rows.push(
      row(
        `appendEvent, ${CALLERS} concurrent callers`,
        await pairedThroughput(
          plan,
          () => timedConcurrent(perChunk, CALLERS, append),
          () => timedConcurrent(perChunk, CALLERS, bare),
        ),
      ),
    );
    await registry.close();
    await client.dispose();
    return rows;
  } finally {
    await standIn.stop();
  }
});
