import { readFileSync } from 'node:fs';
import type { ProcessRegistry } from '../index.ts';
import { checkFlags, type ParsedArgs, parseArgs } from './args.ts';
import { findCommand, printHelp } from './commands/help.ts';
import { aliases, commands } from './commands.ts';
import type { CommandContext } from './context.ts';
import { reportOf, usageError } from './errors.ts';
import { Output, type OutputStream } from './output.ts';
import { createProgress, progressMode } from './progress.ts';
import { openStoreAt, resolveStoreUrl } from './store.ts';
import { wantsColor } from './style.ts';

/** The process the CLI runs in: streams, environment, signals. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** subscribes to SIGINT/SIGTERM; returns the unsubscribe */
  onSignal(handler: (signal: string) => void): () => void;
}

const version = (): string => {
  const pkg: unknown = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : '?';
};

/** Edit distance, for "did you mean" on a mistyped command. */
const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
};

const unknownCommand = (name: string): Error => {
  const near = commands.map((c) => c.name).find((c) => distance(c, name) <= 2);
  const hint = near ? `did you mean \`procreg ${near}\`? ` : '';
  return usageError(`unknown command \`${name}\`; ${hint}\`procreg help\` lists the commands`);
};

/**
 * Runs one command line and resolves to the exit code. Never throws: every failure ends as
 * one line on stderr (plus the stack with --debug when nobody anticipated it).
 */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const opened: ProcessRegistry[] = [];
  // Until the flags are parsed, errors go out plain (or as JSON when --json is visible).
  let out = new Output(io.stdout, io.stderr, {
    color: false,
    errColor: wantsColor(io.stderr, undefined, io.env),
    json: argv.includes('--json'),
  });
  let debug = argv.includes('--debug');
  try {
    const args: ParsedArgs = parseArgs(argv);
    const { flags } = args;
    debug = flags.debug === true;
    out = new Output(io.stdout, io.stderr, {
      color: wantsColor(io.stdout, flags.color, io.env),
      errColor: wantsColor(io.stderr, flags.color, io.env),
      json: flags.json === true,
    });
    if (flags.version) {
      if (out.json) out.document({ version: version() });
      else out.line(version());
      return 0;
    }
    const [given, ...positionals] = args.positionals;
    const name = given === undefined ? 'help' : (aliases[given] ?? given);
    const def = findCommand(commands, name);
    if (!def) throw unknownCommand(name);
    const stopSignals: (() => void)[] = [];
    const ctx: CommandContext = {
      positionals,
      flags,
      used: args.used,
      out,
      storeUrl: resolveStoreUrl(flags.store, io.env),
      storeFlag: flags.store,
      now: Date.now,
      open: async (url, mode, options) => {
        // shown only when a store from an older procreg gets its read models (once)
        const progress = ctx.progress('open', 'events');
        let building = false;
        try {
          const registry = await openStoreAt(url, mode, {
            ...options,
            onModelProgress: ({ done, head }) => {
              building = true;
              progress.update('building the read models (once)', Number(done), Number(head));
            },
          });
          if (building) progress.finish('read models built');
          opened.push(registry);
          return registry;
        } catch (error) {
          progress.abort();
          throw error;
        }
      },
      progress: (label, unit) =>
        createProgress(progressMode(flags.progress, io.stderr), io.stderr, label, unit),
      stdin: io.stdin,
      // Installed only when a command waits for it: until then Ctrl-C ends the process
      // the default way, which is right for every command that finishes by itself.
      untilInterrupted: () =>
        new Promise<string>((resolve) => {
          stopSignals.push(io.onSignal(resolve));
        }),
      commands,
    };
    try {
      if (flags.help) return printHelp(ctx, def.name === 'help' ? positionals[0] : def.name);
      checkFlags(args, def.flags, def.name);
      return (await def.run(ctx)) ?? 0;
    } finally {
      for (const stop of stopSignals) stop();
    }
  } catch (error) {
    const report = reportOf(error);
    out.error(report.code, report.message);
    // as --debug and `procreg help` promise: the stack of unexpected errors only
    if (debug && report.unexpected && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return report.exitCode;
  } finally {
    // Closing is best effort: the command's outcome is already decided.
    await Promise.allSettled(opened.map((registry) => registry.close()));
  }
};
