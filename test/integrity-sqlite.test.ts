import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../src/domain/integrity.ts';
import { type LogDigest, openRegistry } from '../src/index.ts';
import { registration } from './conformance/fixtures.ts';
import { alterOneLetter, random, seedJobs, twoPositions } from './support/tamper.ts';

/**
 * Tamper evidence on a SQLite store of about 10 000 events: random single changes made
 * with SQL behind procreg's back, each reported by `verifyIntegrity` at the position and
 * with the kind of the change. Random but reproducible (a fixed seed per case).
 */

const PROCESSES = 100;
/** per process: registered, granted, then lines in batches */
const LINES = 97;
const BATCH = 25;
const CASES_PER_KIND = 8;

interface Row {
  position: number;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
  event_id: string;
}

let dir: string;
let original: string;
let head: number;
let digestBefore: LogDigest;
let digestMid: LogDigest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-integrity-'));
  original = join(dir, 'original.db');
  const registry = await openRegistry(`sqlite:${original}?synchronous=normal`);
  await seedJobs(registry, { processes: PROCESSES, lines: LINES, batch: BATCH }, async (done) => {
    if (done === 50) digestMid = await registry.digest();
  });
  digestBefore = await registry.digest();
  await registry.close();
  const db = new Database(original, { readonly: true });
  head = db.prepare('SELECT max(position) FROM events').pluck().get() as number;
  db.close();
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let copies = 0;
/** A copy of the original store, changed by `tamper` through SQL alone. */
const tampered = (tamper: (db: Database.Database) => void): string => {
  const path = join(dir, `copy-${copies++}.db`);
  copyFileSync(original, path);
  const db = new Database(path);
  tamper(db);
  db.close();
  return path;
};

const verify = async (path: string, against?: LogDigest) => {
  const registry = await openRegistry(`sqlite:${path}`);
  try {
    return await registry.verifyIntegrity(against ? { against } : {});
  } finally {
    await registry.close();
  }
};

const rowAt = (db: Database.Database, position: number): Row =>
  db.prepare('SELECT * FROM events WHERE position = ?').get(position) as Row;

const problem = (row: Pick<Row, 'position' | 'stream' | 'revision'>, kind: string) => ({
  position: BigInt(row.position),
  stream: row.stream,
  revision: row.revision,
  kind,
});

describe('verifyIntegrity on a ~10 000-event SQLite store', () => {
  it('has the size the check asks for, and an untouched copy verifies ok', async () => {
    expect(head).toBeGreaterThanOrEqual(9_900);
    const report = await verify(tampered(() => {}));
    expect(report).toMatchObject({ ok: true, checked: head, problems: [] });
    expect(report.unchained.events).toBe(0);
    expect(report.digest).toEqual(digestBefore);
    expect(
      (
        await verify(
          tampered(() => {}),
          digestBefore,
        )
      ).ok,
    ).toBe(true);
  });

  it('verifies ok a log whose JSON another writer re-serialized in another key order', async () => {
    const reversed = (value: unknown): unknown =>
      value === null || typeof value !== 'object' || Array.isArray(value)
        ? value
        : Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          );
    let changed = 0;
    const path = tampered((db) => {
      const update = db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?');
      for (const row of db.prepare('SELECT * FROM events').all() as Row[]) {
        const data = JSON.stringify(reversed(JSON.parse(row.data)));
        const metadata = JSON.stringify(reversed(JSON.parse(row.metadata)));
        if (data !== row.data || metadata !== row.metadata) changed += 1;
        update.run(data, metadata, row.position);
      }
    });
    expect(changed).toBe(head);
    expect(await verify(path)).toMatchObject({ ok: true, checked: head, problems: [] });
  });

  for (const column of ['data', 'metadata'] as const) {
    it(`reports a byte altered in ${column} as altered, at its position`, async () => {
      for (let n = 0; n < CASES_PER_KIND; n++) {
        const next = random(1_000 + n + (column === 'data' ? 0 : 500));
        const position = 1 + Math.floor(next() * head);
        let row!: Row;
        const path = tampered((db) => {
          row = rowAt(db, position);
          const altered = alterOneLetter(row[column], next);
          db.prepare(`UPDATE events SET ${column} = ? WHERE position = ?`).run(altered, position);
        });
        const report = await verify(path);
        expect(report.problems, `case ${n}: ${column} at ${position}`).toEqual([
          problem(row, 'altered'),
        ]);
        expect(report.ok).toBe(false);
      }
    });
  }

  it('reports a deleted row as missing, at its position (and its stream and revision when a later event of the stream remains)', async () => {
    for (let n = 0; n < CASES_PER_KIND; n++) {
      const next = random(2_000 + n);
      const position = 1 + Math.floor(next() * (head - 1));
      let row!: Row;
      let tail = false;
      const path = tampered((db) => {
        row = rowAt(db, position);
        db.prepare('DELETE FROM events WHERE position = ?').run(position);
        tail =
          db
            .prepare('SELECT count(*) FROM events WHERE stream = ? AND revision > ?')
            .pluck()
            .get(row.stream, row.revision) === 0;
      });
      const report = await verify(path);
      const expected = tail
        ? { position: BigInt(position), stream: null, revision: null, kind: 'missing' }
        : problem(row, 'missing');
      expect(report.problems, `case ${n}: deleted ${position}`).toEqual([expected]);
    }
  });

  it('reports the last row of the log deleted as missing', async () => {
    const report = await verify(
      tampered((db) => db.prepare('DELETE FROM events WHERE position = ?').run(head)),
    );
    expect(report.problems).toEqual([
      { position: BigInt(head), stream: null, revision: null, kind: 'missing' },
    ]);
  });

  it('reports two rows whose contents were swapped as reordered, at both positions', async () => {
    for (let n = 0; n < CASES_PER_KIND; n++) {
      const next = random(3_000 + n);
      const [p1, p2] = twoPositions(next, head);
      let first!: Row;
      let second!: Row;
      const path = tampered((db) => {
        first = rowAt(db, p1);
        second = rowAt(db, p2);
        swapRows(db, first, second);
      });
      const report = await verify(path);
      // after the swap, each position holds the other's event
      expect(report.problems, `case ${n}: swapped ${p1} and ${p2}`).toEqual([
        { ...problem(second, 'reordered'), position: BigInt(p1) },
        { ...problem(first, 'reordered'), position: BigInt(p2) },
      ]);
    }
  });

  it('reports two events of one stream swapped as reordered, at both positions', async () => {
    const db = new Database(original, { readonly: true });
    const rows = db
      .prepare("SELECT position FROM events WHERE stream = 'process-job-3' ORDER BY revision")
      .pluck()
      .all() as number[];
    db.close();
    for (const [i, j] of [
      [5, 6],
      [10, 40],
    ] as const) {
      let first!: Row;
      let second!: Row;
      const report = await verify(
        tampered((d) => {
          first = rowAt(d, rows[i]!);
          second = rowAt(d, rows[j]!);
          swapRows(d, first, second);
        }),
      );
      expect(report.problems).toEqual([
        { ...problem(second, 'reordered'), position: BigInt(first.position) },
        { ...problem(first, 'reordered'), position: BigInt(second.position) },
      ]);
    }
  });

  it('reports a forged row as inserted: a copy of another event, or one without hashes', async () => {
    for (let n = 0; n < CASES_PER_KIND; n++) {
      const next = random(4_000 + n);
      const source = 1 + Math.floor(next() * head);
      const unchained = n % 2 === 1;
      let forged!: Pick<Row, 'position' | 'stream' | 'revision'>;
      const path = tampered((db) => {
        const row = rowAt(db, source);
        const revision =
          (db
            .prepare('SELECT max(revision) FROM events WHERE stream = ?')
            .pluck()
            .get(row.stream) as number) + 1;
        const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
        if (unchained) {
          delete metadata.hash;
          delete metadata.prevHash;
        }
        const position = Number(
          db
            .prepare(
              'INSERT INTO events (stream, revision, type, data, metadata, recorded_at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
            )
            .run(
              row.stream,
              revision,
              row.type,
              row.data,
              JSON.stringify(metadata),
              row.recorded_at,
              `forged-${n}`,
            ).lastInsertRowid,
        );
        forged = { position, stream: row.stream, revision };
      });
      const report = await verify(path);
      expect(report.problems, `case ${n}: forged from ${source}`).toEqual([
        problem({ ...forged, position: forged.position }, 'inserted'),
      ]);
    }
  });

  it('a digest taken earlier detects a change to any event before it, even one re-hashed and re-projected', async () => {
    for (let n = 0; n < 3; n++) {
      const next = random(5_000 + n);
      // a careful forger: changes a line's text, recomputes the event's hash, rebuilds the models
      const path = tampered((db) => {
        const lines = db
          .prepare(
            "SELECT position FROM events WHERE type = 'ProcessEventAppended' AND position <= ?",
          )
          .pluck()
          .all(Number(digestMid.position)) as number[];
        const row = rowAt(db, lines[Math.floor(next() * lines.length)]!);
        const data = JSON.parse(row.data) as { event: { payload: { text: string } } };
        data.event.payload.text += ' (edited)';
        const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
        metadata.hash = contentHash({ ...row, data, metadata });
        db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(
          JSON.stringify(data),
          JSON.stringify(metadata),
          row.position,
        );
      });
      const registry = await openRegistry(`sqlite:${path}`);
      await registry.rebuildProjections();
      await registry.close();
      const alone = await verify(path);
      // the successor in its stream still names the old hash; at a stream's end nothing would
      expect(alone.problems.every((p) => p.kind === 'chain_broken')).toBe(true);
      const report = await verify(path, digestMid);
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual({
        position: digestMid.position,
        stream: null,
        revision: null,
        kind: 'chain_broken',
      });
      // a change after the kept digest's position leaves that digest's prefix intact
      const later = await verify(
        tampered((db) => db.prepare('DELETE FROM events WHERE position = ?').run(head)),
        digestMid,
      );
      expect(later.problems.map((p) => p.kind)).toEqual(['missing']);
    }
  });
});

describe('after a prune', () => {
  it('the removed positions are anchors, not gaps: the log verifies, and so does a digest kept from before', async () => {
    const path = join(dir, 'pruned.db');
    const registry = await openRegistry(`sqlite:${path}`);
    try {
      for (let p = 0; p < 6; p++) {
        const id = `p${p}`;
        await registry.registerProcess(registration(id));
        await registry.appendEvent(id, { eventType: 'producer.line', payload: { text: 'x' } });
        if (p % 2 === 0) {
          await registry.completeProcess(id, { type: 'success', value: p });
        }
      }
      const kept = await registry.digest();
      const result = await registry.pruneTerminalProcesses({
        terminalBeforeMs: Date.now() + 60_000,
        archiveTo: join(dir, 'archive'),
      });
      expect(result.processes).toHaveLength(3);
      await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'y' } });
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
      expect(await registry.verifyIntegrity({ against: kept })).toMatchObject({ ok: true });
    } finally {
      await registry.close();
    }
    // a row deleted besides is still found: more positions are gone than the prune removed
    const db = new Database(path);
    const position = db
      .prepare("SELECT max(position) FROM events WHERE stream = 'process-p1'")
      .pluck()
      .get() as number;
    db.prepare('DELETE FROM events WHERE position = ?').run(position);
    db.close();
    const reopened = await openRegistry(`sqlite:${path}`);
    try {
      const report = await reopened.verifyIntegrity();
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toContain('missing');
    } finally {
      await reopened.close();
    }
  });
});

describe('a store whose read models predate the digests (schema version 3)', () => {
  it('folds its digest from the log until a rebuild records one per position again', async () => {
    const path = tampered((db) => {
      db.exec(`DROP TABLE rm_log;
        ALTER TABLE rm_checkpoint DROP COLUMN digest;
        ALTER TABLE rm_checkpoint DROP COLUMN digest_position`);
      db.pragma('user_version = 3');
    });
    const registry = await openRegistry(`sqlite:${path}`);
    try {
      expect(await registry.digest()).toEqual(digestBefore);
      expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, checked: head });
      await registry.rebuildProjections();
      expect(await registry.digest()).toEqual(digestBefore);
    } finally {
      await registry.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM rm_log WHERE digest IS NOT NULL').pluck().get()).toBe(
      head,
    );
    db.close();
  });
});

describe('a store written by procreg 0.1 (the committed fixture)', () => {
  it('verifies as an explicitly unchained prefix; what is appended after chains onto it', async () => {
    const path = join(dir, 'v1.db');
    copyFileSync(new URL('./fixtures/v1-events-only.db', import.meta.url), path);
    const registry = await openRegistry(`sqlite:${path}`);
    let legacy: number;
    try {
      const first = await registry.verifyIntegrity();
      legacy = first.checked;
      expect(legacy).toBeGreaterThan(0);
      expect(first).toMatchObject({
        ok: true,
        problems: [],
        unchained: { events: legacy, through: BigInt(legacy) },
      });
      await registry.appendEvent('job-0', { eventType: 'line', payload: { i: 99 } });
      const after = await registry.verifyIntegrity();
      expect(after).toMatchObject({
        ok: true,
        checked: legacy + 1,
        problems: [],
        unchained: { events: legacy, through: BigInt(legacy) },
      });
    } finally {
      await registry.close();
    }
    // unchained events cannot prove their own content, but the first projection recorded
    // the digest after each of them, and the first chained event names its predecessor's
    // content hash: a later change to an old event is still found
    const db = new Database(path);
    const [previous] = db
      .prepare(
        "SELECT position FROM events WHERE stream = 'process-job-0' ORDER BY revision DESC LIMIT 1 OFFSET 1",
      )
      .pluck()
      .all() as number[];
    db.prepare("UPDATE events SET data = json_set(data, '$.tampered', 1) WHERE position = ?").run(
      previous,
    );
    db.close();
    const reopened = await openRegistry(`sqlite:${path}`);
    try {
      const report = await reopened.verifyIntegrity();
      expect(report.problems).toEqual([
        {
          position: BigInt(previous!),
          stream: 'process-job-0',
          revision: expect.any(Number),
          kind: 'altered',
        },
      ]);
    } finally {
      await reopened.close();
    }
  });
});

/** Swaps every column but the position between two rows (through a placeholder, for UNIQUE). */
const swapRows = (db: Database.Database, first: Row, second: Row): void => {
  const set = db.prepare(
    'UPDATE events SET stream = ?, revision = ?, type = ?, data = ?, metadata = ?, recorded_at = ?, event_id = ? WHERE position = ?',
  );
  const put = (row: Row, position: number) =>
    set.run(
      row.stream,
      row.revision,
      row.type,
      row.data,
      row.metadata,
      row.recorded_at,
      row.event_id,
      position,
    );
  db.transaction(() => {
    set.run('swap', -1, 'swap', '{}', '{}', 0, 'swap', first.position);
    put(first, second.position);
    put(second, first.position);
  })();
};
