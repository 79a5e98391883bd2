import { nowMs } from './measure.ts';
import { RESULT_MARK, type Row, type ScenarioResult } from './result.ts';

export interface ScenarioContext {
  /** `--quick`: smaller sizes and fewer runs, so the whole suite finishes within a minute */
  quick: boolean;
  /** progress for humans, on stderr (stdout carries the result) */
  log: (message: string) => void;
}

/**
 * The body of one `bench/<scenario>.ts` child process: runs `body`, prints its rows as one
 * JSON line on stdout for the runner and exits. A failure becomes a row saying so.
 */
export const runScenario = async (
  scenario: string,
  body: (ctx: ScenarioContext) => Promise<Row[]>,
): Promise<void> => {
  const quick = process.argv.includes('--quick');
  const start = nowMs();
  const log = (message: string) => {
    process.stderr.write(`[${scenario} ${((nowMs() - start) / 1000).toFixed(1)}s] ${message}\n`);
  };
  let rows: Row[];
  let code = 0;
  try {
    rows = await body({ quick, log });
  } catch (error) {
    code = 1;
    log((error as Error).stack ?? String(error));
    rows = [failedRow(scenario, error)];
  }
  const result: ScenarioResult = { scenario, quick, elapsedMs: nowMs() - start, rows };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`, () => process.exit(code));
};

export const failedRow = (scenario: string, error: unknown): Row => ({
  scenario,
  measure: 'FAILED',
  value: null,
  baseline: null,
  ratio: null,
  note: String((error as Error)?.message ?? error).slice(0, 300),
});

/** A row whose baseline was measured in the same run. */
export const comparedRow = (
  scenario: string,
  measure: string,
  value: number,
  unit: string,
  baseline: { what: string; value: number; unit?: string },
  ratio: number,
  note = '',
): Row => ({
  scenario,
  measure,
  value: { value, unit },
  baseline: { what: baseline.what, value: baseline.value, unit: baseline.unit ?? unit },
  ratio,
  note,
});
