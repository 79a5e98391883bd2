import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_DIGEST, type LogDigest } from '../src/domain/integrity.ts';
import { openRegistry } from '../src/index.ts';
import { SqliteCheckpoint } from '../src/store/sqlite-checkpoint.ts';
import { createTables } from '../src/store/sqlite-tables-sql.ts';
import { registration } from './conformance/fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procreg-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const digestAt = (position: bigint): LogDigest => ({
  digest: position.toString(16).padStart(64, 'a'),
  position,
});

/** A tables file and its checkpoint row, with every UPDATE of the row counted by a trigger. */
const checkpointFile = () => {
  const db = new Database(join(dir, 'tables.db'));
  createTables(db);
  db.exec(`CREATE TABLE updates (n INTEGER NOT NULL);
    INSERT INTO updates VALUES (0);
    CREATE TRIGGER count_updates AFTER UPDATE ON rm_checkpoint
    BEGIN UPDATE updates SET n = n + 1; END;`);
  const stored = () =>
    db
      .prepare('SELECT position, digest, digest_position AS digestPosition FROM rm_checkpoint')
      .safeIntegers()
      .get() as { position: bigint; digest: string | null; digestPosition: bigint };
  const updates = () => db.prepare('SELECT n FROM updates').pluck().get() as number;
  return { db, row: new SqliteCheckpoint(db), stored, updates };
};

describe('the checkpoint row (sqlite-checkpoint.ts)', () => {
  it('outside a hold, reads and writes the row at each call', () => {
    const { db, row, stored, updates } = checkpointFile();
    row.setPosition(5n);
    row.setDigest(digestAt(4n));
    expect(updates()).toBe(2);
    expect(stored()).toEqual({ position: 5n, digest: digestAt(4n).digest, digestPosition: 4n });
    expect(row.position()).toBe(5n);
    expect(row.digest()).toEqual(digestAt(4n));
    db.close();
  });

  it('in a hold, moves position and digest in memory and writes them with one UPDATE at the end', () => {
    const { db, row, stored, updates } = checkpointFile();
    db.transaction(() =>
      row.hold(() => {
        for (let p = 1n; p <= 3n; p++) {
          row.setDigest(digestAt(p));
          row.setPosition(p);
          expect(row.position()).toBe(p);
          expect(row.digest()).toEqual(digestAt(p));
        }
        expect(updates()).toBe(0);
      }),
    )();
    expect(updates()).toBe(1);
    expect(stored()).toEqual({ position: 3n, digest: digestAt(3n).digest, digestPosition: 3n });
    db.close();
  });

  it('a hold that moves nothing writes nothing', () => {
    const { db, row, updates } = checkpointFile();
    db.transaction(() => row.hold(() => row.position()))();
    expect(updates()).toBe(0);
    db.close();
  });

  it('a hold whose work throws writes nothing, and the next reads the stored row', () => {
    const { db, row, stored, updates } = checkpointFile();
    row.setDigest({ digest: GENESIS_DIGEST, position: 0n });
    const before = stored();
    expect(() =>
      db.transaction(() =>
        row.hold(() => {
          row.setPosition(9n);
          throw new Error('refused');
        }),
      )(),
    ).toThrow('refused');
    expect(stored()).toEqual(before);
    expect(updates()).toBe(1);
    expect(row.position()).toBe(0n);
    db.close();
  });

  it('a savepoint that rolls back inside a hold puts the held row back as it was before it', () => {
    const { db, row, stored } = checkpointFile();
    const savepoint = db.transaction((work: () => void) => work());
    db.transaction(() =>
      row.hold(() => {
        row.setPosition(1n);
        row.setDigest(digestAt(1n));
        expect(() =>
          row.savepoint(() =>
            savepoint(() => {
              row.setPosition(2n);
              row.setDigest(digestAt(2n));
              throw new Error('refused append');
            }),
          ),
        ).toThrow('refused append');
        expect(row.position()).toBe(1n);
        expect(row.digest()).toEqual(digestAt(1n));
        // and one that commits keeps what it moved
        row.savepoint(() => savepoint(() => row.setPosition(3n)));
      }),
    )();
    expect(stored()).toEqual({ position: 3n, digest: digestAt(1n).digest, digestPosition: 1n });
    db.close();
  });
});

describe('a registry append on SQLite', () => {
  it('writes the checkpoint row once per commit, the digest with the checkpoint', async () => {
    const path = join(dir, 'store.db');
    const registry = await openRegistry(`sqlite:${path}`);
    await registry.registerProcess(registration('p-1'));
    const side = new Database(path);
    side.exec(`CREATE TABLE updates (n INTEGER NOT NULL);
      INSERT INTO updates VALUES (0);
      CREATE TRIGGER count_updates AFTER UPDATE ON rm_checkpoint
      BEGIN UPDATE updates SET n = n + 1; END;`);
    for (let i = 0; i < 5; i++) {
      await registry.appendEvent('p-1', { eventType: 'producer.line', payload: { text: `${i}` } });
    }
    expect(side.prepare('SELECT n FROM updates').pluck().get()).toBe(5);
    const row = side
      .prepare('SELECT position, digest_position AS digestPosition FROM rm_checkpoint')
      .get() as { position: number; digestPosition: number };
    const head = side.prepare('SELECT max(position) FROM events').pluck().get();
    expect(row).toEqual({ position: head, digestPosition: head });
    expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
    side.close();
    await registry.close();
  });
});
