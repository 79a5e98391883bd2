import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, GENESIS_DIGEST, nextDigest } from '../src/domain/integrity.ts';
import { type LogDigest, openRegistry } from '../src/index.ts';
import { openStore } from '../src/store/open.ts';
import type { PgEventRow } from '../src/store/postgres-reads.ts';
import { registration } from './conformance/fixtures.ts';
import { testPostgres } from './support/postgres-server.ts';
import { alterOneLetter, random, seedJobs, twoPositions } from './support/tamper.ts';

/**
 * Tamper evidence on PostgreSQL, whose store records the digest after every process event in
 * the append's transaction (store/postgres-digests.ts): single changes made with SQL behind
 * procreg's back, each reported at its position with its kind, as on SQLite
 * (integrity-sqlite.test.ts) and memory. After each case the tables are put back as seeded.
 */

const found = await testPostgres('integrity-postgres');
const server = 'server' in found ? found.server : undefined;

const PROCESSES = 30;
const LINES = 40;
const BATCH = 10;
const CASES_PER_KIND = 4;

/** an events row as the test reads it (the store's reader leaves out the time) */
interface Row extends PgEventRow {
  recorded_at: Date;
}

let fresh: ReturnType<NonNullable<typeof server>['freshSchema']>;
let admin: pg.Client;
let head: number;
let digestBefore: LogDigest;
let digestMid: LogDigest;
/** the digest rows as the appends wrote them */
let recordedRows: { position: string; digest: string }[];

const t = (table: string) => `"${fresh.schema}".${table}`;
/** the seeded state, kept in tables of the public schema */
const kept = (table: string) => `public."${fresh.schema}_${table}"`;
const STATE = ['events', 'log_head', 'log_digests', 'rm_checkpoint'] as const;

beforeAll(async () => {
  if (!server) return;
  fresh = server.freshSchema();
  const registry = await openRegistry(fresh.url);
  const shape = { processes: PROCESSES, lines: LINES, batch: BATCH, together: true };
  await seedJobs(registry, shape, async (done) => {
    if (done === 20) digestMid = await registry.digest();
  });
  digestBefore = await registry.digest();
  await registry.close();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  head = Number((await admin.query(`SELECT position FROM ${t('log_head')}`)).rows[0].position);
  recordedRows = (
    await admin.query(
      `SELECT position::text, digest FROM ${t('log_digests')} d ORDER BY d.position`,
    )
  ).rows;
  for (const table of STATE) {
    await admin.query(`CREATE TABLE ${kept(table)} AS SELECT * FROM ${t(table)}`);
  }
}, 120_000);

afterAll(async () => {
  if (!server) return;
  for (const table of STATE) await admin.query(`DROP TABLE IF EXISTS ${kept(table)}`);
  await admin.end();
  await fresh.drop();
  await server.stop();
});

/**
 * Runs `change` through SQL and verifies with a registry opened before it, as a running
 * service would (a registry opened after a change that leaves an event unreadable does not
 * open: PostgreSQL's registry folds its own tables from the log at open); then puts the
 * tables back as seeded.
 */
const tampered = async (change: () => Promise<unknown>, against?: LogDigest) => {
  const registry = await openRegistry(fresh.url);
  try {
    await change();
    return await registry.verifyIntegrity(against ? { against } : {});
  } finally {
    await registry.close();
    await admin.query('BEGIN');
    for (const table of STATE) {
      await admin.query(`DELETE FROM ${t(table)}`);
      await admin.query(`INSERT INTO ${t(table)} SELECT * FROM ${kept(table)}`);
    }
    await admin.query('COMMIT');
  }
};

const rowAt = async (position: number): Promise<Row> =>
  (
    await admin.query<Row>(
      `SELECT position::text, stream, revision::text, type, data::text, metadata::text, event_id,
              recorded_at FROM ${t('events')} WHERE position = $1`,
      [position],
    )
  ).rows[0]!;

const problem = (row: Pick<Row, 'position' | 'stream' | 'revision'>, kind: string) => ({
  position: BigInt(row.position),
  stream: row.stream,
  revision: Number(row.revision),
  kind,
});

/** Swaps every column but the position between two rows (through a placeholder, for UNIQUE). */
const swapRows = async (first: Row, second: Row): Promise<void> => {
  const set = `UPDATE ${t('events')} SET stream = $1, revision = $2, type = $3, data = $4::json,
                 metadata = $5::json, event_id = $6, recorded_at = $7 WHERE position = $8`;
  const put = (row: Row, position: string) =>
    admin.query(set, [
      row.stream,
      row.revision,
      row.type,
      row.data,
      row.metadata,
      row.event_id,
      row.recorded_at,
      position,
    ]);
  await admin.query('BEGIN');
  await admin.query(set, ['swap', -1, 'swap', '{}', '{}', 'swap', new Date(0), first.position]);
  await put(first, second.position);
  await put(second, first.position);
  await admin.query('COMMIT');
};

describe.skipIf(!server)('verifyIntegrity on a PostgreSQL store', () => {
  it('recorded a digest per process event, the same the log folds to; an untouched store verifies ok', async () => {
    expect(head).toBeGreaterThanOrEqual(PROCESSES * (LINES + 2));
    // every event is a process event here: one row per position, each one step from the last
    expect(recordedRows.map((r) => Number(r.position))).toEqual(
      Array.from({ length: head }, (_, i) => i + 1),
    );
    let digest = GENESIS_DIGEST;
    for (let p = 1; p <= head; p++) {
      const row = await rowAt(p);
      const hash = (JSON.parse(row.metadata) as { hash: string }).hash;
      digest = nextDigest(digest, BigInt(p), row.stream, Number(row.revision), hash);
      expect(recordedRows[p - 1]!.digest).toBe(digest);
    }
    expect(digestBefore).toEqual({ digest, position: BigInt(head) });
    const report = await tampered(async () => {});
    expect(report).toMatchObject({ ok: true, checked: head, problems: [] });
    expect(report.digest).toEqual(digestBefore);
  });

  for (const column of ['data', 'metadata'] as const) {
    it(`reports a byte altered in ${column} as altered, at its position`, async () => {
      for (let n = 0; n < CASES_PER_KIND; n++) {
        const next = random(1_000 + n + (column === 'data' ? 0 : 500));
        const position = 1 + Math.floor(next() * head);
        const row = await rowAt(position);
        const report = await tampered(() =>
          admin.query(`UPDATE ${t('events')} SET ${column} = $1::json WHERE position = $2`, [
            alterOneLetter(row[column], next),
            position,
          ]),
        );
        expect(report.problems, `case ${n}: ${column} at ${position}`).toEqual([
          problem(row, 'altered'),
        ]);
      }
    });
  }

  it('reports a deleted row as missing, at its position (and its stream and revision when a later event of the stream remains)', async () => {
    for (let n = 0; n < CASES_PER_KIND; n++) {
      const next = random(2_000 + n);
      const position = 1 + Math.floor(next() * (head - 1));
      const row = await rowAt(position);
      const later = await admin.query(
        `SELECT 1 FROM ${t('events')} WHERE stream = $1 AND revision > $2`,
        [row.stream, row.revision],
      );
      const report = await tampered(() =>
        admin.query(`DELETE FROM ${t('events')} WHERE position = $1`, [position]),
      );
      const expected =
        later.rows.length === 0
          ? { position: BigInt(position), stream: null, revision: null, kind: 'missing' }
          : problem(row, 'missing');
      expect(report.problems, `case ${n}: deleted ${position}`).toEqual([expected]);
    }
  });

  it('reports the last row of the log deleted as missing, at its position', async () => {
    const report = await tampered(() =>
      admin.query(`DELETE FROM ${t('events')} WHERE position = $1`, [head]),
    );
    expect(report.problems).toEqual([
      { position: BigInt(head), stream: null, revision: null, kind: 'missing' },
    ]);
  });

  it('reports two rows whose contents were swapped as reordered, at both positions', async () => {
    for (let n = 0; n < CASES_PER_KIND; n++) {
      const next = random(3_000 + n);
      const [p1, p2] = twoPositions(next, head);
      const [first, second] = [await rowAt(p1), await rowAt(p2)];
      const report = await tampered(() => swapRows(first, second));
      expect(report.problems, `case ${n}: swapped ${p1} and ${p2}`).toEqual([
        { ...problem(second, 'reordered'), position: BigInt(first.position) },
        { ...problem(first, 'reordered'), position: BigInt(second.position) },
      ]);
    }
  });

  it('reports a forged row appended at the head (and the head moved) as inserted', async () => {
    const row = await rowAt(Math.floor(head / 2));
    const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
    const position = head + 1;
    let revision = 0;
    const report = await tampered(async () => {
      revision =
        Number(
          (
            await admin.query(`SELECT max(revision) AS r FROM ${t('events')} WHERE stream = $1`, [
              row.stream,
            ])
          ).rows[0].r,
        ) + 1;
      await admin.query(
        `INSERT INTO ${t('events')} (position, stream, revision, type, data, metadata, event_id)
           VALUES ($1, $2, $3, $4, $5::json, $6::json, 'forged')`,
        [position, row.stream, revision, row.type, row.data, JSON.stringify(metadata)],
      );
      await admin.query(`UPDATE ${t('log_head')} SET position = $1`, [position]);
    });
    expect(report.problems).toEqual([
      { position: BigInt(position), stream: row.stream, revision, kind: 'inserted' },
    ]);
  });

  it('names an event edited and re-hashed by a careful forger (no digest kept outside needed), and a kept digest detects it too', async () => {
    for (let n = 0; n < 2; n++) {
      const next = random(5_000 + n);
      const lines = (
        await admin.query(
          `SELECT position FROM ${t('events')} WHERE type = 'ProcessEventAppended' AND position <= $1`,
          [String(digestMid.position)],
        )
      ).rows.map((r: { position: string }) => Number(r.position));
      const row = await rowAt(lines[Math.floor(next() * lines.length)]!);
      const data = JSON.parse(row.data) as { event: { payload: { text: string } } };
      data.event.payload.text += ' (edited)';
      const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      metadata.hash = contentHash({ ...row, revision: Number(row.revision), data, metadata });
      const edit = () =>
        admin.query(
          `UPDATE ${t('events')} SET data = $1::json, metadata = $2::json WHERE position = $3`,
          [JSON.stringify(data), JSON.stringify(metadata), row.position],
        );
      // its own hash checks; the digest recorded at its position does not
      expect((await tampered(edit)).problems).toEqual([problem(row, 'altered')]);
      expect((await tampered(edit, digestMid)).problems).toContainEqual({
        position: digestMid.position,
        stream: null,
        revision: null,
        kind: 'chain_broken',
      });
    }
  });
});

describe.skipIf(!server)('a PostgreSQL schema of version 2 (no digests)', () => {
  it('gains the digests at open, folded once from the log (pruned events stepped over), and verifies at exact positions from then on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-pg-upgrade-'));
    const old = server!.freshSchema();
    const o = (table: string) => `"${old.schema}".${table}`;
    try {
      let registry = await openRegistry(old.url);
      for (let p = 0; p < 6; p++) {
        await registry.registerProcess(registration(`p${p}`));
        await registry.appendEvent(`p${p}`, { eventType: 'producer.line', payload: { text: 'x' } });
        if (p % 2 === 0) await registry.completeProcess(`p${p}`, { type: 'success', value: p });
      }
      const pruned = await registry.pruneTerminalProcesses({
        terminalBeforeMs: Date.now() + 60_000,
        archiveTo: dir,
      });
      expect(pruned.processes).toHaveLength(3);
      await registry.appendEvent('p1', { eventType: 'producer.line', payload: { text: 'y' } });
      const digest = await registry.digest();
      await registry.close();
      const rows = async () =>
        (
          await admin.query(
            `SELECT position::text, digest FROM ${o('log_digests')} d ORDER BY d.position`,
          )
        ).rows;
      const written = await rows();
      // what version 2 holds: no digest table or columns, its own append_batch (any body)
      await admin.query(`
        DROP TABLE ${o('log_digests')};
        ALTER TABLE ${o('log_head')} DROP COLUMN digest, DROP COLUMN digest_position,
          DROP COLUMN digested;
        DROP FUNCTION ${o('append_batch')};
        CREATE FUNCTION ${o('append_batch')}(w_append int[], w_stream text[], w_expected bigint[],
          w_count int[], e_id text[], e_type text[], e_data text[], e_metadata text[],
          p_project boolean, c_append int[], c_src int[], c_table text[], c_op text[],
          c_k1 text[], c_k2 text[], c_k3 text[], c_row text[], c_pos bigint[])
          RETURNS void LANGUAGE sql AS 'SELECT';
        UPDATE ${o('procreg_meta')} SET value = '2' WHERE key = 'schema_version'`);

      registry = await openRegistry(old.url);
      try {
        const meta = await admin.query(
          `SELECT value FROM ${o('procreg_meta')} WHERE key = 'schema_version'`,
        );
        expect(meta.rows[0].value).toBe('3');
        const functions = await admin.query(
          `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = $1 AND p.proname = 'append_batch'`,
          [old.schema],
        );
        expect(functions.rows[0].n).toBe(1);
        // the same rows the appends wrote, the removed events' positions included
        expect(await rows()).toEqual(written);
        expect(await registry.digest()).toEqual(digest);
        expect(await registry.verifyIntegrity()).toMatchObject({ ok: true, problems: [] });
        await registry.appendEvent('p3', { eventType: 'producer.line', payload: { text: 'z' } });
        expect((await rows()).length).toBe(written.length + 1);
      } finally {
        await registry.close();
      }
      const last = Number(
        (
          await admin.query(
            `SELECT max(position) AS p FROM ${o('events')} WHERE stream = 'process-p1'`,
          )
        ).rows[0].p,
      );
      await admin.query(`DELETE FROM ${o('events')} WHERE position = $1`, [last]);
      registry = await openRegistry(old.url);
      try {
        expect((await registry.verifyIntegrity()).problems).toEqual([
          { position: BigInt(last), stream: null, revision: null, kind: 'missing' },
        ]);
      } finally {
        await registry.close();
      }
    } finally {
      await old.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!server)('an unchained process event appended with expected revision any', () => {
  it('has no hash the append can know: the digest waits there, and the store folds the rest from the log when asked', async () => {
    const other = server!.freshSchema();
    const store = await openStore(other.url);
    try {
      const event = (text: string) => ({
        id: crypto.randomUUID(),
        type: 'line',
        data: { text },
        metadata: {},
      });
      await store.appendToStream('process-a', [event('one')], { expectedRevision: 'no_stream' });
      await store.appendToStream('process-a', [event('two')], { expectedRevision: 'any' });
      await store.appendToStream('process-a', [event('three')], { expectedRevision: 1 });
      const state = async () =>
        (
          await admin.query(
            `SELECT digested::int, (SELECT count(*)::int FROM "${other.schema}".log_digests) AS rows
               FROM "${other.schema}".log_head`,
          )
        ).rows[0];
      expect(await state()).toEqual({ digested: 1, rows: 1 });
      let digest = GENESIS_DIGEST;
      for await (const stored of store.readAll()) {
        digest = nextDigest(
          digest,
          stored.position,
          stored.stream,
          stored.revision,
          contentHash(stored),
        );
      }
      expect(await store.logDigests!.current()).toEqual({ digest, position: 3n });
      expect(await state()).toEqual({ digested: 3, rows: 3 });
    } finally {
      await store.close();
      await other.drop();
    }
  });
});
