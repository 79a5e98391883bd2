import type { Figure, Row } from './result.ts';

const significant = (value: number, digits = 3): string => {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  const rounded = Number(value.toFixed(decimals));
  return rounded.toLocaleString('en-US', {
    maximumFractionDigits: decimals,
    minimumFractionDigits: 0,
  });
};

/** A figure with its unit; latencies below a millisecond in µs. */
export const formatFigure = (figure: Figure): string => {
  if (figure.unit === 'ms' && figure.value < 1) {
    return `${significant(figure.value * 1000)} µs`;
  }
  return `${significant(figure.value)} ${figure.unit}`;
};

export const formatRatio = (ratio: number | null): string =>
  ratio === null ? '—' : Number.isFinite(ratio) ? `${significant(ratio, 2)}×` : 'n/a';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** One markdown table: scenario | measure | value | baseline | ratio | note. */
export const markdownTable = (rows: readonly Row[]): string => {
  const lines = [
    '| scenario | measure | value | baseline (same run) | ratio | note |',
    '|---|---|---:|---|---:|---|',
  ];
  for (const row of rows) {
    const value = row.value ? formatFigure(row.value) : 'n/a';
    const baseline = row.baseline ? `${formatFigure(row.baseline)} (${row.baseline.what})` : '—';
    lines.push(
      `| ${[row.scenario, row.measure, value, baseline, formatRatio(row.ratio), row.note.trim()].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
};
