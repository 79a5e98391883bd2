import type { OutputStream } from './output.ts';
import { createStyle } from './style.ts';
import { formatDuration } from './times.ts';

/**
 * Progress of a long run (verify, export, import, copy), always on stderr so it never mixes
 * with results. Three modes:
 * - `bar`: a bar redrawn in place on a terminal, shown only once the run has taken longer
 *   than a moment (short runs stay silent) and erased when it ends;
 * - `lines`: plain lines (`--progress`, or for logs and tests): one when a phase starts,
 *   at most one a second while it runs, and one when the run ends;
 * - `off`: nothing (`--no-progress`, or stderr is not a terminal).
 */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface Progress {
  /**
   * `done` units of `total` (unknown total: a counter) in the named phase; without `done`,
   * only the phase and the elapsed time (a step that reports nothing while it runs).
   */
  update(phase: string, done?: number, total?: number): void;
  /** The run ended: erase the bar; in `lines` mode print the summary. */
  finish(summary: string): void;
  /** The run failed: erase the bar, print nothing (the error line says why). */
  abort(): void;
}

const BAR_DELAY_MS = 300;
const BAR_REDRAW_MS = 100;
const LINE_INTERVAL_MS = 1000;
const BAR_WIDTH = 24;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const count = (n: number): string => n.toLocaleString('en-US');

export const progressMode = (flag: boolean | undefined, stderr: OutputStream): ProgressMode =>
  flag === true ? 'lines' : flag === false ? 'off' : stderr.isTTY ? 'bar' : 'off';

export const createProgress = (
  mode: ProgressMode,
  stderr: OutputStream,
  label: string,
  unit: string,
  clock: () => number = Date.now,
): Progress => {
  if (mode === 'off') return { update: () => {}, finish: () => {}, abort: () => {} };
  const started = clock();
  let phase = '';
  let done: number | undefined;
  let total: number | undefined;
  const describe = (): string => {
    if (done === undefined) return '';
    const of = total === undefined ? count(done) : `${count(done)}/${count(total)}`;
    const percent =
      total === undefined || total === 0 ? '' : ` ${Math.floor((100 * done) / total)}%`;
    return `${of} ${unit}${percent}`;
  };
  if (mode === 'lines') {
    let lastLine = -Infinity;
    let lastPhase = '';
    return {
      update(p, d, t) {
        [phase, done, total] = [p, d, t];
        const now = clock();
        if (p !== lastPhase || now - lastLine >= LINE_INTERVAL_MS) {
          [lastPhase, lastLine] = [p, now];
          const counted = describe();
          stderr.write(
            `${label}: ${phase}${counted ? ` ${counted}` : ''} (${formatDuration(now - started)})\n`,
          );
        }
      },
      finish(summary) {
        stderr.write(`${label}: ${summary} (${formatDuration(clock() - started)})\n`);
      },
      abort() {},
    };
  }
  const style = createStyle(true);
  let frame = 0;
  let shown = false;
  let lastDraw = -Infinity;
  const draw = () => {
    const now = clock();
    const elapsed = now - started;
    if (elapsed < BAR_DELAY_MS) return;
    [shown, lastDraw] = [true, now];
    frame = (frame + 1) % SPINNER.length;
    let gauge: string;
    if (done !== undefined && total !== undefined && total > 0) {
      const filled = Math.min(BAR_WIDTH, Math.round((BAR_WIDTH * done) / total));
      gauge = `${style.cyan('█'.repeat(filled))}${style.dim('░'.repeat(BAR_WIDTH - filled))}`;
    } else {
      gauge = style.cyan(SPINNER[frame]!);
    }
    const text = [label, style.dim(phase), gauge, describe(), style.dim(formatDuration(elapsed))]
      .filter((part) => part !== '')
      .join(' ');
    stderr.write(`\r\u001b[2K${text}`);
  };
  // Updates redraw too: a run whose steps never yield to timers (synchronous SQLite reads
  // between promise ticks) still moves the bar. The timer keeps the spinner moving while a step reports nothing (verify's rebuild);
  // unref: progress must never keep the process alive.
  const timer = setInterval(() => {
    if (clock() - lastDraw >= BAR_REDRAW_MS) draw();
  }, BAR_REDRAW_MS).unref();
  const clear = () => {
    clearInterval(timer);
    if (shown) stderr.write('\r\u001b[2K');
  };
  return {
    update(p, d, t) {
      [phase, done, total] = [p, d, t];
      if (clock() - lastDraw >= BAR_REDRAW_MS) draw();
    },
    finish: clear,
    abort: clear,
  };
};
