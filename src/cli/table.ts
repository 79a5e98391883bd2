/**
 * Aligned text tables. Cells are plain text plus an optional style applied after padding,
 * so widths are measured on what the user sees and colour never shifts a column.
 */
export interface Cell {
  text: string;
  style?: (text: string) => string;
}

export type CellInput = string | Cell;

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

const GAP = '  ';

const cellOf = (input: CellInput): Cell => (typeof input === 'string' ? { text: input } : input);

/** Cuts text to `width` characters, marking the cut with an ellipsis. */
export const truncate = (text: string, width: number): string =>
  text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;

/**
 * Renders a header row and the rows. With `maxWidth` (a terminal), the last column is cut
 * so no line wraps; without it (a pipe) every cell is whole, for grep and friends.
 */
export const renderTable = (
  columns: readonly Column[],
  rows: readonly (readonly CellInput[])[],
  options: { headerStyle?: (text: string) => string; maxWidth?: number; indent?: string } = {},
): string[] => {
  const cells = rows.map((row) => columns.map((_, i) => cellOf(row[i] ?? '')));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((row) => row[i]!.text.length)),
  );
  const indent = options.indent ?? '';
  const last = columns.length - 1;
  if (options.maxWidth !== undefined && last >= 0) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, indent.length);
    widths[last] = Math.max(columns[last]!.header.length, options.maxWidth - before);
  }
  const line = (row: readonly Cell[], header: boolean): string => {
    const parts = row.map((cell, i) => {
      const width = widths[i]!;
      const text = truncate(cell.text, width);
      const pad = ' '.repeat(width - text.length);
      const styled = header
        ? (options.headerStyle ?? ((t: string) => t))(text)
        : cell.style
          ? cell.style(text)
          : text;
      if (i === last) return columns[i]!.align === 'right' ? pad + styled : styled;
      return columns[i]!.align === 'right' ? pad + styled : styled + pad;
    });
    return (indent + parts.join(GAP)).trimEnd();
  };
  return [
    line(
      columns.map((c) => ({ text: c.header })),
      true,
    ),
    ...cells.map((row) => line(row, false)),
  ];
};

/** `key  value` lines with the keys aligned, for one record (`show`). */
export const renderFields = (
  fields: readonly (readonly [string, string])[],
  options: { keyStyle?: (text: string) => string; indent?: string } = {},
): string[] => {
  const width = Math.max(0, ...fields.map(([key]) => key.length));
  const style = options.keyStyle ?? ((t: string) => t);
  return fields.map(([key, value]) =>
    `${options.indent ?? ''}${style(key.padEnd(width))}  ${value}`.trimEnd(),
  );
};
