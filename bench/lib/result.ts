/**
 * What a scenario reports: rows of one table. Every figure is a median (see measure.ts);
 * `ratio` is value / baseline, both measured in the same run.
 */
export interface Figure {
  value: number;
  unit: string;
}

export interface Row {
  scenario: string;
  measure: string;
  /** null: nothing to measure (the note says why) */
  value: Figure | null;
  baseline: (Figure & { what: string }) | null;
  ratio: number | null;
  note: string;
}

export interface ScenarioResult {
  scenario: string;
  quick: boolean;
  elapsedMs: number;
  rows: Row[];
}

/** The line prefix the runner looks for on a scenario's stdout. */
export const RESULT_MARK = '@@bench-result ';
