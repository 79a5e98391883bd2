import { z } from 'zod';
import { STREAM_PREFIX } from './events.ts';
import { JsonSchema } from './json.ts';
import { isRetentionStream } from './retention.ts';
import type { StoredEvent } from './stored-event.ts';

/** The streams an export carries: the process streams and the prune records. */
export const isExportedStream = (stream: string): boolean =>
  stream.startsWith(STREAM_PREFIX) || isRetentionStream(stream);

/**
 * One line of an NDJSON export: a stored domain event (or a prune record) with its ids and
 * positions. Positions are decimal strings (they are 64-bit and more on EventStoreDB); they
 * document where the event stood in the source log, and an import assigns new ones.
 */
export const ExportLineSchema = z.strictObject({
  stream: z
    .string()
    .refine(isExportedStream, `must be a process stream (${STREAM_PREFIX}…) or the prune records`),
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
