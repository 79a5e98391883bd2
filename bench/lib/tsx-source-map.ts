import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Maps a position in code tsx generated back to the TypeScript source line. tsx emits each
 * module on one line (so a CPU profile's line numbers say nothing) and caches
 * `{ code, map }` JSON under `<tmpdir>/tsx-<uid>/`; the newest entry per source wins.
 */
export class TsxSourceMaps {
  private readonly maps = new Map<string, Segment[][]>();
  private readonly sources = new Map<string, string[]>();

  constructor() {
    const dir = join(tmpdir(), `tsx-${userInfo().uid}`);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    const newest = new Map<string, { mtime: number; mappings: string }>();
    for (const name of names) {
      const file = join(dir, name);
      try {
        const entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
        const source = entry.map?.sources?.[0];
        if (!source || typeof entry.map?.mappings !== 'string') continue;
        const mtime = statSync(file).mtimeMs;
        if ((newest.get(source)?.mtime ?? -1) < mtime) {
          newest.set(source, { mtime, mappings: entry.map.mappings });
        }
      } catch {
        // not a tsx cache entry
      }
    }
    for (const [source, { mappings }] of newest) this.maps.set(source, decode(mappings));
  }

  /** 1-based source line and its text, or undefined when unknown. */
  locate(path: string, line: number, column: number): { line: number; text: string } | undefined {
    const segments = this.maps.get(path)?.[line];
    if (!segments) return undefined;
    let found: Segment | undefined;
    for (const s of segments) {
      if (s.column > column) break;
      found = s;
    }
    if (!found) return undefined;
    let lines = this.sources.get(path);
    if (!lines) {
      lines = readFileSync(path, 'utf8').split('\n');
      this.sources.set(path, lines);
    }
    return { line: found.sourceLine + 1, text: (lines[found.sourceLine] ?? '').trim() };
  }
}

interface CacheEntry {
  map?: { sources?: string[]; mappings?: string };
}

interface Segment {
  column: number;
  sourceLine: number;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map v3 `mappings` (Base64 VLQ): per generated line, segments sorted by column. */
const decode = (mappings: string): Segment[][] => {
  const lines: Segment[][] = [];
  let sourceLine = 0;
  for (const line of mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const text of line.split(',')) {
      if (text === '') continue;
      const fields = vlq(text);
      column += fields[0] ?? 0;
      if (fields.length >= 4) {
        sourceLine += fields[2] ?? 0;
        segments.push({ column, sourceLine });
      }
    }
    lines.push(segments);
  }
  return lines;
};

const vlq = (text: string): number[] => {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    out.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return out;
};
