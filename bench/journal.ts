/**
 * What does the journal of refused commands cost a refusal, and a history that includes it?
 *
 * Rows (same run, paired chunks):
 * - a refused claim (`lease_held`) on SQLite (synchronous=full) with the journal on (a
 *   small write transaction, an fsync, shared by the refusals of one turn) against the same
 *   store kind with `journal=off` (a refusal writes nothing), one caller at a time and 16
 *   concurrent callers; and on memory; and the journaled refusal against a write command;
 * - `history(id, { includeRefused: true })` of a process with 100 refusals among 100
 *   events against plain `history(id)` of the same process.
 */
import { isRegistryError, openRegistry, type ProcessRegistry } from '../src/index.ts';
import { fixedClock, lineRequest, processIds, registration } from './lib/fixtures.ts';
import { pairedThroughput, type ThroughputPlan, timed, timedConcurrent } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'journal of refused commands';
const PROCESSES = 200;
const TTL = 3_600_000;

/** A registry whose processes are all leased by `w1`: every claim by `w2` is refused. */
const leased = async (url: string): Promise<ProcessRegistry> => {
  const registry = await openRegistry(url, { clock: fixedClock });
  for (const id of processIds('p', PROCESSES)) {
    await registry.registerProcess(registration(id));
    await registry.claimProcessLease(id, 'w1', TTL);
  }
  return registry;
};

const refuse = (registry: ProcessRegistry) => async (i: number) => {
  const id = `p-${String(i % PROCESSES).padStart(6, '0')}`;
  await registry.claimProcessLease(id, 'w2', TTL).then(
    () => {
      throw new Error('the claim was not refused');
    },
    (error: unknown) => {
      if (!isRegistryError(error, 'lease_held')) throw error;
    },
  );
};

await runScenario(SCENARIO, ({ quick, log }) =>
  withTempDir(async (dir) => {
    const plan: ThroughputPlan = quick
      ? { warmup: 1, runs: 3, chunks: 2 }
      : { warmup: 1, runs: 3, chunks: 4 };
    const perChunk = quick ? 100 : 200;
    const rows: Row[] = [];
    const on = await leased(`sqlite:${dir}/on.db`);
    const off = await leased(`sqlite:${dir}/off.db?journal=off`);
    const memOn = await leased('memory:');
    const memOff = await leased('memory:?journal=off');
    for (const [what, journaled, plain, callers] of [
      ['SQLite', on, off, 1],
      ['SQLite, 16 concurrent callers', on, off, 16],
      ['memory', memOn, memOff, 1],
    ] as const) {
      log(`refused claims, ${what}`);
      const run = (registry: ProcessRegistry) =>
        callers === 1
          ? timed(perChunk, refuse(registry))
          : timedConcurrent(perChunk, callers, refuse(registry));
      const result = await pairedThroughput(
        plan,
        () => run(journaled),
        () => run(plain),
      );
      rows.push(
        comparedRow(
          SCENARIO,
          `refused claimProcessLease (lease_held), ${what}, journal on`,
          result.value,
          'refusals/s',
          { what: 'journal=off', value: result.baseline },
          result.ratio,
          what.startsWith('SQLite')
            ? 'synchronous=full: a journaled refusal waits for its commit (an fsync), which the refusals of one turn share'
            : '',
        ),
      );
    }

    log('refusal against a write, SQLite');
    const leases = await Promise.all(
      processIds('p', PROCESSES).map((pid) => off.claimProcessLease(pid, 'w1', TTL)),
    );
    const write = await pairedThroughput(
      plan,
      () => timed(perChunk, refuse(on)),
      () => timed(perChunk, (i) => off.renewProcessLease(leases[i % PROCESSES]!, TTL)),
    );
    rows.push(
      comparedRow(
        SCENARIO,
        'refused claimProcessLease, SQLite, journal on, against a write',
        write.value,
        'refusals/s',
        {
          what: 'renewProcessLease (one event appended)',
          value: write.baseline,
          unit: 'renewals/s',
        },
        write.ratio,
        'a journaled refusal costs about what a command that writes costs',
      ),
    );

    log('history with 100 refusals');
    const id = 'p-000000';
    for (let i = 0; i < 100; i++) {
      await on.appendEvent(id, lineRequest(i));
      await refuse(on)(0);
    }
    const histories = quick ? 50 : 200;
    const history = await pairedThroughput(
      plan,
      () => timed(histories, () => on.history(id, { includeRefused: true })),
      () => timed(histories, () => on.history(id)),
    );
    rows.push(
      comparedRow(
        SCENARIO,
        'history with includeRefused (100 events, 100 refusals), SQLite',
        history.value,
        'histories/s',
        { what: 'history without refusals', value: history.baseline },
        history.ratio,
      ),
    );
    for (const registry of [on, off, memOn, memOff]) await registry.close();
    return rows;
  }),
);
