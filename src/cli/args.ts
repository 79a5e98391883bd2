import { usageError } from './errors.ts';

/**
 * The command line: `procreg [global flags] <command> [args] [flags]`, flags anywhere.
 *
 * Every flag has one meaning across all commands, so the line is parsed once against the
 * whole table and each command then says which flags it accepts (anything else is a usage
 * error naming the flag). Arguments that look like negative numbers (`-5m`, `-90s`) are
 * positionals, not flags: that is how relative times are written.
 */

type FlagKind = 'boolean' | 'string' | 'list';

interface FlagDef {
  kind: FlagKind;
  short?: string;
  /** value placeholder shown in help */
  value?: string;
  description: string;
}

export const flagDefs = {
  store: {
    kind: 'string',
    short: 's',
    value: '<url>',
    description: 'store URL (default: $PROCREG_STORE, else sqlite:./procreg.db)',
  },
  json: { kind: 'boolean', description: 'machine-readable output: one JSON document' },
  debug: { kind: 'boolean', description: 'show stack traces of unexpected errors' },
  progress: {
    kind: 'boolean',
    description: 'force plain progress lines on stderr (--no-progress: none)',
  },
  color: { kind: 'boolean', description: 'force colour (--no-color, or NO_COLOR=1: none)' },
  help: { kind: 'boolean', short: 'h', description: 'show help for the command' },
  version: { kind: 'boolean', description: 'print the version' },
  all: { kind: 'boolean', short: 'a', description: 'include completed, failed and cancelled' },
  session: { kind: 'string', value: '<id>', description: 'only processes of this session' },
  status: {
    kind: 'string',
    value: '<state>',
    description: 'only processes in this state: running, completed, failed, cancelled, terminal',
  },
  limit: { kind: 'string', value: '<n>', description: 'at most this many (default 100, max 1000)' },
  cursor: { kind: 'string', value: '<cursor>', description: 'continue where a listing stopped' },
  last: {
    kind: 'string',
    short: 'n',
    value: '<n>',
    description: 'how many recent events (default 10)',
  },
  since: { kind: 'string', value: '<time>', description: 'only entries at or after a time' },
  until: { kind: 'string', value: '<time>', description: 'only entries at or before a time' },
  type: { kind: 'list', short: 't', value: '<type>', description: 'only these entry types' },
  after: { kind: 'string', value: '<seq>', description: 'only events after this sequence' },
  follow: { kind: 'boolean', short: 'f', description: 'keep printing new events until Ctrl-C' },
  at: {
    kind: 'string',
    value: '<time|pos:N>',
    description: 'the point: a time, or pos:<n> for a log position',
  },
  refused: {
    kind: 'boolean',
    description: 'include refused commands (the journal: who tried what, and why not)',
  },
  out: { kind: 'string', short: 'o', value: '<file>', description: 'write to a file' },
  from: { kind: 'string', value: '<url>', description: 'source store URL' },
  to: { kind: 'string', value: '<url>', description: 'target store URL' },
  port: { kind: 'string', short: 'p', value: '<n>', description: 'TCP port (default 7411)' },
  host: {
    kind: 'string',
    value: '<addr>',
    description: 'address to listen on (default 127.0.0.1)',
  },
  tokens: {
    kind: 'string',
    value: '<file>',
    description: 'token file (default: $PROCREG_TOKENS, else no tokens: open, loopback only)',
  },
  'tls-cert': {
    kind: 'string',
    value: '<file>',
    description: 'serve HTTPS with this certificate (PEM)',
  },
  'tls-key': {
    kind: 'string',
    value: '<file>',
    description: 'the private key of --tls-cert (PEM)',
  },
  actor: {
    kind: 'string',
    value: '<name>',
    description: 'actor name the token stamps into events',
  },
  admin: { kind: 'boolean', description: 'the token sees and does everything' },
  before: {
    kind: 'string',
    value: '<age|time>',
    description: 'processes that ended before this: an age (90d) or a time',
  },
  archive: { kind: 'string', value: '<dir>', description: 'directory the archive goes in' },
  'dry-run': { kind: 'boolean', description: 'show what would be done; write nothing' },
  max: { kind: 'string', value: '<n>', description: 'at most this many (default 1000)' },
  integrity: {
    kind: 'boolean',
    description: "check the log's hashes and stream links instead of the read models",
  },
  against: {
    kind: 'string',
    value: '<digest@pos>',
    description: 'a digest kept earlier (`procreg digest`): the log up to it must still match',
  },
} as const satisfies Record<string, FlagDef>;

export type FlagName = keyof typeof flagDefs;

type ValueOf<K extends FlagKind> = K extends 'boolean'
  ? boolean
  : K extends 'list'
    ? string[]
    : string;

export type Flags = { -readonly [N in FlagName]?: ValueOf<(typeof flagDefs)[N]['kind']> };

export interface ParsedArgs {
  positionals: string[];
  flags: Flags;
  /** flags as the user wrote them (for "`--x` does not apply to ..." messages) */
  used: Map<FlagName, string>;
}

/** Flags every command accepts. */
export const globalFlags: readonly FlagName[] = [
  'store',
  'json',
  'debug',
  'progress',
  'color',
  'help',
  'version',
];

const names = Object.keys(flagDefs) as FlagName[];
const byShort = new Map(
  names.flatMap((name) => {
    const def: FlagDef = flagDefs[name];
    return def.short ? [[def.short, name] as const] : [];
  }),
);

const isFlagName = (name: string): name is FlagName => Object.hasOwn(flagDefs, name);

/** `-5m`, `-90s`, `-1.5h`, `-3`: a negative number or relative time, not a flag. */
const looksNegative = (arg: string): boolean => /^-\d/.test(arg);

export const parseArgs = (argv: readonly string[]): ParsedArgs => {
  const positionals: string[] = [];
  // Values are typed per flag by `Flags`; each is set according to its def's kind.
  const values: Partial<Record<FlagName, string | boolean | string[]>> = {};
  const used = new Map<FlagName, string>();
  const set = (name: FlagName, spelled: string, value: string | boolean) => {
    used.set(name, spelled);
    const kind: FlagKind = flagDefs[name].kind;
    if (kind === 'list') {
      const previous = values[name];
      const list = Array.isArray(previous) ? previous : [];
      for (const part of String(value).split(',')) if (part.trim()) list.push(part.trim());
      values[name] = list;
    } else {
      values[name] = value;
    }
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-') || looksNegative(arg)) {
      positionals.push(arg);
      continue;
    }
    let spelled: string;
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      spelled = eq === -1 ? arg : arg.slice(0, eq);
      name = spelled.slice(2);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      spelled = arg.slice(0, 2);
      name = byShort.get(arg.slice(1, 2)) ?? '';
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, '') : undefined;
    }
    if (!isFlagName(name) && name.startsWith('no-') && isFlagName(name.slice(3))) {
      const positive = name.slice(3) as FlagName;
      if (flagDefs[positive].kind === 'boolean' && inline === undefined) {
        set(positive, spelled, false);
        continue;
      }
    }
    if (!isFlagName(name)) {
      throw usageError(`unknown option \`${spelled}\`; run \`procreg help\` for the options`);
    }
    const def: FlagDef = flagDefs[name];
    if (def.kind === 'boolean') {
      if (inline === undefined) set(name, spelled, true);
      else if (inline === 'true' || inline === 'false') set(name, spelled, inline === 'true');
      else throw usageError(`\`${spelled}\` takes no value; write just \`${spelled}\``);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !looksNegative(next))) {
        throw usageError(
          `\`${spelled}\` needs a value, e.g. \`${spelled} ${def.value ?? '<value>'}\``,
        );
      }
      value = next;
      i += 1;
    }
    set(name, spelled, value);
  }
  return { positionals, flags: values as Flags, used };
};

/** Rejects flags the command does not take, naming the first one. */
export const checkFlags = (
  args: ParsedArgs,
  allowed: readonly FlagName[],
  command: string,
): void => {
  for (const [name, spelled] of args.used) {
    if (!globalFlags.includes(name) && !allowed.includes(name)) {
      throw usageError(
        `\`${spelled}\` does not apply to \`${command}\`; see \`procreg help ${command.split(' ')[0]}\``,
      );
    }
  }
};

/** A whole, non-negative number argument (`--after 3`, `--last 10`). */
export const parseCount = (text: string | undefined, what: string, fallback: number): number => {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${what} must be a whole number, not \`${text}\``);
  }
  return Number(text);
};

export const describeFlag = (name: FlagName): string => {
  const def: FlagDef = flagDefs[name];
  const short = def.short ? `-${def.short}, ` : '    ';
  const value = def.value ? ` ${def.value}` : '';
  return `${short}--${name}${value}`;
};
