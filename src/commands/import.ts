import { createHash, type Hash } from 'node:crypto';
import { decodeEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { STREAM_PREFIX } from '../domain/events.ts';
import { type ExportLine, ExportLineSchema } from '../domain/export-line.ts';
import {
  isRetentionStream,
  RETENTION_STREAM,
  readRetentionEvent,
  withoutSteps,
} from '../domain/retention.ts';
import type { EventStore, StreamWrite } from '../store/port.ts';

/**
 * Where import reads NDJSON from (lines or chunks of text); called once to check every line
 * and once more to write them.
 */
export type LineSource = () => AsyncIterable<string> | Iterable<string>;

export interface ImportProgress {
  phase: 'check' | 'write';
  lines: number;
}

const BATCH = 500;

/**
 * Imports an NDJSON export into an empty store. Import restores facts, so it does not run
 * the deciders; instead it checks, before writing anything, that every line is a procreg
 * domain event and that each stream's revisions run 0, 1, 2 ... A bad file or a non-empty
 * store is rejected (`invalid` / `conflict`) with nothing written. Writing goes in batches
 * that each expect the revisions the export had, so a concurrent writer is detected.
 * The source is read twice (check, then write); a batch of the second reading is written
 * only if it hashes as the same lines did in the first, so a source that changes in
 * between is refused (`invalid`) before the batch holding the change (the batches before
 * it stay: no store here can take back what it wrote).
 *
 * `into: 'absent'` (restoring pruned processes from an archive) imports into a store that
 * may hold other processes: each stream of the source must be empty in the store instead.
 */
export const importLines = async (
  store: EventStore,
  source: LineSource,
  onProgress?: (progress: ImportProgress) => void,
  into: 'empty' | 'absent' = 'empty',
): Promise<{ imported: number }> => {
  if (into === 'empty') {
    const held = async () => {
      for await (const _ of store.readAll({ streamPrefix: STREAM_PREFIX, maxCount: 1 })) {
        return true;
      }
      return (await store.streamRevision(RETENTION_STREAM)) >= 0;
    };
    if (await held()) {
      throw new RegistryError(
        'conflict',
        'the target store already holds procreg events; import only into an empty store',
      );
    }
  }
  const streams = new Set<string>();
  // the first reading's hash of each batch of lines: the second must match before it is written
  const read = new BatchHashes();
  const checked = await forEachLine(source, (line, n, text) => {
    onProgress?.({ phase: 'check', lines: n });
    streams.add(line.stream);
    read.add(text);
  });
  const hashes = read.end();
  if (into === 'absent') {
    for (const stream of streams) {
      if ((await store.streamRevision(stream)) < 0) continue;
      throw new RegistryError(
        'conflict',
        `${stream} is in the store already: an archive restores only processes the store does not hold (prune or rename the live one first)`,
      );
    }
  }
  let batch: ExportLine[] = [];
  const again = new BatchHashes();
  let written = 0;
  const flush = async () => {
    // the run of lines this batch holds was hashed last (a full run closes itself)
    const runs = again.end();
    if (runs.at(-1) !== hashes[runs.length - 1]) {
      throw new RegistryError(
        'invalid',
        `the import source changed while importing (lines ${written + 1}–${written + batch.length} differ from what was checked; the ${written} lines before them are stored); import from a file that is not being written, into an empty store`,
      );
    }
    for (const call of callsFor(batch)) await store.appendToStreams(call);
    written += batch.length;
    batch = [];
  };
  const imported = await forEachLine(source, async (line, n, text) => {
    batch.push(line);
    again.add(text);
    if (batch.length >= BATCH) {
      await flush();
      onProgress?.({ phase: 'write', lines: n });
    }
  });
  if (batch.length > 0) await flush();
  onProgress?.({ phase: 'write', lines: imported });
  if (imported !== checked) {
    throw new RegistryError(
      'invalid',
      `the import source changed while importing (${checked} lines checked, ${imported} read; the ${written} read are stored); import from a file that is not being written, into an empty store`,
    );
  }
  return { imported };
};

/**
 * SHA-256 of each run of BATCH lines (the last run may be shorter), so a second reading of
 * a source can be compared with the first a batch at a time, in memory that does not grow
 * with the source (32 bytes per BATCH lines).
 */
class BatchHashes {
  readonly hashes: string[] = [];
  private hash: Hash | undefined;
  private lines = 0;

  add(text: string): void {
    this.hash ??= createHash('sha256');
    this.hash.update(text);
    this.hash.update('\n');
    if (++this.lines === BATCH) this.end();
  }

  /** Closes the run being hashed, if any; returns every run's hash so far. */
  end(): string[] {
    if (this.hash) this.hashes.push(this.hash.digest('hex'));
    this.hash = undefined;
    this.lines = 0;
    return this.hashes;
  }
}

/** Parses and checks each line (the revisions of every stream must be dense from 0). */
const forEachLine = async (
  source: LineSource,
  visit: (line: ExportLine, lineNumber: number, text: string) => unknown,
): Promise<number> => {
  const nextRevision = new Map<string, number>();
  // Event ids are unique across a store: a repeated one would fail only while writing
  // (SQLite refuses it), after earlier batches were stored. One string per event is the
  // price of finding it before anything is written.
  const lineOfId = new Map<string, number>();
  let n = 0;
  const handle = async (text: string) => {
    if (text.trim() === '') return;
    n += 1;
    const line = parseLine(text, n);
    const expected = nextRevision.get(line.stream) ?? 0;
    if (line.revision !== expected) {
      throw new RegistryError(
        'invalid',
        `import line ${n}: ${line.stream} revision ${line.revision}, expected ${expected}; the export is incomplete or out of order`,
      );
    }
    const earlier = lineOfId.get(line.eventId);
    if (earlier !== undefined) {
      throw new RegistryError(
        'invalid',
        `import line ${n}: event id ${line.eventId} repeats line ${earlier}; every event needs its own id, import a file made by procreg export`,
      );
    }
    lineOfId.set(line.eventId, n);
    nextRevision.set(line.stream, expected + 1);
    await visit(line, n, text);
  };
  // The source may yield whole lines or arbitrary chunks of text: split on newlines and
  // carry a partial last line over to the next chunk.
  let carry = '';
  for await (const chunk of source()) {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    for (const text of parts) await handle(text);
  }
  await handle(carry);
  return n;
};

const parseLine = (text: string, n: number): ExportLine => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RegistryError(
      'invalid',
      `import line ${n} is not JSON; import a file made by procreg export`,
    );
  }
  const parsed = ExportLineSchema.safeParse(json);
  if (!parsed.success) {
    throw new RegistryError(
      'invalid',
      `import line ${n} is not an exported event (${parsed.error.issues[0]?.message}); import a file made by procreg export`,
    );
  }
  const line = parsed.data;
  const stored = {
    id: line.eventId,
    stream: line.stream,
    revision: line.revision,
    position: 0n,
    type: line.type,
    data: line.data,
    metadata: line.metadata,
  };
  try {
    // a prune record is imported as the fact it is: what left the source, and where to
    if (isRetentionStream(line.stream)) {
      readRetentionEvent(stored);
      return { ...line, data: withoutSteps(line.data) };
    }
    decodeEvent(stored);
  } catch (error) {
    throw new RegistryError('invalid', `import line ${n}: ${(error as Error).message}`);
  }
  return line;
};

/** Consecutive events of a stream go in one write expecting the revision before them. */
/**
 * The calls that store `lines` in their export order: runs of one stream become one write,
 * and a call never holds two writes of one stream, so the global log keeps the order (and
 * so the positions `asOf` and history report) the exported store had.
 */
const callsFor = (lines: readonly ExportLine[]): StreamWrite[][] => {
  const calls: StreamWrite[][] = [];
  let call: StreamWrite[] = [];
  let streams = new Set<string>();
  for (const line of lines) {
    const event = { id: line.eventId, type: line.type, data: line.data, metadata: line.metadata };
    const last = call.at(-1);
    if (last?.stream === line.stream) {
      (last.events as (typeof event)[]).push(event);
      continue;
    }
    if (streams.has(line.stream)) {
      calls.push(call);
      call = [];
      streams = new Set();
    }
    streams.add(line.stream);
    call.push({
      stream: line.stream,
      expectedRevision: line.revision === 0 ? 'no_stream' : line.revision - 1,
      events: [event],
    });
  }
  if (call.length > 0) calls.push(call);
  return calls;
};
