/**
 * Question 6: how much memory does a loaded registry hold per process?
 *
 * Value: resident set size added by opening a registry on a store of PROCESSES processes,
 * each with a registration, one grant and 10 process events (12 domain events), divided by
 * the number of processes; after a full GC. On SQLite the events stay on disk and the
 * figure is the read models (plus SQLite's page cache, 2 MB by default); on the memory
 * store it is the log and the read models. Baseline, same run: RSS added by holding the
 * same domain events as plain JSON-parsed objects in an array, i.e. keeping the log in
 * memory with no index at all. Ratio = registry / plain log.
 *
 * Each figure comes from its own child process (a fresh heap), one run each: a full-size
 * run loads 1.2 million events three times, and the differences measured are large. Quick
 * mode's 5 000 processes overstate the figure per process (fixed heap costs weigh more).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { openRegistry } from '../src/index.ts';
import { MemoryEventStore } from '../src/store/memory.ts';
import { fixedClock, processIds } from './lib/fixtures.ts';
import { collectGarbage } from './lib/measure.ts';
import type { Row } from './lib/result.ts';
import { comparedRow, runScenario } from './lib/scenario.ts';
import {
  recordTemplate,
  type SyntheticEvent,
  synthesizeAll,
  writeMemoryLog,
  writeSqliteLog,
} from './lib/synthetic-log.ts';
import { withTempDir } from './lib/tmp.ts';

const SCENARIO = 'memory';
type Mode = 'plain-log' | 'sqlite' | 'memory-store';

interface Measured {
  rssBytes: number;
  heapBytes: number;
}

/** In the child: loads what `mode` says from `path`, returns the RSS and heap it added. */
async function child(mode: Mode, path: string): Promise<Measured> {
  const settle = () => {
    collectGarbage();
    collectGarbage();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed };
  };
  // load every module first, so the "before" figure includes the code
  if (mode === 'memory-store') new MemoryEventStore();
  const before = settle();
  let keep: unknown;
  if (mode === 'plain-log') {
    keep = [...readRows(path)].map((row) => ({
      stream: row.stream,
      type: row.type,
      data: JSON.parse(row.data),
      metadata: JSON.parse(row.metadata),
    }));
  } else if (mode === 'sqlite') {
    keep = await openRegistry(`sqlite:${path}`, { clock: fixedClock });
  } else {
    const store = new MemoryEventStore();
    await writeMemoryLog(store, readRows(path));
    keep = await openRegistry(store, { clock: fixedClock });
  }
  const after = settle();
  if (!keep) throw new Error('nothing loaded');
  return { rssBytes: after.rss - before.rss, heapBytes: after.heapUsed - before.heapUsed };
}

function* readRows(path: string): Generator<SyntheticEvent> {
  const db = new Database(path, { readonly: true });
  try {
    yield* db
      .prepare<[], SyntheticEvent>(
        'SELECT stream, type, data, metadata FROM events ORDER BY position',
      )
      .iterate();
  } finally {
    db.close();
  }
}

const run = promisify(execFile);

async function inChild(mode: Mode, path: string): Promise<Measured> {
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--child',
      mode,
      path,
    ],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measured;
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const [mode, path] = process.argv.slice(childAt + 1) as [Mode, string];
  const measured = await child(mode, path);
  process.stdout.write(`${JSON.stringify(measured)}\n`, () => process.exit(0));
} else {
  await runScenario(SCENARIO, async ({ quick, log }) => {
    const processes = quick ? 5_000 : 100_000;
    const template = await recordTemplate();
    return withTempDir(async (dir) => {
      const path = join(dir, 'memory.db');
      log(`writing ${processes} processes`);
      writeSqliteLog(
        path,
        synthesizeAll(
          template,
          processIds('p', processes).map((id, i) => ({
            id,
            lines: 10,
            grantSessions: [`session-${i % 1000}`],
          })),
        ),
      );
      // quick mode runs the three children at once: RSS is per process, only time is shared
      const modes = ['plain-log', 'sqlite', 'memory-store'] as const;
      log(`loading in ${quick ? 'parallel' : 'turn'}: ${modes.join(', ')}`);
      const measured = new Map<Mode, Measured>();
      if (quick) {
        const all = await Promise.all(modes.map((mode) => inChild(mode, path)));
        for (const [i, mode] of modes.entries()) measured.set(mode, all[i]!);
      } else {
        for (const mode of modes) measured.set(mode, await inChild(mode, path));
      }
      const plain = measured.get('plain-log')!;
      const rows: Row[] = [];
      for (const [mode, label] of [
        ['sqlite', 'SQLite store (read models in memory)'],
        ['memory-store', 'memory store (log and read models)'],
      ] as const) {
        const m = measured.get(mode)!;
        const perProcess = m.rssBytes / processes;
        const baseline = plain.rssBytes / processes;
        rows.push(
          comparedRow(
            SCENARIO,
            `RSS per process, ${label}`,
            perProcess / 1024,
            'KiB',
            { what: 'the same events as plain parsed JSON in an array', value: baseline / 1024 },
            perProcess / baseline,
            `${processes.toLocaleString('en')} processes × (registration, grant, 10 events)${quick ? ' (quick: 5k, not 100k: fixed costs weigh more)' : ''}; total ${(m.rssBytes / 2 ** 20).toFixed(0)} MiB RSS, ${(m.heapBytes / 2 ** 20).toFixed(0)} MiB heap`,
          ),
        );
      }
      return rows;
    });
  });
}
