import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EVENT_VERSION, type EventMetadata, EventMetadataSchema } from './events.ts';
import type { Json } from './json.ts';
import { byCodeUnits } from './order.ts';
import type { ProcessRecord } from './schemas.ts';
import type { NewEvent, StoredEvent } from './stored-event.ts';
import { unreadableEvent } from './unreadable.ts';

/**
 * Retention: terminal processes leave the store only after their whole history is in an
 * archive, and each prune is itself a fact in the log, on a stream of its own (not a
 * process stream, so no process id can collide with it). The projections apply it by
 * deleting every row of the pruned processes; `history` and `asOf` read it to say which
 * processes left, when, by whom and where they went.
 */
export const RETENTION_STREAM = 'procreg-retention';

export const isRetentionStream = (stream: string): boolean => stream === RETENTION_STREAM;

/** One pruned process: what its archive file holds, and where its stream ended. */
export const PrunedProcessSchema = z.strictObject({
  processId: z.string(),
  stream: z.string(),
  /** revision of the stream's last event: the stream held exactly revisions 0..lastRevision */
  lastRevision: z.number().int().nonnegative(),
  /** global position of that last event (decimal, as in the export format) */
  lastPosition: z.string().regex(/^[0-9]+$/),
  /** the archive file, relative to the archive directory */
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  events: z.number().int().positive(),
  /**
   * In the prune's record (not the manifest): each removed event's position (decimal) and
   * the hash the log digest chained for it, by revision, so the digest can be folded again
   * over the log without them (integrity.ts). Absent in records written before it.
   */
  steps: z
    .array(z.tuple([z.string().regex(/^[0-9]+$/), z.string().regex(/^[0-9a-f]{64}$/)]))
    .optional(),
});
export type PrunedProcess = z.infer<typeof PrunedProcessSchema>;

/**
 * A prune record as another log keeps it (an import, a copy): what left the source and
 * where to, without the steps, whose positions are the source log's. The pruned events
 * were never in the new log, so its digest has nothing to step over.
 */
export const withoutSteps = (data: Json): Json => {
  const record = data as { processes?: unknown };
  if (typeof data !== 'object' || data === null || !Array.isArray(record.processes)) return data;
  return {
    ...(data as Record<string, Json>),
    processes: (record.processes as Record<string, Json>[]).map(({ steps: _, ...rest }) => rest),
  };
};

/** A removed event as the log digest chained it: what a fold steps over in its place. */
export interface PrunedStep {
  position: bigint;
  stream: string;
  revision: number;
  hash: string;
}

/** Every removed event the prunes' records name, in position order. */
export const prunedSteps = (prunes: readonly RecordedPrune[]): PrunedStep[] => {
  const steps: PrunedStep[] = [];
  for (const prune of prunes) {
    for (const { stream, steps: removed } of prune.event.data.processes) {
      removed?.forEach(([position, hash], revision) => {
        steps.push({ position: BigInt(position), stream, revision, hash });
      });
    }
  }
  return steps.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
};

/**
 * The archive's table of contents, written after every file it names and read back before
 * anything leaves the store.
 */
export const ArchiveManifestSchema = z.strictObject({
  format: z.literal('procreg-archive/1'),
  pruneId: z.string(),
  createdAtMs: z.number(),
  terminalBeforeMs: z.number(),
  processes: z.array(PrunedProcessSchema),
});
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;

export const MANIFEST_FILE = 'manifest.json';

const ProcessesPrunedSchema = z.strictObject({
  type: z.literal('ProcessesPruned'),
  data: z.strictObject({
    pruneId: z.string(),
    terminalBeforeMs: z.number(),
    /** the archive directory of this prune (absolute when written by procreg) */
    archive: z.string(),
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
    processes: z.array(PrunedProcessSchema).min(1),
    atMs: z.number(),
  }),
});
export type ProcessesPruned = z.infer<typeof ProcessesPrunedSchema>;
export const PRUNE_COMMAND = 'pruneTerminalProcesses';

export const encodePrune = (
  id: string,
  event: ProcessesPruned,
  metadata: EventMetadata,
): NewEvent => ({
  id,
  type: event.type,
  // the schema's data is plain JSON with no optional members, so the cast is sound
  data: event.data as unknown as Json,
  metadata,
});

/** A prune as the log holds it: the fact, who made it, and where it stands. */
export interface RecordedPrune {
  event: ProcessesPruned;
  metadata: EventMetadata;
  position: bigint;
}

/** Reads a retention event; one procreg cannot read stops the reader (`unavailable`). */
export const readRetentionEvent = (stored: StoredEvent): RecordedPrune => {
  const metadata = EventMetadataSchema.safeParse(stored.metadata);
  const event = ProcessesPrunedSchema.safeParse({ type: stored.type, data: stored.data });
  if (!metadata.success || !event.success || metadata.data.eventVersion > EVENT_VERSION) {
    throw unreadableEvent(
      stored,
      new Error((metadata.error ?? event.error)?.message ?? 'a newer eventVersion'),
    );
  }
  return { event: event.data, metadata: metadata.data, position: stored.position };
};

/**
 * The removed events every prune record among `records` names, in position order. A record
 * this release cannot read names none here (a fold that reaches it stops there, as at any
 * unreadable event; verifying reports what it cannot account for).
 */
export const prunedStepsIn = (records: Iterable<StoredEvent>): PrunedStep[] => {
  const prunes: RecordedPrune[] = [];
  for (const stored of records) {
    try {
      prunes.push(readRetentionEvent(stored));
    } catch {}
  }
  return prunedSteps(prunes);
};

export const sha256Hex = (bytes: string | Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

/**
 * The processes a prune may take: terminal, and terminal since before `terminalBeforeMs`
 * (a terminal record's `updatedAtMs` is its terminal event's time: nothing after the
 * terminal event moves it), oldest first, at most `limit`. Running processes never qualify.
 */
export const selectPrunable = (
  records: readonly ProcessRecord[],
  terminalBeforeMs: number,
  limit: number,
): ProcessRecord[] =>
  records
    .filter((r) => r.status.state !== 'running' && r.updatedAtMs < terminalBeforeMs)
    .sort((a, b) => a.updatedAtMs - b.updatedAtMs || byCodeUnits(a.id, b.id))
    .slice(0, limit);

/** Says where a pruned process went, for `history` and the CLI. */
export const prunedMessage = (p: PrunedSince): string =>
  `process \`${p.processId}\` was pruned at ${new Date(p.prunedAtMs).toISOString()} by ${p.actor ?? 'an unnamed caller'} (prune ${p.pruneId}, log position ${p.position}); its history is archived in ${p.archive} (manifest sha256 ${p.manifestSha256}): restore it with \`procreg import ${p.archive}\``;

/** At most this many processes per prune (one log record names them all). */
export const MAX_PRUNE_LIMIT = 10_000;

export const PruneOptionsSchema = z.strictObject({
  /** prune processes that became terminal before this time (epoch ms, registry clock) */
  terminalBeforeMs: z.number().finite(),
  /** the directory the archive goes in (a subdirectory per prune is made there) */
  archiveTo: z.string().min(1, 'must name a directory'),
  /** at most this many processes, oldest first (default 1 000) */
  limit: z.number().int().positive().max(MAX_PRUNE_LIMIT).optional(),
  /** list what would be pruned; write nothing */
  dryRun: z.boolean().optional(),
});
export type PruneOptions = z.input<typeof PruneOptionsSchema>;

export interface PruneProgress {
  phase: 'archive' | 'verify' | 'remove';
  done: number;
  total: number;
}

export interface PruneResult {
  dryRun: boolean;
  /** the processes pruned (or, on a dry run, that would be), with their event counts */
  processes: { processId: string; events: number; terminalAtMs: number }[];
  /** absent on a dry run or when nothing qualified */
  pruneId?: string;
  archive?: string;
  manifestSha256?: string;
  /** where the prune stands in the log */
  position?: bigint;
  /** streams an earlier, interrupted prune had recorded and this one removed */
  finished: number;
}

/** A process that left the store: when, by whom, where it went. */
export interface PrunedSince {
  processId: string;
  prunedAtMs: number;
  /** the audit actor of the prune (null: none was named) */
  actor: string | null;
  /** the prune's position in the log */
  position: bigint;
  pruneId: string;
  archive: string;
  manifestSha256: string;
}

const prunedEntry = (prune: RecordedPrune, processId: string): PrunedSince => ({
  processId,
  prunedAtMs: prune.event.data.atMs,
  actor: prune.metadata.actor,
  position: prune.position,
  pruneId: prune.event.data.pruneId,
  archive: prune.event.data.archive,
  manifestSha256: prune.event.data.manifestSha256,
});

/** The processes pruned after `position`, in log order. */
export const prunedAfter = (prunes: readonly RecordedPrune[], position: bigint): PrunedSince[] =>
  prunes
    .filter((p) => p.position > position)
    .flatMap((p) => p.event.data.processes.map((entry) => prunedEntry(p, entry.processId)));

/** The last prune that took `processId`, if any. */
export const lastPruneOf = (
  prunes: readonly RecordedPrune[],
  processId: string,
): PrunedSince | undefined => {
  for (let i = prunes.length - 1; i >= 0; i -= 1) {
    const prune = prunes[i]!;
    if (prune.event.data.processes.some((p) => p.processId === processId)) {
      return prunedEntry(prune, processId);
    }
  }
  return undefined;
};
