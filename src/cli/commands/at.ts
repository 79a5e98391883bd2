import { checkFlags } from '../args.ts';
import type { CommandContext, CommandDef } from '../context.ts';
import { usageError } from '../errors.ts';
import { parseTimePoint } from '../times.ts';
import type { ViewPoint } from '../view.ts';
import { eventsView } from './events.ts';
import { historyView } from './history.ts';
import { listView } from './ls.ts';
import { showView } from './show.ts';

/** The read commands that make sense in the past, with the flags each takes there. */
const views = {
  ls: { usage: 'ls [--all] [--session <id>]', flags: ['all', 'session'], takesId: false },
  show: { usage: 'show <id> [--last <n>]', flags: ['last'], takesId: true },
  events: { usage: 'events <id> [--after <seq>]', flags: ['after'], takesId: true },
  history: {
    usage: 'history <id> [--since <time>] [--until <time>] [--type <type>] [--refused]',
    flags: ['since', 'until', 'type', 'refused'],
    takesId: true,
  },
} as const;

type ViewName = keyof typeof views;

const isViewName = (name: string): name is ViewName => Object.hasOwn(views, name);

const usage = 'at <time|pos:<n>> <ls|show|events|history> [args]';

/**
 * `at <point> <view> ...`: a read command answered from the registry as it was then (the
 * library's `asOf`). Leases are judged at the point's time (now for a position).
 */
const run = async (ctx: CommandContext): Promise<number> => {
  const [when, sub, ...rest] = ctx.positionals;
  if (when === undefined) throw usageError(`missing <time|pos:<n>>; usage: procreg ${usage}`);
  const now = ctx.now();
  const point = parseTimePoint(when, now, 'point in time');
  if (sub === undefined || !isViewName(sub)) {
    const what = sub === undefined ? 'missing the command' : `\`${sub}\` cannot run under \`at\``;
    throw usageError(`${what}; use ls, show, events or history, e.g. \`procreg at -5m ls\``);
  }
  const def = views[sub];
  checkFlags({ positionals: [], flags: ctx.flags, used: ctx.used }, def.flags, `at ${sub}`);
  const wanted = def.takesId ? 1 : 0;
  if (rest.length !== wanted) {
    const problem =
      rest.length < wanted ? 'missing <id>' : `unexpected argument \`${rest[wanted]}\``;
    throw usageError(`${problem}; usage: procreg at <time|pos:<n>> ${def.usage}`);
  }
  const registry = await ctx.open(ctx.storeUrl, 'read');
  const at: ViewPoint = { point, timeMs: 'timeMs' in point ? point.timeMs : now };
  const view = registry.asOf(point);
  const id = rest[0]!;
  switch (sub) {
    case 'ls':
      return listView(ctx, view, at);
    case 'show':
      return showView(ctx, view, id, at);
    case 'events':
      return eventsView(ctx, view, id, at);
    case 'history':
      return historyView(ctx, registry, id, at);
  }
};

export const atCommand: CommandDef = {
  name: 'at',
  usage,
  summary: 'run ls, show, events or history on the registry as it was at a time or position',
  flags: ['all', 'session', 'last', 'after', 'since', 'until', 'type', 'refused'],
  details: [
    'A point is one of:',
    '  2025-11-26T14:05:00Z      ISO time (with Z or an offset; without, local time)',
    '  "2025-11-26 14:05", 14:05  local time (a bare clock time means today)',
    '  -5m, -1h30m, "10m ago"    relative to now (units ms s m h d w)',
    '  1764165900000             epoch milliseconds',
    '  pos:42                    global log position, as history shows under POS',
    '  now',
  ],
  examples: [
    'procreg at -5m ls',
    'procreg at 2025-11-26T14:05:00Z show demo:tool:grep-1',
    'procreg at pos:12 ls --all --json',
  ],
  run,
};
