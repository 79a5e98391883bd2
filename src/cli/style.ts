/**
 * ANSI colour, applied only when the stream is a terminal (or the user forces it). Every
 * function is the identity when colour is off, so output written for a pipe or a file is
 * plain text, byte for byte what the tests and scripts read.
 */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

const wrap =
  (enabled: boolean, open: number, close: number) =>
  (text: string): string =>
    enabled && text !== '' ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const createStyle = (enabled: boolean): Style => ({
  enabled,
  bold: wrap(enabled, 1, 22),
  dim: wrap(enabled, 2, 22),
  red: wrap(enabled, 31, 39),
  green: wrap(enabled, 32, 39),
  yellow: wrap(enabled, 33, 39),
  cyan: wrap(enabled, 36, 39),
  magenta: wrap(enabled, 35, 39),
});

/**
 * Whether to colour a stream: `--color` / `--no-color` win, then NO_COLOR (any value turns
 * colour off, per no-color.org), then FORCE_COLOR, then whether the stream is a terminal.
 */
export const wantsColor = (
  stream: { isTTY?: boolean },
  flag: boolean | undefined,
  env: NodeJS.ProcessEnv,
): boolean => {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true;
};

/** Visible width of text that may contain colour codes. */
export const visibleLength = (text: string): number =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  text.replace(/\u001b\[[0-9;]*m/g, '').length;
