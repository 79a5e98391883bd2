import type pg from 'pg';
import type { Json } from '../domain/json.ts';
import type { ProcessEvent, ProcessRecord } from '../domain/schemas.ts';
import { START } from './port.ts';
import { qualified } from './postgres-schema.ts';
import { versionChanges } from './postgres-versions.ts';
import { tableDump } from './tables-shared.ts';

/**
 * The read models as PostgreSQL tables, next to `events` and changed in the same
 * transaction as the events they come from (see `append_batch`), with the checkpoint they
 * reflect. The same definitions as every other store's (src/projections/) compute the row
 * changes in this process; the rows they read are only the event's own process's record
 * and lease, fetched before the append: the append's expected revision, checked under the
 * log lock, proves they were current. `rm_events` keeps each process event's position;
 * the event itself is read from `events`.
 */
export const modelTables = (s: string): string => `
  CREATE TABLE ${qualified(s, 'rm_checkpoint')} (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint  NOT NULL
  );
  INSERT INTO ${qualified(s, 'rm_checkpoint')} (position) VALUES (0);
  CREATE TABLE ${qualified(s, 'rm_processes')} (
    id      text    PRIMARY KEY,
    running boolean NOT NULL,
    record  json    NOT NULL
  );
  CREATE INDEX rm_processes_running ON ${qualified(s, 'rm_processes')} (id) WHERE running;
  CREATE TABLE ${qualified(s, 'rm_grants')} (
    scope_id   text NOT NULL,
    process_id text NOT NULL,
    session_id text NOT NULL,
    grant_row  json NOT NULL,
    PRIMARY KEY (scope_id, process_id)
  );
  CREATE INDEX rm_grants_process ON ${qualified(s, 'rm_grants')} (process_id);
  CREATE INDEX rm_grants_session ON ${qualified(s, 'rm_grants')} (session_id);
  CREATE TABLE ${qualified(s, 'rm_leases')} (
    process_id text PRIMARY KEY,
    lease      json NOT NULL
  );
  CREATE TABLE ${qualified(s, 'rm_wakes')} (
    process_id text   NOT NULL,
    sequence   bigint NOT NULL,
    PRIMARY KEY (process_id, sequence)
  );
  CREATE TABLE ${qualified(s, 'rm_replays')} (
    process_id   text   NOT NULL,
    key          text   NOT NULL,
    sequence     bigint NOT NULL,
    payload_hash text   NOT NULL,
    PRIMARY KEY (process_id, key)
  );
  CREATE TABLE ${qualified(s, 'rm_events')} (
    process_id text   NOT NULL,
    sequence   bigint NOT NULL,
    position   bigint NOT NULL,
    PRIMARY KEY (process_id, sequence)
  );
`;

/** The model tables but the checkpoint (emptied for a rebuild). */
export const MODEL_TABLES = [
  'rm_processes',
  'rm_grants',
  'rm_leases',
  'rm_wakes',
  'rm_replays',
  'rm_events',
] as const;

/**
 * Applies row changes (one per array index) and their versions; `c_pos` is already the real
 * position of the event that made each change. A processes `touch` rewrites the current
 * record but makes no version; a `time` change notes the event's recordedAtMs (`c_k1`); an
 * `all` change (retention) removes every row of the process. Replaced at every open
 * (schemas made before retention get its `all` branch).
 */
export const applyChangesFunction = (s: string): string => `
  CREATE OR REPLACE FUNCTION ${qualified(s, 'apply_model_changes')}(
    c_table text[], c_op text[], c_k1 text[], c_k2 text[], c_k3 text[], c_row text[], c_pos bigint[]
  ) RETURNS void LANGUAGE plpgsql AS $fn$
  BEGIN
    FOR i IN 1 .. coalesce(cardinality(c_table), 0) LOOP
      IF c_table[i] = 'processes' THEN
        INSERT INTO ${qualified(s, 'rm_processes')} (id, running, record)
          VALUES (c_k1[i], c_k2[i] = 'running', c_row[i]::json)
          ON CONFLICT (id) DO UPDATE SET running = excluded.running, record = excluded.record;
      ELSIF c_table[i] = 'grants' AND c_op[i] = 'put' THEN
        INSERT INTO ${qualified(s, 'rm_grants')} (scope_id, process_id, session_id, grant_row)
          VALUES (c_k1[i], c_k2[i], c_k3[i], c_row[i]::json)
          ON CONFLICT (scope_id, process_id)
          DO UPDATE SET session_id = excluded.session_id, grant_row = excluded.grant_row;
      ELSIF c_table[i] = 'grants' THEN
        DELETE FROM ${qualified(s, 'rm_grants')} WHERE scope_id = c_k1[i] AND process_id = c_k2[i];
      ELSIF c_table[i] = 'leases' AND c_op[i] = 'put' THEN
        INSERT INTO ${qualified(s, 'rm_leases')} (process_id, lease) VALUES (c_k1[i], c_row[i]::json)
          ON CONFLICT (process_id) DO UPDATE SET lease = excluded.lease;
      ELSIF c_table[i] = 'leases' THEN
        DELETE FROM ${qualified(s, 'rm_leases')} WHERE process_id = c_k1[i];
      ELSIF c_table[i] = 'wakes' AND c_op[i] = 'put' THEN
        INSERT INTO ${qualified(s, 'rm_wakes')} (process_id, sequence)
          VALUES (c_k1[i], c_k2[i]::bigint) ON CONFLICT DO NOTHING;
      ELSIF c_table[i] = 'wakes' THEN
        DELETE FROM ${qualified(s, 'rm_wakes')} WHERE process_id = c_k1[i] AND sequence = c_k2[i]::bigint;
      ELSIF c_table[i] = 'replays' THEN
        -- the first event stored under a replay key keeps it
        INSERT INTO ${qualified(s, 'rm_replays')} (process_id, key, sequence, payload_hash)
          VALUES (c_k1[i], c_k2[i], c_k3[i]::bigint, c_row[i]) ON CONFLICT DO NOTHING;
      ELSIF c_table[i] = 'all' THEN
        -- retention: every row of the process
        DELETE FROM ${qualified(s, 'rm_processes')} WHERE id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_grants')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_leases')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_wakes')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_replays')} WHERE process_id = c_k1[i];
        DELETE FROM ${qualified(s, 'rm_events')} WHERE process_id = c_k1[i];
      ELSIF c_table[i] = 'events' THEN
        INSERT INTO ${qualified(s, 'rm_events')} (process_id, sequence, position, occurred_at_ms)
          VALUES (c_k1[i], c_k2[i]::bigint, c_pos[i], c_row[i]::double precision)
          ON CONFLICT (process_id, sequence)
          DO UPDATE SET position = excluded.position, occurred_at_ms = excluded.occurred_at_ms;
      ELSIF c_table[i] = 'time' THEN
        NULL;
      ELSE
        RAISE EXCEPTION 'unknown read-model change % %', c_table[i], c_op[i];
      END IF;${versionChanges(s)}    END LOOP;
  END
  $fn$;
`;
/** Every model row in the canonical form of `ReadModelTables.dump` (tests, diagnostics). */
export const dumpPostgresModels = async (
  client: pg.Pool | pg.ClientBase,
  schema: string,
): Promise<{ checkpoint: bigint; rows: Map<string, Json> }> => {
  const q = <R extends pg.QueryResultRow>(text: string) =>
    client.query<R>(text).then((r) => r.rows);
  const t = (name: string) => qualified(schema, name);
  const [checkpoint] = await q<{ position: string }>(`SELECT position FROM ${t('rm_checkpoint')}`);
  const processes = await q<{ id: string; running: boolean; record: ProcessRecord }>(
    `SELECT id, running, record FROM ${t('rm_processes')}`,
  );
  const grants = await q<{ grant_row: Json & { scopeId: string; processId: string } }>(
    `SELECT grant_row FROM ${t('rm_grants')}`,
  );
  const leases = await q<{ process_id: string; lease: Json }>(
    `SELECT process_id, lease FROM ${t('rm_leases')}`,
  );
  const wakes = await q<{ process_id: string; sequence: string }>(
    `SELECT process_id, sequence FROM ${t('rm_wakes')}`,
  );
  const replays = await q<{
    process_id: string;
    key: string;
    sequence: string;
    payload_hash: string;
  }>(`SELECT process_id, key, sequence, payload_hash FROM ${t('rm_replays')}`);
  const events = await q<{ event: ProcessEvent }>(
    `SELECT e.data -> 'event' AS event FROM ${t('rm_events')} m
       JOIN ${t('events')} e ON e.position = m.position`,
  );
  return {
    checkpoint: BigInt(checkpoint?.position ?? START),
    rows: tableDump({
      processes: processes.map((p) => [p.id, p.record]),
      running: processes.filter((p) => p.running).map((p) => [p.id, true]),
      grants: grants.map((g) => [`${g.grant_row.scopeId} ${g.grant_row.processId}`, g.grant_row]),
      leases: leases.map((l) => [l.process_id, l.lease]),
      wakes: wakes.map((w) => [`${w.process_id} ${w.sequence}`, true]),
      replays: replays.map((r) => [
        `${r.process_id} ${r.key}`,
        { sequence: Number(r.sequence), payloadHash: r.payload_hash },
      ]),
      events: events.map(({ event }) => [`${event.processId} ${event.sequence}`, event]),
    }),
  };
};
