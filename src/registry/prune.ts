import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { metadataFor } from '../commands/encode.ts';
import { eventIdFor } from '../commands/event-ids.ts';
import { RegistryError } from '../domain/errors.ts';
import { streamOf } from '../domain/events.ts';
import { linkHashOf } from '../domain/integrity.ts';
import {
  encodePrune,
  PRUNE_COMMAND,
  type ProcessesPruned,
  type PrunedProcess,
  type PruneOptions,
  PruneOptionsSchema,
  type PruneProgress,
  type PruneResult,
  RETENTION_STREAM,
  type RecordedPrune,
  selectPrunable,
} from '../domain/retention.ts';
import type { AuditContext } from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import { readPrunes } from '../queries/retention.ts';
import { type StreamRemoval, WrongExpectedRevisionError } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';
import { ArchiveWriter, verifyArchive } from './archive.ts';
import type { RegistryCore } from './base.ts';

const DEFAULT_LIMIT = 1_000;
/** Removal attempts when processes change between archiving and removal. */
const ATTEMPTS = 3;

/**
 * Retention with archival, in an order that loses nothing at any crash:
 * 1. finish an interrupted earlier prune (a store that removes stream by stream);
 * 2. pick terminal processes that ended before the cut-off (never a running one);
 * 3. archive each one's whole stream, then the manifest, each synced; read it all back;
 * 4. only then remove the streams and append the prune's record, in one step where the
 *    store can (memory, SQLite, PostgreSQL: the record's projection purges their rows in
 *    the same transaction), each stream only if it still ends where it was archived.
 * A crash before 4 leaves an archive and the store unchanged (the next prune archives
 * them again, in a directory of its own). A store that removes stream by stream
 * (EventStoreDB: the record first, then each stream) can stop inside 4 with the record
 * written; step 1 of the next prune removes what it names.
 */
export const pruneTerminal = async (
  core: RegistryCore,
  audit: AuditContext | undefined,
  models: () => Promise<ReadModelTables>,
  input: PruneOptions,
  onProgress?: (progress: PruneProgress) => void,
): Promise<PruneResult> => {
  const options = parseInput(PruneOptionsSchema, input, 'prune options');
  const { store } = core;
  const deleteStreams = store.deleteStreams?.bind(store);
  if (!deleteStreams && !options.dryRun) {
    throw new RegistryError(
      'invalid',
      'pruning is not supported on this store (it cannot remove streams): nothing was archived or removed; export the log (procreg export) to keep a copy',
    );
  }
  const finished =
    deleteStreams && !options.dryRun ? await finishInterrupted(core, await readPrunes(store)) : 0;
  const candidates = selectPrunable(
    (await models()).processes('all'),
    options.terminalBeforeMs,
    options.limit ?? DEFAULT_LIMIT,
  );
  const base = { dryRun: options.dryRun === true, finished };
  if (options.dryRun || candidates.length === 0) {
    // a dry run reads no streams, so it counts no events (0)
    return { ...base, processes: candidates.map((r) => summary(r.id, 0, r.updatedAtMs)) };
  }
  const pruneId = randomUUID();
  const archive = new ArchiveWriter(resolve(options.archiveTo, `prune-${pruneId}`));
  await archive.open();
  const entries: PrunedProcess[] = [];
  // what the record names of each removed event: the log digest's step over it
  const steps = new Map<string, [string, string][]>();
  for (const record of candidates) {
    const events = await store.readStream(streamOf(record.id));
    entries.push(await archive.add(record.id, events));
    steps.set(
      record.id,
      events.map((e) => [e.position.toString(), linkHashOf(e)]),
    );
    onProgress?.({ phase: 'archive', done: entries.length, total: candidates.length });
  }
  const now = core.clock();
  const sealed = await archive.seal({
    pruneId,
    createdAtMs: now,
    terminalBeforeMs: options.terminalBeforeMs,
  });
  const { manifestSha256 } = await verifyArchive(archive.dir);
  if (manifestSha256 !== sealed) {
    throw new Error(`the manifest of ${archive.dir} changed while it was verified`);
  }
  onProgress?.({ phase: 'verify', done: entries.length, total: entries.length });
  const terminalAt = new Map(candidates.map((r) => [r.id, r.updatedAtMs]));
  let remaining = entries;
  for (let attempt = 0; attempt < ATTEMPTS && remaining.length > 0; attempt += 1) {
    const event: ProcessesPruned = {
      type: 'ProcessesPruned',
      data: {
        pruneId,
        terminalBeforeMs: options.terminalBeforeMs,
        archive: archive.dir,
        manifestSha256,
        processes: remaining.map((e) => ({ ...e, steps: steps.get(e.processId)! })),
        atMs: now,
      },
    };
    const metadata = metadataFor(PRUNE_COMMAND, audit, pruneId, now);
    const record = {
      stream: RETENTION_STREAM,
      expectedRevision: 'any' as const,
      events: [encodePrune(eventIdFor(pruneId, attempt, RETENTION_STREAM, 0), event, metadata)],
    };
    try {
      const result = await deleteStreams!(removalsOf(remaining), record);
      core.handler.forget(remaining.map((e) => e.processId));
      await dropRefusals(core, remaining);
      if (result) await core.runner.catchUp(result.position);
      onProgress?.({ phase: 'remove', done: remaining.length, total: remaining.length });
      return {
        ...base,
        processes: remaining.map((e) =>
          summary(e.processId, e.events, terminalAt.get(e.processId)!),
        ),
        pruneId,
        archive: archive.dir,
        manifestSha256,
        ...(result ? { position: result.position } : {}),
      };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      // someone wrote to a process after it was archived: it stays for a later prune
      remaining = await unchanged(core, remaining);
    }
  }
  return { ...base, processes: [], archive: archive.dir, manifestSha256 };
};

const summary = (processId: string, events: number, terminalAtMs: number) => ({
  processId,
  events,
  terminalAtMs,
});

const removalsOf = (entries: readonly PrunedProcess[]): StreamRemoval[] =>
  entries.map((e) => ({ stream: e.stream, lastRevision: e.lastRevision }));

/** The entries whose streams still end exactly where they were archived. */
const unchanged = async (
  core: RegistryCore,
  entries: readonly PrunedProcess[],
): Promise<PrunedProcess[]> => {
  const kept: PrunedProcess[] = [];
  for (const entry of entries) {
    const [last] = await core.store.readStream(entry.stream, {
      direction: 'backwards',
      maxCount: 1,
    });
    if (last?.revision === entry.lastRevision && last.position.toString() === entry.lastPosition)
      kept.push(entry);
  }
  return kept;
};

/**
 * Streams the last prune recorded but a store that removes stream by stream did not get to
 * (a crash between its record and its removals): each is removed if it still ends at the
 * archived event. A re-registered process's new stream never does (its events are new).
 */
const finishInterrupted = async (
  core: RegistryCore,
  prunes: readonly RecordedPrune[],
): Promise<number> => {
  const last = prunes.at(-1);
  if (!last) return 0;
  const left = await unchanged(core, last.event.data.processes);
  if (left.length === 0) return 0;
  await core.store.deleteStreams?.(removalsOf(left));
  core.handler.forget(left.map((e) => e.processId));
  await dropRefusals(core, left);
  return left.length;
};

/**
 * Retention for the journal of refused commands: a removed process's refusals go with its
 * stream. Best effort: ones left behind (a crash or a failure here) still count against
 * the per-process bound and never show in a later incarnation's history (each names its
 * incarnation).
 */
const dropRefusals = (core: RegistryCore, entries: readonly PrunedProcess[]): Promise<void> =>
  core.store.journal?.drop(entries.map((e) => e.processId)).catch(() => {}) ?? Promise.resolve();
