import { linkHashOf, nextDigest } from '../domain/integrity.ts';
import type { StoredEvent } from '../store/port.ts';
import type { ReadModelTables } from '../store/read-model-tables.ts';

/**
 * Moves the tables' log digest (domain/integrity.ts) over process events the tables have
 * just applied, in position order, in the same transaction as their rows and checkpoint: so
 * the digest always describes exactly the log up to the checkpoint. An unknown digest (tables
 * made before digests) stays unknown until a rebuild starts it from genesis.
 */
export const advanceDigest = (tables: ReadModelTables, events: readonly StoredEvent[]): void => {
  const before = tables.digest();
  if (before === null || events.length === 0) return;
  let { digest } = before;
  for (const event of events) {
    digest = nextDigest(digest, event.position, event.stream, event.revision, linkHashOf(event));
    tables.digests?.record(event.position, digest);
  }
  tables.setDigest({ digest, position: events.at(-1)!.position });
};
