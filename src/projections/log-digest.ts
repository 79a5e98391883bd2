import { linkHashOf, nextDigest } from '../domain/integrity.ts';
import { type PrunedStep, prunedStepsIn, RETENTION_STREAM } from '../domain/retention.ts';
import type { EventStore, Position, StoredEvent } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';

/**
 * The events prunes removed, as the log digest chained them (their records name each one's
 * position and hash): a fold from before a prune steps over them in their places, so the
 * digest it reaches is the one the log had (a rebuild, a registry folding its models at
 * open, a verification). Empty until loaded; a fold that starts at the head needs none.
 */
export class PrunedSteps {
  private steps: readonly PrunedStep[] = [];

  /** Reads every prune record of the log (one short stream). */
  async load(store: EventStore): Promise<void> {
    this.steps = await loadPrunedSteps(store);
  }

  /** The removed events after `after`, up to and including `upTo`, in position order. */
  between(after: Position, upTo: Position): readonly PrunedStep[] {
    const { steps } = this;
    if (steps.length === 0 || steps.at(-1)!.position <= after) return [];
    let lo = 0;
    let hi = steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid]!.position <= after) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < steps.length && steps[end]!.position <= upTo) end += 1;
    return steps.slice(lo, end);
  }
}

/** The removed events every readable prune record of the log names, in position order. */
export const loadPrunedSteps = async (store: EventStore): Promise<PrunedStep[]> =>
  prunedStepsIn(await store.readStream(RETENTION_STREAM));

/**
 * Moves the tables' log digest (domain/integrity.ts) over process events the tables have
 * just applied, in position order, in the same transaction as their rows and checkpoint: so
 * the digest always describes exactly the log up to the checkpoint. Events a prune removed
 * (`pruned`) before each event, and up to `upTo` (the last position applied, a prune's
 * record included), are stepped over as they were chained. An unknown digest (tables made
 * before digests) stays unknown until a rebuild starts it from genesis.
 */
export const advanceDigest = (
  tables: ReadModelTables,
  events: readonly StoredEvent[],
  pruned?: PrunedSteps,
  upTo?: Position,
): void => {
  const before = tables.digest();
  if (before === null) return;
  let { digest, position } = before;
  const step = (at: Position, stream: string, revision: number, hash: string) => {
    digest = nextDigest(digest, at, stream, revision, hash);
    tables.digests?.record(at, digest);
    position = at;
  };
  for (const event of events) {
    for (const removed of pruned?.between(position, event.position) ?? []) {
      step(removed.position, removed.stream, removed.revision, removed.hash);
    }
    step(event.position, event.stream, event.revision, linkHashOf(event));
  }
  if (pruned && upTo !== undefined) {
    for (const removed of pruned.between(position, upTo)) {
      step(removed.position, removed.stream, removed.revision, removed.hash);
    }
  }
  if (position !== before.position) tables.setDigest({ digest, position });
};
