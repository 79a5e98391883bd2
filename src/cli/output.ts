import { oneLine } from './errors.ts';
import { createStyle, type Style } from './style.ts';

export interface OutputStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Where a command writes. Results go to stdout, diagnostics (errors, progress, hints that
 * are not results) to stderr, so `procreg export > file` and `--json | jq` stay clean.
 */
export class Output {
  readonly style: Style;
  readonly errStyle: Style;
  /** --json: results are JSON documents, errors JSON lines */
  readonly json: boolean;

  constructor(
    readonly stdout: OutputStream,
    readonly stderr: OutputStream,
    options: { color: boolean; errColor: boolean; json: boolean },
  ) {
    this.json = options.json;
    this.style = createStyle(options.color);
    this.errStyle = createStyle(options.errColor);
  }

  /** Width to fit tables into, only on a terminal (a pipe gets whole lines). */
  get width(): number | undefined {
    return this.stdout.isTTY ? this.stdout.columns : undefined;
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  lines(texts: readonly string[]): void {
    if (texts.length > 0) this.stdout.write(`${texts.join('\n')}\n`);
  }

  /** One JSON document (pretty, bigint as decimal strings). */
  document(value: unknown): void {
    this.stdout.write(`${toJson(value, 2)}\n`);
  }

  /** One JSON value on one line (NDJSON streams: `events --follow --json`). */
  record(value: unknown): void {
    this.stdout.write(`${toJson(value)}\n`);
  }

  /** A note for the human on stderr (never part of a command's result). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** The one line an error prints: plain text, or a JSON object under --json. */
  error(code: string, message: string): void {
    const text = oneLine(message);
    if (this.json) this.stderr.write(`${toJson({ error: { code, message: text } })}\n`);
    else this.stderr.write(`${this.errStyle.red('procreg:')} ${text}\n`);
  }
}

/**
 * JSON with 64-bit positions as decimal strings (JSON numbers lose precision past 2^53, and
 * EventStoreDB positions get there) and `undefined` fields left out, as the library does.
 */
export const toJson = (value: unknown, indent?: number): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
