/*
 * Over 300 lines: the schema's tables, its one write function (`append_batch`, whose steps
 * read best in one place) and the upgrade from each earlier version.
 */
import type pg from 'pg';
import { RegistryError } from '../domain/errors.ts';
import { digestStepSql, digestTables, processPrefixSql } from './postgres-digests.ts';
import { applyChangesFunction, MODEL_TABLES, modelTables } from './postgres-models.ts';
import { VERSION_TABLES, versionTables } from './postgres-versions.ts';

/**
 * The procreg PostgreSQL schema, version 3 (version 1 had no version tables: opening one
 * adds them and empties the read models, which the next read or append rebuilds from the
 * log, versions included; version 2 had no per-position digests: opening one adds them, and
 * the store folds the existing log into them once, see postgres-digests.ts). Everything
 * lives in one PostgreSQL schema (default `procreg`), so several registries can share a
 * database, each in its own.
 * `procreg_meta` marks a schema as procreg's and holds its version, like the SQLite file's
 * application_id and user_version: a foreign schema is refused before anything is written
 * to it, and a schema from a newer procreg is refused rather than misread.
 */
export const SCHEMA_VERSION = 3;

/** Lower-case identifiers only, so the name needs no quoting rules beyond ours and fits the NOTIFY channel. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** The NOTIFY channel appends announce their new head on; one per schema. */
export const channelOf = (schema: string): string => `procreg_${schema}`;

/** A quoted, schema-qualified name; `schema` is checked against SCHEMA_NAME first. */
export const qualified = (schema: string, name: string): string => `"${schema}".${name}`;

/**
 * - `events.position` is the global order. Appends take the one `log_head` row FOR UPDATE
 *   before anything else and hold it until they commit, so positions are handed out in
 *   commit order and densely: a reader whose snapshot holds position p holds every
 *   position below p. No reader has to wait for, or can skip past, a transaction still in
 *   flight (the problem of `position > checkpoint` readers over a plain sequence).
 * - UNIQUE (stream, revision) backs dense revisions even if a check were ever wrong; its
 *   index serves stream reads and a stream's last revision. UNIQUE (event_id) backs
 *   deduplication of re-sent events.
 * - data and metadata are `json`, which keeps the text exactly as written (`jsonb` would
 *   refuse `\u0000` in strings and reorder keys) while still allowing `data->>'x'` in SQL.
 */
const tables = (s: string): string => `
  CREATE TABLE ${qualified(s, 'procreg_meta')} (
    key   text PRIMARY KEY,
    value text NOT NULL
  );
  CREATE TABLE ${qualified(s, 'log_head')} (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint  NOT NULL
  );
  INSERT INTO ${qualified(s, 'log_head')} (position) VALUES (0);
  CREATE TABLE ${qualified(s, 'events')} (
    position    bigint      PRIMARY KEY,
    stream      text        NOT NULL,
    revision    bigint      NOT NULL,
    type        text        NOT NULL,
    data        json        NOT NULL,
    metadata    json        NOT NULL,
    event_id    text        NOT NULL UNIQUE,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, revision)
  );
  INSERT INTO ${qualified(s, 'procreg_meta')} (key, value)
    VALUES ('format', 'procreg'), ('schema_version', '${SCHEMA_VERSION}');
`;

/**
 * The journal table, apart from `events`, `log_head` and the `rm_*` tables: writing it moves
 * no position, no head and no checkpoint. Created at every open (if missing) under the
 * schema's advisory lock, so a schema made by an earlier release gains it too.
 */
export const journalTable = (s: string): string => `
  CREATE TABLE IF NOT EXISTS ${qualified(s, 'journal_refusals')} (
    id         bigserial PRIMARY KEY,
    process_id text      NOT NULL,
    entry      json      NOT NULL
  );
  CREATE INDEX IF NOT EXISTS journal_refusals_process
    ON ${qualified(s, 'journal_refusals')} (process_id, id);
`;

/** `'wrong'` rows carry the stream's actual revision in `revision`. */
export type AppendOutcome = 'head' | 'behind' | 'ok' | 'wrong' | 'conflict';

/**
 * How `append_batch` runs (set on the function, so also for `apply_model_changes`, which it
 * calls). A PL/pgSQL function's statements are planned once per connection and the plan
 * kept: a plan made while a table was small (a new store) is a sequential scan, and it was
 * kept as the table grew, so each append read the whole log to check its event ids
 * (~350 pages per append at 4 500 events, until an ANALYZE happened to replace the plan).
 * With sequential scans off the plans use the tables' indexes whatever their size when
 * planned: no step of an append reads more rows as the log grows. Every statement of the
 * function that reads a table by a key has an index for it; the few that read a one-row
 * table whole still scan it, at a cost the planner inflates past the JIT threshold, which
 * needs JIT off, as every connection of the store has it (postgres.ts; with JIT on, it
 * compiled such statements at every call: ~60 ms an append).
 */
const APPEND_SETTINGS = 'SET enable_seqscan = off';

/** Gives the `append_batch` of a schema made before APPEND_SETTINGS its settings. */
const appendFunctionSettings = (s: string): string =>
  `ALTER FUNCTION ${qualified(s, 'append_batch')} ${APPEND_SETTINGS};`;

/**
 * One round trip appends a whole group commit. Each append (a group of writes, `w_append`)
 * is all or nothing and is checked on its own, so a stale append fails alone: its writes'
 * expected revisions are compared with the streams' last revisions (-2 = any, -1 = no
 * stream), an exact retry of stored events answers with their result, and event ids
 * already stored (or repeated within the append) are a conflict; only when every check
 * passes is anything inserted. Checks need no subtransactions: the head row's lock keeps
 * every other appender out until commit. Rows out: one `head` row (the head before), then
 * per append either one `ok` row per write or one `wrong`/`conflict` row.
 */
const appendFunction = (s: string): string => `
  CREATE FUNCTION ${qualified(s, 'append_batch')}(
    w_append int[], w_stream text[], w_stream_json text[], w_expected bigint[], w_count int[],
    e_id text[], e_type text[], e_data text[], e_metadata text[], e_link text[],
    p_project boolean, c_append int[], c_src int[], c_table text[], c_op text[],
    c_k1 text[], c_k2 text[], c_k3 text[], c_row text[], c_pos bigint[]
  ) RETURNS TABLE (o_append int, o_write int, o_outcome text, o_revision bigint,
                   o_position bigint, o_detail text)
  LANGUAGE plpgsql ${APPEND_SETTINGS} AS $fn$
  DECLARE
    n int := coalesce(cardinality(w_stream), 0);
    head bigint; head_before bigint;
    w int := 1; e int := 1; last_w int; i int; ei int;
    actual bigint[]; replay_pos bigint[]; new_ids text[];
    found_ids text[]; found_pos bigint; failed boolean; cur bigint;
    c_id text; c_stream text; c_revision bigint;
    e_pos bigint[] := '{}'; a_first int[] := '{}'; j int; src bigint;
    r_table text[] := '{}'; r_op text[] := '{}'; r_k1 text[] := '{}'; r_k2 text[] := '{}';
    r_k3 text[] := '{}'; r_row text[] := '{}'; r_pos bigint[] := '{}';
    dg text; dg_pos bigint; dg_through bigint; d_pos bigint[] := '{}'; d_digest text[] := '{}';
  BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'procreg appends need READ COMMITTED, not %',
        current_setting('transaction_isolation');
    END IF;
    SELECT h.position, h.digest, h.digest_position, h.digested INTO head, dg, dg_pos, dg_through
      FROM ${qualified(s, 'log_head')} h FOR UPDATE;
    head_before := head;
    o_append := 0; o_outcome := 'head'; o_position := head_before;
    RETURN NEXT;
    -- models that missed events (written without them) must catch up before they change
    IF p_project AND (SELECT m.position FROM ${qualified(s, 'rm_checkpoint')} m) <> head_before THEN
      o_outcome := 'behind';
      RETURN NEXT;
      RETURN;
    END IF;
    WHILE w <= n LOOP
      last_w := w;
      WHILE last_w < n AND w_append[last_w + 1] = w_append[w] LOOP last_w := last_w + 1; END LOOP;
      o_append := w_append[w]; failed := false; a_first[w_append[w]] := e;
      actual := '{}'; replay_pos := '{}'; new_ids := '{}';
      ei := e;
      FOR i IN w..last_w LOOP
        SELECT coalesce(max(ev.revision), -1) INTO cur
          FROM ${qualified(s, 'events')} ev WHERE ev.stream = w_stream[i];
        actual[i] := cur;
        IF w_expected[i] <> -2 AND w_expected[i] <> actual[i] THEN
          found_ids := NULL; found_pos := NULL;
          IF w_expected[i] >= -1 AND w_count[i] > 0 THEN
            SELECT array_agg(ev.event_id ORDER BY ev.revision), max(ev.position)
              INTO found_ids, found_pos FROM ${qualified(s, 'events')} ev
              WHERE ev.stream = w_stream[i]
                AND ev.revision BETWEEN w_expected[i] + 1 AND w_expected[i] + w_count[i];
          END IF;
          IF found_ids IS NOT NULL AND found_ids = e_id[ei : ei + w_count[i] - 1] THEN
            replay_pos[i] := found_pos;
          ELSE
            o_write := i; o_outcome := 'wrong'; o_revision := actual[i];
            o_position := NULL; o_detail := NULL;
            RETURN NEXT; failed := true; EXIT;
          END IF;
        ELSE
          new_ids := new_ids || e_id[ei : ei + w_count[i] - 1];
        END IF;
        ei := ei + w_count[i];
      END LOOP;
      IF NOT failed AND cardinality(new_ids) > 0 THEN
        SELECT ev.event_id, ev.stream, ev.revision INTO c_id, c_stream, c_revision
          FROM ${qualified(s, 'events')} ev WHERE ev.event_id = ANY (new_ids) LIMIT 1;
        IF c_id IS NULL AND (SELECT count(DISTINCT x) FROM unnest(new_ids) x) < cardinality(new_ids) THEN
          c_id := (SELECT x FROM unnest(new_ids) x GROUP BY x HAVING count(*) > 1 LIMIT 1);
          c_stream := NULL; c_revision := NULL;
        END IF;
        IF c_id IS NOT NULL THEN
          o_write := w; o_outcome := 'conflict'; o_revision := c_revision;
          o_position := NULL; o_detail := c_id || chr(10) || coalesce(c_stream, '');
          RETURN NEXT; failed := true;
        END IF;
      END IF;
      ei := e;
      FOR i IN w..last_w LOOP
        IF NOT failed THEN
          o_write := i; o_outcome := 'ok'; o_detail := NULL;
          IF replay_pos[i] IS NOT NULL THEN
            o_revision := w_expected[i] + w_count[i]; o_position := replay_pos[i];
            o_detail := 'replay';
          ELSE
            INSERT INTO ${qualified(s, 'events')} (position, stream, revision, type, data, metadata, event_id)
              SELECT head + g.n, w_stream[i], actual[i] + g.n, e_type[ei + g.n - 1],
                     e_data[ei + g.n - 1]::json, e_metadata[ei + g.n - 1]::json, e_id[ei + g.n - 1]
                FROM generate_series(1, w_count[i]) AS g(n);
            FOR j IN 1 .. w_count[i] LOOP e_pos[ei + j - 1] := head + j; END LOOP;
            -- the digest steps over each process event while it covers the log (dg_through
            -- = head); an event whose hash the client could not know stops it there
            IF dg_through = head THEN
              FOR j IN 1 .. w_count[i] LOOP
                IF starts_with(w_stream[i], ${processPrefixSql}) THEN
                  EXIT WHEN e_link[ei + j - 1] IS NULL;
                  dg := ${digestStepSql('dg', 'head + j', 'w_stream_json[i]', 'actual[i] + j', 'e_link[ei + j - 1]')};
                  dg_pos := head + j;
                  d_pos := d_pos || dg_pos; d_digest := d_digest || dg;
                END IF;
                dg_through := head + j;
              END LOOP;
            END IF;
            head := head + w_count[i];
            o_revision := actual[i] + w_count[i];
            o_position := CASE WHEN w_count[i] > 0 THEN head ELSE (
              SELECT coalesce(max(ev.position), 0) FROM ${qualified(s, 'events')} ev
               WHERE ev.stream = w_stream[i]) END;
          END IF;
          RETURN NEXT;
        END IF;
        ei := ei + w_count[i];
      END LOOP;
      e := ei; w := last_w + 1;
    END LOOP;
    -- the row changes of the events stored (not of refused or replayed appends), in order
    FOR j IN 1 .. coalesce(cardinality(c_table), 0) LOOP
      src := e_pos[a_first[c_append[j]] + c_src[j] - 1];
      CONTINUE WHEN src IS NULL;
      r_table := r_table || c_table[j]; r_op := r_op || c_op[j]; r_k1 := r_k1 || c_k1[j];
      r_k2 := r_k2 || c_k2[j]; r_k3 := r_k3 || c_k3[j]; r_row := r_row || c_row[j];
      r_pos := r_pos || CASE WHEN c_pos[j] < 0
        THEN e_pos[a_first[c_append[j]] - c_pos[j]::int - 1] ELSE c_pos[j] END;
    END LOOP;
    PERFORM ${qualified(s, 'apply_model_changes')}(r_table, r_op, r_k1, r_k2, r_k3, r_row, r_pos);
    IF p_project AND head > head_before THEN
      UPDATE ${qualified(s, 'rm_checkpoint')} SET position = head;
    END IF;
    IF cardinality(d_pos) > 0 THEN
      INSERT INTO ${qualified(s, 'log_digests')} (position, digest)
        SELECT * FROM unnest(d_pos, d_digest);
    END IF;
    IF head > head_before THEN
      UPDATE ${qualified(s, 'log_head')}
         SET position = head, digest = dg, digest_position = dg_pos, digested = dg_through;
      PERFORM pg_notify('${channelOf(s)}', head::text);
    END IF;
  END
  $fn$;
`;

/** Drops every `append_batch` of the schema, whatever an older release's parameters were. */
const dropAppendFunctions = (s: string): string => `
  DO $drop$ DECLARE f regprocedure; BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = '${s}' AND p.proname = 'append_batch' LOOP
      EXECUTE 'DROP FUNCTION ' || f;
    END LOOP;
  END $drop$;
`;

/**
 * Creates the schema on first open (several processes may open a new schema at once: the
 * first one creates it under an advisory lock, the others find it) and checks its version.
 */
export const ensureSchema = async (client: pg.ClientBase, schema: string): Promise<void> => {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [0x70726567, schema]);
    const state = await identify(client, schema);
    if (state === 'missing' || state === 'empty') {
      if (state === 'missing') await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(tables(schema));
      await client.query(digestTables(schema));
      await client.query(modelTables(schema));
      await client.query(versionTables(schema));
      await client.query(applyChangesFunction(schema));
      await client.query(appendFunction(schema));
    } else {
      if (state < 2) await client.query(versionTables(schema));
      // replaced at every open: an older schema gets the current function (retention's purge)
      await client.query(applyChangesFunction(schema));
      if (state < 3) {
        // every event from now on gets its digest; the log so far is folded after commit.
        // An older procreg still appending here fails (its function is gone) rather than
        // writing events without their digests.
        await client.query(digestTables(schema));
        await client.query(dropAppendFunctions(schema));
        await client.query(appendFunction(schema));
      } else await client.query(appendFunctionSettings(schema));
      if (state < 2) await client.query(resetModels(schema));
      if (state < SCHEMA_VERSION) {
        await client.query(
          `UPDATE ${qualified(schema, 'procreg_meta')} SET value = $1 WHERE key = 'schema_version'`,
          [String(SCHEMA_VERSION)],
        );
      }
    }
    await client.query(journalTable(schema));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
};

/** Empties the model tables and their versions: the catch-up rebuilds them from the log. */
const resetModels = (s: string): string => `
  TRUNCATE ${[...MODEL_TABLES, ...VERSION_TABLES].map((t) => qualified(s, t)).join(', ')};
  UPDATE ${qualified(s, 'rm_checkpoint')} SET position = 0;
`;

/** A procreg schema's version, or what is there instead. */
const identify = async (
  client: pg.ClientBase,
  schema: string,
): Promise<number | 'empty' | 'missing'> => {
  const { rows } = await client.query<{ exists: boolean; meta: string | null; objects: number }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
            to_regclass($2)::text AS meta,
            (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1) AS objects`,
    [schema, qualified(schema, 'procreg_meta')],
  );
  const row = rows[0]!;
  if (!row.exists) return 'missing';
  if (row.meta === null) {
    if (row.objects === 0) return 'empty';
    throw new RegistryError(
      'invalid',
      `the PostgreSQL schema ${schema} holds tables that are not procreg's; choose another schema (?schema=name)`,
    );
  }
  const meta = await client.query<{ key: string; value: string }>(
    `SELECT key, value FROM ${qualified(schema, 'procreg_meta')}`,
  );
  const values = new Map(meta.rows.map((r) => [r.key, r.value]));
  const version = Number(values.get('schema_version'));
  if (values.get('format') !== 'procreg' || !Number.isInteger(version)) {
    throw new RegistryError(
      'invalid',
      `the PostgreSQL schema ${schema} has a procreg_meta table that procreg did not write; choose another schema (?schema=name)`,
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new RegistryError(
      'invalid',
      `the PostgreSQL schema ${schema} has procreg schema version ${version}, newer than this procreg understands (${SCHEMA_VERSION}); upgrade procreg`,
    );
  }
  return version;
};
