import { STREAM_PREFIX } from '../domain/events.ts';
import {
  GENESIS_DIGEST,
  type LogDigest,
  linkHashOf,
  nextDigest,
  TextEvent,
} from '../domain/integrity.ts';
import { IntegrityCheck, type LogEvent } from '../domain/integrity-check.ts';
import type { IntegrityProgress, IntegrityReport } from '../domain/integrity-report.ts';
import type { Json } from '../domain/json.ts';
import { isRetentionStream, type PrunedStep, readRetentionEvent } from '../domain/retention.ts';
import { loadPrunedSteps } from '../projections/log-digest.ts';
import { type EventStore, type Position, START, type StoredEvent } from '../store/port.ts';
import type { Awaitable, ReadModelTables } from '../store/read-model-tables.ts';

export interface IntegrityOptions {
  /** a digest kept earlier: the log up to its position must still hash to it */
  against?: LogDigest;
  onProgress?: (progress: IntegrityProgress) => void;
}

/** Events read before their recorded digests are fetched and the two are compared. */
const CHUNK = 2_000;

/**
 * Reads the log in position order and checks every process event's hash, its link to its
 * stream's previous event and, where the digest after each position is kept (by the store
 * itself on PostgreSQL, by the tables on SQLite and memory), that each position holds the
 * event recorded there (see domain/integrity-check.ts for what each problem means).
 *
 * Where it is, a first pass checks the log against the running digest kept with it instead:
 * a log whose every event checks and which hashes to that digest holds at each position the
 * event recorded there (the digest chains every position's step), so its report is the one
 * the recorded digests would give, and they are read only when something is wrong, in a
 * second pass that names where (progress then starts again).
 */
export const verifyLogIntegrity = async (
  store: EventStore,
  tables: ReadModelTables,
  options: IntegrityOptions = {},
): Promise<IntegrityReport> => {
  const head = tables.checkpoint();
  const known = tables.digest();
  const kept = options.against ? [options.against] : [];
  // events prunes removed: the digest steps over each in its place
  const pruned = await loadPrunedSteps(store);
  const recorded = store.logDigests
    ? { rows: store.logDigests, known: await store.logDigests.current() }
    : tables.digests && known
      ? { rows: tables.digests, known }
      : undefined;
  if (!recorded) return checkLog(store, head, pruned, kept, undefined, options);
  const fast = await checkLog(store, head, pruned, [...kept, recorded.known], undefined, options);
  if (fast.ok) return fast;
  // recorded digests cover the log up to the running digest's position, from genesis
  const index = { rows: recorded.rows, upTo: recorded.known.position };
  return checkLog(store, head, pruned, kept, index, options);
};

/** Recorded digests: the tables' (read at once) or the store's (a server round trip). */
interface RecordedDigests {
  between(after: Position, upTo: Position): Awaitable<{ position: Position; digest: string }[]>;
}

const checkLog = async (
  store: EventStore,
  head: Position,
  pruned: readonly PrunedStep[],
  kept: readonly LogDigest[],
  index: { rows: RecordedDigests; upTo: Position } | undefined,
  options: IntegrityOptions,
): Promise<IntegrityReport> => {
  const check = new IntegrityCheck(...kept);
  const steps = new IndexWalk(check, index, pruned);
  let chunk: LogEvent[] = [];
  const flush = async () => {
    await steps.feed(chunk);
    const last = chunk.at(-1);
    if (last) options.onProgress?.({ checked: steps.checked, position: last.position, head });
    chunk = [];
  };
  for await (const page of logPages(store)) {
    for (const stored of page) {
      if (isRetentionStream(stored.stream)) {
        check.pruned(prunedBy(stored));
        continue;
      }
      if (!stored.stream.startsWith(STREAM_PREFIX)) continue;
      chunk.push(stored);
      if (chunk.length >= CHUNK) await flush();
    }
  }
  await flush();
  await steps.end();
  return check.finish();
};

/**
 * The log a page at a time: as text where the store keeps it (an event written in
 * canonical form is then hashed without parsing its data), else as `readAll` gives it.
 */
async function* logPages(store: EventStore): AsyncIterable<readonly LogEvent[]> {
  if (store.readAllText) {
    for await (const page of store.readAllText()) yield page.map((text) => new TextEvent(text));
    return;
  }
  let page: StoredEvent[] = [];
  for await (const stored of store.readAll()) {
    page.push(stored);
    if (page.length >= CHUNK) {
      yield page;
      page = [];
    }
  }
  yield page;
}

/**
 * Walks the recorded digests beside the log: each recorded position must hold an event
 * that is one digest step from the recorded digest before it. Positions a prune emptied are
 * stepped over with their recorded digest, else (no digest recorded there, or none kept at
 * all) with the step the prune's record names.
 */
class IndexWalk {
  checked = 0;
  private previous = GENESIS_DIGEST;
  private after: Position = START;
  /** the next pruned step not yet passed */
  private s = 0;

  constructor(
    private readonly check: IntegrityCheck,
    private readonly index: { rows: RecordedDigests; upTo: Position } | undefined,
    private readonly pruned: readonly PrunedStep[],
  ) {}

  async feed(events: readonly LogEvent[]): Promise<void> {
    const last = events.at(-1);
    if (!last) return;
    const { index } = this;
    if (!index) {
      for (const event of events) {
        this.passPruned(event.position);
        this.check.event(event);
      }
      this.checked += events.length;
      return;
    }
    let upTo = index.upTo;
    if (last.position < upTo) upTo = last.position;
    const rows = upTo > this.after ? await index.rows.between(this.after, upTo) : [];
    let r = 0;
    for (const event of events) {
      r = this.passGone(rows, r, event.position);
      const row = rows[r];
      if (row && row.position === event.position) {
        this.check.event(event, { previous: this.previous, digest: row.digest });
        this.previous = row.digest;
        r += 1;
      } else {
        this.check.event(event, event.position <= index.upTo ? 'unrecorded' : undefined);
      }
    }
    this.passGone(rows, r, upTo + 1n);
    if (upTo > this.after) this.after = upTo;
    this.checked += events.length;
  }

  /** Recorded positions, and pruned ones, after the last event of the log are gone too. */
  async end(): Promise<void> {
    const { index } = this;
    if (!index) {
      this.passPruned(undefined);
      return;
    }
    const rows = index.upTo > this.after ? await index.rows.between(this.after, index.upTo) : [];
    this.passGone(rows, 0, undefined);
  }

  /** Without recorded digests: the pruned steps before `before` (all of them: undefined). */
  private passPruned(before: Position | undefined): void {
    const { pruned } = this;
    while (this.s < pruned.length && (before === undefined || pruned[this.s]!.position < before)) {
      const step = pruned[this.s++]!;
      this.check.prunedStep(step.position, step.stream, step.revision, step.hash);
    }
  }

  /**
   * Recorded rows from `r`, and pruned steps, before `before` (all of them: undefined):
   * positions with no event left. A pruned position keeps its recorded digest; one with
   * none recorded (tables rebuilt before prunes named their steps) takes the step the record
   * names, from the digest before it. Returns the first row not passed.
   */
  private passGone(
    rows: readonly { position: Position; digest: string }[],
    from: number,
    before: Position | undefined,
  ): number {
    let r = from;
    const { pruned } = this;
    for (;;) {
      const row = rows[r];
      const step = pruned[this.s];
      const rowDue = row !== undefined && (before === undefined || row.position < before);
      const stepDue = step !== undefined && (before === undefined || step.position < before);
      if (!rowDue && !stepDue) return r;
      if (rowDue && (!stepDue || row.position <= step.position)) {
        if (stepDue && step.position === row.position) this.s += 1;
        this.vanish(row);
        r += 1;
      } else {
        const { position, stream, revision, hash } = step!;
        this.vanish({
          position,
          digest: nextDigest(this.previous, position, stream, revision, hash),
        });
        this.s += 1;
      }
    }
  }

  private vanish(row: { position: Position; digest: string }): void {
    this.check.vanishedAt(row.position, row.digest);
    this.previous = row.digest;
  }
}

/**
 * The digest of the log up to its last process event: the store's own where it keeps one
 * (PostgreSQL), else the tables' (moved with every append), else, where they do not know it
 * (tables made before digests), folded from the log.
 */
export const logDigestOf = async (
  store: EventStore,
  tables: ReadModelTables,
): Promise<LogDigest> => {
  if (store.logDigests) return store.logDigests.current();
  const kept = tables.digest();
  if (kept) return kept;
  let digest = GENESIS_DIGEST;
  let position = START;
  for await (const event of store.readAll({ streamPrefix: STREAM_PREFIX })) {
    digest = nextDigest(digest, event.position, event.stream, event.revision, linkHashOf(event));
    position = event.position;
  }
  return { digest, position };
};

/** The processes a prune's record says it removed; none when the record cannot be read. */
const prunedBy = (stored: LogEvent): { lastPosition: string; events: number }[] => {
  try {
    const { id, stream, revision, position, type } = stored;
    return readRetentionEvent({
      id,
      stream,
      revision,
      position,
      type,
      data: stored.data as Json,
      metadata: stored.metadata as Json,
    }).event.data.processes;
  } catch {
    return [];
  }
};
