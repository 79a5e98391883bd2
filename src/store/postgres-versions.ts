import type pg from 'pg';
import { deepFreeze } from '../domain/freeze.ts';
import { byCodeUnits } from '../domain/order.ts';
import { listFromRecords } from '../domain/process-list.ts';
import type { ProcessHandleGrant, ProcessLease, ProcessRecord } from '../domain/schemas.ts';
import type { Position } from './port.ts';
import type { PostgresReads } from './postgres-reads.ts';
import { qualified } from './postgres-schema.ts';
import type { GlobalReader, VersionedTables } from './read-model-tables.ts';

/**
 * System-versioned read models on PostgreSQL (as on SQLite, see sqlite-versions.ts): every
 * version of a process record, a handle grant and a lease, with the range of the log in
 * which it held, [valid_from, valid_to) in positions (valid_to NULL: current), written by
 * `apply_model_changes` in the append's transaction. "As of position p":
 * - records and leases alive at p: a GiST index on `int8range(valid_from, valid_to)`, a
 *   stabbing query `@> p` (O(log versions + answer)); the running records have a partial
 *   GiST index of their own;
 * - a process's record at p: btree (process_id, valid_from);
 * - a scope's grants at p: btree (scope_id, valid_from), filtered on valid_to (it reads the
 *   scope's versions that began by p: a scope's grants are few, and change rarely).
 * A `touch` (a process event that only moves `updatedAtMs`) makes no version: the record
 * as of p takes `updatedAtMs` from the process's last event at or before p (an index-only
 * lookup: rm_events by (process_id, position), including its `occurred_at_ms`, a column
 * schema version 2 added) when that came after the version began.
 *
 * `rm_time` maps the registry clock to positions: a row whenever the running maximum of
 * `recordedAtMs` along the log grows (a `time` change per process event), so "as of time
 * t" is the longest prefix whose events were all recorded at or before t.
 */
export const versionTables = (s: string): string => `
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'rm_record_versions')} (
    process_id text    NOT NULL,
    running    boolean NOT NULL,
    record     json    NOT NULL,
    valid_from bigint  NOT NULL,
    valid_to   bigint
  );
  CREATE UNIQUE INDEX IF NOT EXISTS rm_record_versions_current
    ON ${qualified(s, 'rm_record_versions')} (process_id) WHERE valid_to IS NULL;
  CREATE INDEX IF NOT EXISTS rm_record_versions_process
    ON ${qualified(s, 'rm_record_versions')} (process_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_record_versions_span
    ON ${qualified(s, 'rm_record_versions')} USING gist (int8range(valid_from, valid_to));
  CREATE INDEX IF NOT EXISTS rm_record_versions_running
    ON ${qualified(s, 'rm_record_versions')} USING gist (int8range(valid_from, valid_to)) WHERE running;
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'rm_grant_versions')} (
    scope_id   text   NOT NULL,
    process_id text   NOT NULL,
    grant_row  json   NOT NULL,
    valid_from bigint NOT NULL,
    valid_to   bigint
  );
  CREATE UNIQUE INDEX IF NOT EXISTS rm_grant_versions_current
    ON ${qualified(s, 'rm_grant_versions')} (scope_id, process_id) WHERE valid_to IS NULL;
  CREATE INDEX IF NOT EXISTS rm_grant_versions_scope ON ${qualified(s, 'rm_grant_versions')} (scope_id, valid_from);
  CREATE INDEX IF NOT EXISTS rm_grant_versions_span
    ON ${qualified(s, 'rm_grant_versions')} USING gist (int8range(valid_from, valid_to));
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'rm_lease_versions')} (
    process_id text   NOT NULL,
    lease      json   NOT NULL,
    valid_from bigint NOT NULL,
    valid_to   bigint
  );
  CREATE UNIQUE INDEX IF NOT EXISTS rm_lease_versions_current
    ON ${qualified(s, 'rm_lease_versions')} (process_id) WHERE valid_to IS NULL;
  CREATE INDEX IF NOT EXISTS rm_lease_versions_span
    ON ${qualified(s, 'rm_lease_versions')} USING gist (int8range(valid_from, valid_to));
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'rm_time')} (
    recorded_max double precision PRIMARY KEY,
    position     bigint           NOT NULL
  );
  ALTER TABLE ${qualified(s, 'rm_events')} ADD COLUMN IF NOT EXISTS occurred_at_ms double precision;
  CREATE INDEX IF NOT EXISTS rm_events_by_position
    ON ${qualified(s, 'rm_events')} (process_id, position) INCLUDE (occurred_at_ms);
`;

/** The version tables, emptied with the models (a rebuild or the move to schema version 2). */
export const VERSION_TABLES = [
  'rm_record_versions',
  'rm_grant_versions',
  'rm_lease_versions',
  'rm_time',
] as const;

/**
 * The statements `apply_model_changes` runs for change `i` besides the current rows: close
 * the row's current version at the change's position, open a new one for a put.
 */
export const versionChanges = (s: string): string => `
      IF c_table[i] = 'processes' AND c_op[i] = 'put' THEN
        UPDATE ${qualified(s, 'rm_record_versions')} SET valid_to = c_pos[i]
          WHERE process_id = c_k1[i] AND valid_to IS NULL;
        INSERT INTO ${qualified(s, 'rm_record_versions')} (process_id, running, record, valid_from)
          VALUES (c_k1[i], c_k2[i] = 'running', c_row[i]::json, c_pos[i]);
      ELSIF c_table[i] = 'grants' THEN
        UPDATE ${qualified(s, 'rm_grant_versions')} SET valid_to = c_pos[i]
          WHERE scope_id = c_k1[i] AND process_id = c_k2[i] AND valid_to IS NULL;
        IF c_op[i] = 'put' THEN
          INSERT INTO ${qualified(s, 'rm_grant_versions')} (scope_id, process_id, grant_row, valid_from)
            VALUES (c_k1[i], c_k2[i], c_row[i]::json, c_pos[i]);
        END IF;
      ELSIF c_table[i] = 'leases' THEN
        UPDATE ${qualified(s, 'rm_lease_versions')} SET valid_to = c_pos[i]
          WHERE process_id = c_k1[i] AND valid_to IS NULL;
        IF c_op[i] = 'put' THEN
          INSERT INTO ${qualified(s, 'rm_lease_versions')} (process_id, lease, valid_from)
            VALUES (c_k1[i], c_row[i]::json, c_pos[i]);
        END IF;
      ELSIF c_table[i] = 'all' THEN
        -- retention: a pruned process leaves no versions behind (asOf names it instead)
        DELETE FROM ${qualified(s, 'rm_record_versions')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_grant_versions')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_lease_versions')} WHERE process_id = c_k1[i];
      ELSIF c_table[i] = 'time' THEN
        IF c_k1[i]::double precision >
           coalesce((SELECT max(t.recorded_max) FROM ${qualified(s, 'rm_time')} t), '-infinity') THEN
          INSERT INTO ${qualified(s, 'rm_time')} (recorded_max, position)
            VALUES (c_k1[i]::double precision, c_pos[i]);
        END IF;
      END IF;
`;

interface RecordRow {
  record: ProcessRecord;
  touched: number | null;
}

/**
 * The version tables as the port's `VersionedTables`. Every read first makes sure the
 * tables hold the whole log (`current`: events stored around the projection are projected
 * first), then answers with one indexed query. A reader of the past never changes, so the
 * records it read with a scope's grants are kept for the `process` lookups that follow.
 */
export class PostgresVersions implements VersionedTables {
  constructor(
    private readonly reads: Pick<PostgresReads, 'query'>,
    private readonly schema: string,
    /** throws once the store is closed; projects events stored around the projection */
    private readonly current: () => Promise<void>,
  ) {}

  private query<R extends pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    return this.reads.query<R>(`procreg-versions-${name}`, text, values, this.current);
  }

  private t(name: string): string {
    return qualified(this.schema, name);
  }

  /** A record version as of $1 with `updatedAtMs` from its last event at or before $1. */
  private recordColumns(alias: string): string {
    return `${alias}.record, (SELECT m.occurred_at_ms FROM ${this.t('rm_events')} m
       WHERE m.process_id = ${alias}.process_id AND m.position <= $1
         AND m.position >= ${alias}.valid_from
       ORDER BY m.position DESC LIMIT 1) AS touched`;
  }

  async prefixAt(timeMs: number): Promise<Position | undefined> {
    const [row] = await this.query<{ position: string }>(
      'prefix',
      `SELECT position FROM ${this.t('rm_time')} WHERE recorded_max > $1
        ORDER BY recorded_max LIMIT 1`,
      [timeMs],
    );
    return row === undefined ? undefined : BigInt(row.position) - 1n;
  }

  at(position: Position): GlobalReader {
    const at = String(position);
    const known = new Map<string, ProcessRecord | undefined>();
    const records = (rows: RecordRow[]): ProcessRecord[] =>
      rows
        .map(({ record, touched }) =>
          deepFreeze(touched === null ? record : { ...record, updatedAtMs: touched }),
        )
        .sort((a, b) => byCodeUnits(a.id, b.id));
    const processes = async (which: 'all' | 'running'): Promise<ProcessRecord[]> =>
      records(
        await this.query<RecordRow>(
          which,
          `SELECT ${this.recordColumns('v')} FROM ${this.t('rm_record_versions')} v
            WHERE int8range(v.valid_from, v.valid_to) @> $1::bigint
            ${which === 'running' ? 'AND v.running' : ''}`,
          [at],
        ),
      );
    return {
      process: async (processId) => {
        if (known.has(processId)) return known.get(processId);
        const [record] = records(
          await this.query<RecordRow>(
            'record',
            `SELECT ${this.recordColumns('v')} FROM ${this.t('rm_record_versions')} v
              WHERE v.process_id = $2 AND v.valid_from <= $1
                AND (v.valid_to IS NULL OR v.valid_to > $1)`,
            [at, processId],
          ),
        );
        return record;
      },
      processes,
      // every record as of the point, filtered (and the grants held then, when the filter
      // asks about grants): O(processes then), as on SQLite
      listProcesses: async (query) => {
        const { grantedSessionId, label } = query.filter;
        const held = new Map<string, ProcessHandleGrant[]>();
        if (grantedSessionId !== undefined || label !== undefined) {
          const rows = await this.query<{ grant_row: ProcessHandleGrant }>(
            'all-grants',
            `SELECT grant_row FROM ${this.t('rm_grant_versions')}
              WHERE int8range(valid_from, valid_to) @> $1::bigint`,
            [at],
          );
          for (const { grant_row } of rows) {
            held.set(grant_row.processId, [...(held.get(grant_row.processId) ?? []), grant_row]);
          }
        }
        return listFromRecords(await processes('all'), query, (id) => held.get(id) ?? []);
      },
      grantsOfScope: async (scopeId) => {
        type Row = { grant_row: ProcessHandleGrant; record: ProcessRecord | null } & Pick<
          RecordRow,
          'touched'
        >;
        const rows = await this.query<Row>(
          'grants',
          `SELECT g.grant_row, ${this.recordColumns('v')}
             FROM ${this.t('rm_grant_versions')} g
             LEFT JOIN ${this.t('rm_record_versions')} v ON v.process_id = g.process_id
              AND v.valid_from <= $1 AND (v.valid_to IS NULL OR v.valid_to > $1)
            WHERE g.scope_id = $2 AND g.valid_from <= $1
              AND (g.valid_to IS NULL OR g.valid_to > $1)`,
          [at, scopeId],
        );
        for (const { grant_row, record, touched } of rows) {
          const [asOf] = record ? records([{ record, touched }]) : [];
          known.set(grant_row.processId, asOf);
        }
        return rows
          .map((row) => deepFreeze(row.grant_row))
          .sort((a, b) => byCodeUnits(a.processId, b.processId));
      },
      leases: async () =>
        (
          await this.query<{ lease: ProcessLease }>(
            'leases',
            `SELECT lease FROM ${this.t('rm_lease_versions')}
              WHERE int8range(valid_from, valid_to) @> $1::bigint`,
            [at],
          )
        )
          .map((row) => deepFreeze(row.lease))
          .sort((a, b) => byCodeUnits(a.processId, b.processId)),
    };
  }
}
