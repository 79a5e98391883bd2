import type { ProcessRegistry, RegistryOptions } from '../index.ts';
import type { FlagName, Flags, ParsedArgs } from './args.ts';
import { usageError } from './errors.ts';
import type { Output } from './output.ts';
import type { Progress } from './progress.ts';
import type { OpenMode } from './store.ts';

/** What a command gets: its arguments, where to write, and how to reach stores. */
export interface CommandContext {
  /** arguments after the command name */
  positionals: string[];
  flags: Flags;
  /** flags as written, for per-command checks (`at` checks its sub-command's) */
  used: ParsedArgs['used'];
  out: Output;
  /** the store the command works on (`--store`, `$PROCREG_STORE`, default) */
  storeUrl: string;
  /** `--store` as given, so hints can repeat it; undefined when it came from env/default */
  storeFlag: string | undefined;
  now(): number;
  /** Opens a registry; every registry opened here is closed when the command ends. */
  open(url: string, mode: OpenMode, options?: RegistryOptions): Promise<ProcessRegistry>;
  progress(label: string, unit: string): Progress;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /**
   * Resolves when the user asks to stop (SIGINT/SIGTERM), for commands that run until then.
   * Until a command calls it, signals end the process the default way.
   */
  untilInterrupted(): Promise<string>;
  commands: readonly CommandDef[];
}

export interface CommandDef {
  name: string;
  /** `ls [--all] [--session <id>]` */
  usage: string;
  summary: string;
  /** flags beyond the global ones */
  flags: readonly FlagName[];
  /** further help lines */
  details?: readonly string[];
  examples: readonly string[];
  /** resolves to the exit code (0 when nothing is returned) */
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** `procreg` plus `--store <url>` when the user gave one: for hints that are copy-pasteable. */
export const cliPrefix = (ctx: Pick<CommandContext, 'storeFlag'>): string =>
  ctx.storeFlag === undefined ? 'procreg' : `procreg --store ${shellQuote(ctx.storeFlag)}`;

export const shellQuote = (text: string): string =>
  /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The command's positional arguments, exactly `names.length` of them (names ending in `?`
 * are optional); a usage error that shows the usage line otherwise.
 */
export const positionalArgs = (
  ctx: Pick<CommandContext, 'positionals'>,
  names: readonly string[],
  usage: string,
): (string | undefined)[] => {
  const required = names.filter((n) => !n.endsWith('?')).length;
  const given = ctx.positionals;
  if (given.length < required) {
    const missing = names[given.length]!;
    throw usageError(`missing ${missing}; usage: procreg ${usage}`);
  }
  if (given.length > names.length) {
    throw usageError(`unexpected argument \`${given[names.length]}\`; usage: procreg ${usage}`);
  }
  return names.map((_, i) => given[i]);
};
