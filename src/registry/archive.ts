import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readStoredEvent } from '../domain/codec.ts';
import { RegistryError } from '../domain/errors.ts';
import { ExportLineSchema, toExportLine } from '../domain/export-line.ts';
import {
  type ArchiveManifest,
  ArchiveManifestSchema,
  MANIFEST_FILE,
  type PrunedProcess,
  sha256Hex,
} from '../domain/retention.ts';
import type { StoredEvent } from '../store/port.ts';

/**
 * A prune's archive on disk: one directory per prune, one NDJSON file per process in the
 * export format (`procreg import` reads it), and `manifest.json` naming each file with its
 * SHA-256 and event count. Every file is synced before the manifest is written, and the
 * manifest before anything leaves the store; `verifyArchive` reads it all back.
 */
export class ArchiveWriter {
  private readonly entries: PrunedProcess[] = [];

  constructor(readonly dir: string) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Writes one process's whole stream (revisions 0..last, as read) and syncs it. */
  async add(processId: string, events: readonly StoredEvent[]): Promise<PrunedProcess> {
    const last = events.at(-1);
    if (!last || last.revision !== events.length - 1) {
      throw new RegistryError(
        'unavailable',
        `process \`${processId}\`: its stream read back incomplete (${events.length} events); try the prune again`,
      );
    }
    // decoded on the way out, as export does: an archive never holds what import refuses
    const text = events.map((e) => `${JSON.stringify(toExportLine(checked(e)))}\n`).join('');
    const file = `${String(this.entries.length + 1).padStart(6, '0')}.ndjson`;
    await writeSynced(join(this.dir, file), text);
    const entry: PrunedProcess = {
      processId,
      stream: last.stream,
      lastRevision: last.revision,
      lastPosition: last.position.toString(),
      file,
      sha256: sha256Hex(text),
      events: events.length,
    };
    this.entries.push(entry);
    return entry;
  }

  /** Writes the manifest last; returns its SHA-256 (what the log records). */
  async seal(meta: Omit<ArchiveManifest, 'format' | 'processes'>): Promise<string> {
    const manifest: ArchiveManifest = {
      format: 'procreg-archive/1',
      ...meta,
      processes: this.entries,
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeSynced(join(this.dir, MANIFEST_FILE), text);
    await syncDirectory(this.dir);
    return sha256Hex(text);
  }
}

const checked = (event: StoredEvent): StoredEvent => {
  readStoredEvent(event);
  return event;
};

const writeSynced = async (path: string, text: string): Promise<void> => {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/** So the new files' names survive a crash too, not only their contents. */
const syncDirectory = async (dir: string): Promise<void> => {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

const broken = (dir: string, why: string): RegistryError =>
  new RegistryError('invalid', `the archive ${dir} does not check out: ${why}`);

/**
 * Reads an archive back: the manifest parses, and every file it names has its SHA-256 and
 * event count, lines in the export format, one stream with revisions 0..lastRevision.
 * Returns the manifest and its SHA-256; any difference is `invalid`, naming the file.
 */
export const verifyArchive = async (
  dir: string,
): Promise<{ manifest: ArchiveManifest; manifestSha256: string }> => {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    throw broken(dir, `no readable ${MANIFEST_FILE} (${(error as Error).message})`);
  }
  let parsed: ReturnType<typeof ArchiveManifestSchema.safeParse>;
  try {
    parsed = ArchiveManifestSchema.safeParse(JSON.parse(text));
  } catch {
    throw broken(dir, `${MANIFEST_FILE} is not JSON`);
  }
  if (!parsed.success) throw broken(dir, `${MANIFEST_FILE}: ${parsed.error.issues[0]?.message}`);
  const manifest = parsed.data;
  for (const entry of manifest.processes) {
    const bytes = await readFile(join(dir, entry.file), 'utf8').catch(() => {
      throw broken(dir, `${entry.file} (process \`${entry.processId}\`) is missing`);
    });
    if (sha256Hex(bytes) !== entry.sha256) {
      throw broken(dir, `${entry.file} (process \`${entry.processId}\`) has another SHA-256`);
    }
    const lines = bytes.split('\n').filter((line) => line !== '');
    if (lines.length !== entry.events || entry.lastRevision !== entry.events - 1) {
      throw broken(dir, `${entry.file} holds ${lines.length} events, not ${entry.events}`);
    }
    lines.forEach((line, revision) => {
      const event = ExportLineSchema.safeParse(parseJson(line));
      if (
        !event.success ||
        event.data.stream !== entry.stream ||
        event.data.revision !== revision
      ) {
        throw broken(dir, `${entry.file} line ${revision + 1} is not ${entry.stream}@${revision}`);
      }
    });
  }
  return { manifest, manifestSha256: sha256Hex(text) };
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The archive's events as NDJSON chunks, file by file (what `importLines` reads). */
export async function* archiveChunks(
  dir: string,
  manifest: ArchiveManifest,
): AsyncGenerator<string> {
  for (const entry of manifest.processes) yield await readFile(join(dir, entry.file), 'utf8');
}
