/**
 * Question 5: how long does opening a big SQLite store take?
 *
 * The read models live in the file, so opening reads only their checkpoint; they are built
 * from the log once: when a store written by procreg 0.1 (events only) is first opened,
 * and by `procreg rebuild`. Values: that build's rate (domain events per second of the
 * first `openRegistry` on a pristine copy of an events-only file) and, once the models
 * exist, the time from calling `openRegistry` to the first query's answer (`getProcess`).
 * Baseline, same run: better-sqlite3 reading every row of the same file in position order
 * and JSON-parsing its data and metadata, the least any rebuild must do. Ratio = registry /
 * raw (a rate: 1.0 would be as fast as reading the file; a time: how many times longer).
 * A third row measures the floor of a build that checks what it reads: the same log read
 * through the store and every process event decoded (the zod schemas), with no row written,
 * against the same raw scan; the build's rate can only approach it.
 *
 * The store is written directly (see lib/synthetic-log.ts): 20 domain events per process
 * (registration, a grant, lease claim/renew/release, 14 or 15 lines, and for every other
 * process the completion), copied from a template process the registry itself produced.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeEvent } from '../src/domain/codec.ts';
import { STREAM_PREFIX } from '../src/domain/events.ts';
import { openRegistry } from '../src/index.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { fixedClock, processIds } from './lib/fixtures.ts';
import { collectGarbage, nowMs, paired, type RunPlan } from './lib/measure.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import {
  rebuildProcesses,
  recordTemplate,
  synthesizeAll,
  writeSqliteLog,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'recovery, SQLite';

/** Seconds to open the registry on `path` and answer one query; events in the log. */
/** Events per second of the first open of a pristine events-only copy (it builds the models). */
async function buildOnce(pristine: string, copy: string, events: number): Promise<number> {
  copyFileSync(pristine, copy);
  collectGarbage();
  const start = nowMs();
  const registry = await openRegistry(`sqlite:${copy}`, { clock: fixedClock });
  const seconds = (nowMs() - start) / 1000;
  await registry.close();
  rmSync(copy);
  return events / seconds;
}

async function openOnce(
  path: string,
  probeId: string,
): Promise<{ openS: number; firstQueryS: number }> {
  collectGarbage();
  const start = nowMs();
  const registry = await openRegistry(`sqlite:${path}`, { clock: fixedClock });
  const opened = nowMs();
  const record = await registry.getProcess(probeId);
  const answered = nowMs();
  if (!record) throw new Error(`process ${probeId} missing after open`);
  await registry.close();
  return { openS: (opened - start) / 1000, firstQueryS: (answered - start) / 1000 };
}

/** Seconds for better-sqlite3 to read and JSON-parse every row. */
function rawScan(path: string): number {
  const db = new Database(path, { readonly: true });
  const start = nowMs();
  let rows = 0;
  const statement = db
    .prepare<[], { data: string; metadata: string }>(
      'SELECT position, stream, revision, type, data, metadata, event_id FROM events ORDER BY position',
    )
    .safeIntegers();
  for (const row of statement.iterate()) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    rows += 1;
  }
  const seconds = (nowMs() - start) / 1000;
  db.close();
  if (rows === 0) throw new Error('empty store');
  return seconds;
}

/**
 * Events per second of reading the log through the store and decoding every process event
 * (the schema check every event passes before it reaches a model): what any rebuild that
 * checks each event costs before it writes a single row.
 */
async function decodeScan(path: string): Promise<number> {
  const store = await openSqliteStore(path);
  try {
    const start = nowMs();
    let events = 0;
    for await (const stored of store.readAll()) {
      if (stored.stream.startsWith(STREAM_PREFIX)) decodeEvent(stored);
      events += 1;
    }
    return events / ((nowMs() - start) / 1000);
  } finally {
    await store.close();
  }
}

await runScenario(SCENARIO, async ({ quick, log }) => {
  const events = quick ? 50_000 : 1_000_000;
  const plan: RunPlan = quick ? { warmup: 1, runs: 2 } : { warmup: 1, runs: 2 };
  const ids = processIds('p', events / 20);
  const template = await recordTemplate();
  return withTempDir(async (dir) => {
    const path = join(dir, 'recovery.db');
    log(`writing ${events} events`);
    const written = writeSqliteLog(path, synthesizeAll(template, rebuildProcesses(ids)));
    if (written !== events) throw new Error(`wrote ${written} events, expected ${events}`);
    const probe = ids[ids.length - 1]!;
    const pristine = `${path}.events-only`;
    copyFileSync(path, pristine);
    log('building the read models from the log');
    const build = await paired(
      plan,
      () => buildOnce(pristine, join(dir, 'copy.db'), events),
      async () => events / rawScan(path),
    );
    log('reading and decoding the log (the floor of a checked rebuild)');
    const decode = await paired(
      plan,
      () => decodeScan(pristine),
      async () => events / rawScan(path),
    );
    log('opening');
    await (await openRegistry(`sqlite:${path}`, { clock: fixedClock })).close();
    const firstQuery = await paired(
      plan,
      async () => {
        const { openS, firstQueryS } = await openOnce(path, probe);
        log(`opened in ${openS.toFixed(3)} s`);
        return firstQueryS;
      },
      async () => rawScan(path),
    );
    const note = `${events.toLocaleString('en')} events, ${ids.length.toLocaleString('en')} processes${quick ? ' (quick: 50k, not 1M)' : ''}; ${plan.runs} runs after ${plan.warmup} warm-up`;
    return [
      comparedRow(
        SCENARIO,
        'read models built from the log (first open of a 0.1 events-only file; = rebuild)',
        build.value,
        'events/s',
        { what: 'raw better-sqlite3 scan + JSON.parse', value: build.baseline },
        build.ratio,
        `${note}; goal ≥ 150k events/s`,
      ),
      comparedRow(
        SCENARIO,
        'floor of a checked rebuild: read the log through the store and decode (zod) every event, no rows written',
        decode.value,
        'events/s',
        { what: 'raw better-sqlite3 scan + JSON.parse', value: decode.baseline },
        decode.ratio,
        `${note}; every model row, digest and version of the build costs on top of this`,
      ),
      comparedRow(
        SCENARIO,
        'time to first query once the models exist (openRegistry + getProcess)',
        firstQuery.value,
        's',
        { what: 'raw scan of the whole log', value: firstQuery.baseline },
        firstQuery.ratio,
        note,
      ),
    ];
  });
});
