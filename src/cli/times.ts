import type { Position } from '../store/port.ts';
import { usageError } from './errors.ts';

/**
 * Times as people read them (local wall clock, "5m ago") and as they type them (`-5m`,
 * `2025-11-26T14:05:00Z`, `14:05`, epoch ms, `pos:42`). All registry times are epoch ms on
 * the registry clock.
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2025-11-26 14:05:09` in local time (`.123` with `withMs`). */
export const formatAbsolute = (ms: number, options: { withMs?: boolean } = {}): string => {
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${formatClock(ms, options)}`;
};

/** `14:05:09` (`.123` with `withMs`) in local time. */
export const formatClock = (ms: number, options: { withMs?: boolean } = {}): string => {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return options.withMs ? `${time}.${pad(d.getMilliseconds(), 3)}` : time;
};

export const sameLocalDay = (a: number, b: number): boolean =>
  new Date(a).toDateString() === new Date(b).toDateString();

/** `850ms`, `4.2s`, `3m 10s`, `2h 5m`, `3d 4h`: a span, to two units at most. */
export const formatDuration = (ms: number): string => {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)}s`;
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const parts: string[] = [];
  let rest = Math.round(abs / 1000) * 1000;
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) break;
  }
  return parts.join(' ');
};

/** `just now`, `12s ago`, `5m ago`, `in 30s`: a time relative to `now`, to one unit. */
export const formatRelative = (ms: number, now: number): string => {
  const delta = now - ms;
  if (Math.abs(delta) < 1000) return 'just now';
  const span = formatDuration(delta)
    .split(' ')[0]!
    .replace(/\.\d+s$/, 's');
  return delta > 0 ? `${span} ago` : `in ${span}`;
};

/** `2025-11-26 14:05:09 (5m ago)`. */
export const formatWhen = (ms: number, now: number): string =>
  `${formatAbsolute(ms)} (${formatRelative(ms, now)})`;

export const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `5m`, `1h30m`, `1.5h` → ms, or undefined when the text is not a span. */
export const parseSpan = (text: string): number | undefined => {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) {
    total += Number(n) * unitMs[unit!]!;
  }
  return total;
};

/** A point in the registry's past, as `at` and `asOf` take it. */
export type TimePoint = { timeMs: number } | { position: Position };

/** Before this, a bare number is far more likely a mistyped position than a time (1973). */
const EARLIEST_EPOCH_MS = 100_000_000_000;

const timeHelp =
  'use an ISO time (2025-11-26T14:05:00Z), a local time (14:05 or "2025-11-26 14:05"), epoch ms, a relative time (-5m, -2h, "10m ago"), now, or pos:<n> for a log position';

/**
 * Reads a point in time or in the log:
 * - `pos:42`, `position:42`, `#42` → global log position 42 (as `history` shows in POS);
 * - `now`; `-5m`, `-1h30m`, `5m ago`, `5m-ago` → that long before now;
 * - `2025-11-26T14:05:00Z`, `2025-11-26 14:05` (local), `14:05[:09]` (today, local);
 * - `1764165900000` → epoch ms (a bare number below 1e11 is rejected as ambiguous).
 */
export const parseTimePoint = (text: string, now: number, what = 'time'): TimePoint => {
  const t = text.trim();
  const position = /^(?:pos:|position:|#)(\d+)$/i.exec(t);
  if (position) return { position: BigInt(position[1]!) };
  return { timeMs: parseTime(t, now, what) };
};

/** A time only (no positions): `--since`, `--until`, and the time form of `at`. */
export const parseTime = (text: string, now: number, what = 'time'): number => {
  const t = text.trim();
  if (t.toLowerCase() === 'now') return now;
  const relative = /^-(.+)$/.exec(t) ?? /^(.+?)(?:\s+|-)ago$/i.exec(t);
  if (relative) {
    const span = parseSpan(relative[1]!.replace(/\s+/g, ''));
    if (span !== undefined) return now - span;
  }
  if (/^\d+$/.test(t)) {
    const ms = Number(t);
    if (ms >= EARLIEST_EPOCH_MS && Number.isSafeInteger(ms)) return ms;
    throw usageError(
      `\`${t}\` is ambiguous as a ${what}: write pos:${t} for a log position, or a time; ${timeHelp}`,
    );
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(t);
  if (clock) {
    const d = new Date(now);
    d.setHours(
      Number(clock[1]),
      Number(clock[2]),
      Number(clock[3] ?? 0),
      Number((clock[4] ?? '0').padEnd(3, '0')),
    );
    if (!Number.isNaN(d.getTime()) && Number(clock[1]) < 24 && Number(clock[2]) < 60) {
      return d.getTime();
    }
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    // `YYYY-MM-DD HH:MM` is local time; Date.parse reads it so when the T is present and
    // no zone is given, and reads a bare date as UTC midnight: make both local.
    const normalized = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00` : t.replace(' ', 'T');
    const ms = Date.parse(normalized);
    if (!Number.isNaN(ms)) return ms;
  }
  throw usageError(`cannot read \`${text}\` as a ${what}; ${timeHelp}`);
};
