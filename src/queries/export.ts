import { readStoredEvent } from '../domain/codec.ts';
import { isExportedStream, toExportLine } from '../domain/export-line.ts';
import { isRetentionStream, readRetentionEvent } from '../domain/retention.ts';
import type { EventStore } from '../store/port.ts';

/**
 * The registry's whole log as NDJSON lines (each ends with a newline), in log order: the
 * process streams and the prune records (so an imported copy knows what was pruned from
 * it, and where the archives are). Each event is decoded on the way out, so an export
 * never carries data procreg cannot import.
 */
export async function* exportLines(store: EventStore): AsyncGenerator<string> {
  for await (const stored of store.readAll()) {
    if (!isExportedStream(stored.stream)) continue;
    if (isRetentionStream(stored.stream)) readRetentionEvent(stored);
    else readStoredEvent(stored);
    yield `${JSON.stringify(toExportLine(stored))}\n`;
  }
}
