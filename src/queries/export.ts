import { z } from 'zod';
import { readStoredEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { JsonSchema } from '../domain/json.ts';
import type { EventStore, StoredEvent } from '../store/port.ts';

/**
 * One line of an NDJSON export: a stored domain event with its ids and positions. Positions
 * are decimal strings (they are 64-bit and more on EventStoreDB); they document where the
 * event stood in the source log, and an import assigns new ones.
 */
export const ExportLineSchema = z.strictObject({
  stream: z.string().startsWith(STREAM_PREFIX),
  revision: z.number().int().nonnegative(),
  position: z.string().regex(/^[0-9]+$/),
  eventId: z.uuid(),
  type: z.string(),
  data: JsonSchema,
  metadata: JsonSchema,
});
export type ExportLine = z.infer<typeof ExportLineSchema>;

export const toExportLine = (stored: StoredEvent): ExportLine => ({
  stream: stored.stream,
  revision: stored.revision,
  position: stored.position.toString(),
  eventId: stored.id,
  type: stored.type,
  data: stored.data,
  metadata: stored.metadata,
});

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
