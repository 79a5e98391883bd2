import { describeFlag, flagDefs, globalFlags } from '../args.ts';
import type { CommandContext, CommandDef } from '../context.ts';
import { exitCodeTable, usageError } from '../errors.ts';
import { renderFields } from '../table.ts';
import { atCommand } from './at.ts';

const timeFormats = atCommand.details ?? [];

/** `procreg help`: commands, global options, time formats, exit codes. */
const overview = (ctx: CommandContext): string[] => {
  const { style } = ctx.out;
  const heading = (text: string) => style.bold(text);
  return [
    `${style.bold('procreg')}: inspect and move an event-sourced process registry`,
    '',
    `${heading('Usage:')} procreg [--store <url>] <command> [args] [--json]`,
    '',
    heading('Commands:'),
    ...renderFields(
      ctx.commands.map((c) => [c.usage, c.summary] as [string, string]),
      { indent: '  ' },
    ),
    '',
    heading('Global options (any command):'),
    ...renderFields(
      globalFlags.map(
        (name) => [describeFlag(name), flagDefs[name].description] as [string, string],
      ),
      { indent: '  ' },
    ),
    '',
    heading('Output:'),
    '  Tables and times for people (colour only on a terminal); --json prints one JSON',
    '  document per command (positions as strings), events --follow --json one per line.',
    '  Progress bars (verify, export, import, copy) go to stderr when it is a terminal.',
    '  Times print in local time (TZ), with relative ones ("5m ago") where they help.',
    '',
    heading('Times and positions (at, --since, --until):'),
    ...timeFormats.slice(1),
    '',
    heading('Exit codes:'),
    ...exitCodeTable.map(([code, meaning]) => `  ${code}  ${meaning}`),
    '',
    'Errors are one line on stderr (with --json: {"error":{"code","message"}}); --debug adds',
    'the stack trace of unexpected ones.',
    '',
    `Run \`procreg help <command>\` for a command's options and examples.`,
  ];
};

const commandHelp = (ctx: CommandContext, def: CommandDef): string[] => {
  const { style } = ctx.out;
  const flags = def.flags.map(
    (name) => [describeFlag(name), flagDefs[name].description] as [string, string],
  );
  return [
    `${style.bold('Usage:')} procreg ${def.usage}`,
    '',
    `  ${def.summary}`,
    ...(def.details ?? []).map((line) => `  ${line}`),
    ...(flags.length > 0
      ? ['', style.bold('Options:'), ...renderFields(flags, { indent: '  ' })]
      : []),
    '',
    style.bold('Examples:'),
    ...def.examples.map((e) => `  ${e}`),
    '',
    'Global options: --store <url>, --json, --debug, --progress, --color (see `procreg help`).',
  ];
};

export const findCommand = (
  commands: readonly CommandDef[],
  name: string,
): CommandDef | undefined => commands.find((c) => c.name === name);

export const printHelp = (ctx: CommandContext, topic: string | undefined): number => {
  const def = topic === undefined ? undefined : findCommand(ctx.commands, topic);
  if (topic !== undefined && !def) {
    throw usageError(`no command \`${topic}\`; \`procreg help\` lists them`);
  }
  if (ctx.out.json) {
    const shown = def ? [def] : ctx.commands;
    ctx.out.document({
      commands: shown.map((c) => ({
        name: c.name,
        usage: `procreg ${c.usage}`,
        summary: c.summary,
        flags: c.flags.map((f) => `--${f}`),
      })),
      globalFlags: globalFlags.map((f) => `--${f}`),
      exitCodes: Object.fromEntries(exitCodeTable.map(([code, meaning]) => [code, meaning])),
    });
    return 0;
  }
  ctx.out.lines(def ? commandHelp(ctx, def) : overview(ctx));
  return 0;
};

export const helpCommand: CommandDef = {
  name: 'help',
  usage: 'help [<command>]',
  summary: "this overview, or one command's options and examples",
  flags: [],
  examples: ['procreg help', 'procreg help at', 'procreg events --help'],
  run: async (ctx) => {
    if (ctx.positionals.length > 1) {
      throw usageError(
        `unexpected argument \`${ctx.positionals[1]}\`; usage: procreg help [<command>]`,
      );
    }
    return printHelp(ctx, ctx.positionals[0]);
  },
};
