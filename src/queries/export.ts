import { readStoredEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { toExportLine } from '../domain/export-line.ts';
import type { EventStore } from '../store/port.ts';

/**
 * The registry's whole log as NDJSON lines (each ends with a newline), in log order. Each
 * event is decoded on the way out, so an export never carries data procreg cannot import.
 */
export async function* exportLines(store: EventStore): AsyncGenerator<string> {
  for await (const stored of store.readAll({ streamPrefix: STREAM_PREFIX })) {
    readStoredEvent(stored);
    yield `${JSON.stringify(toExportLine(stored))}\n`;
  }
}
