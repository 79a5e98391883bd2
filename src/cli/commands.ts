import { atCommand } from './commands/at.ts';
import { changesCommand } from './commands/changes.ts';
import { copyCommand } from './commands/copy.ts';
import { demoCommand } from './commands/demo.ts';
import { diffCommand } from './commands/diff.ts';
import { digestCommand } from './commands/digest.ts';
import { eventsCommand } from './commands/events.ts';
import { exportCommand } from './commands/export.ts';
import { helpCommand } from './commands/help.ts';
import { historyCommand } from './commands/history.ts';
import { importCommand } from './commands/import.ts';
import { lsCommand } from './commands/ls.ts';
import { pruneCommand } from './commands/prune.ts';
import { rebuildCommand } from './commands/rebuild.ts';
import { replayCommand, reproCommand } from './commands/replay.ts';
import { serveCommand, tokenCommand } from './commands/serve.ts';
import { showCommand } from './commands/show.ts';
import { verifyCommand } from './commands/verify.ts';
import type { CommandDef } from './context.ts';

/** Every command, in the order `procreg help` lists them. */
export const commands: readonly CommandDef[] = [
  lsCommand,
  showCommand,
  historyCommand,
  eventsCommand,
  atCommand,
  diffCommand,
  changesCommand,
  replayCommand,
  reproCommand,
  verifyCommand,
  digestCommand,
  rebuildCommand,
  exportCommand,
  importCommand,
  pruneCommand,
  copyCommand,
  serveCommand,
  tokenCommand,
  demoCommand,
  helpCommand,
];

/** Other names people reach for; each maps to one command. */
export const aliases: Readonly<Record<string, string>> = {
  list: 'ls',
  ps: 'ls',
  log: 'history',
  asof: 'at',
  check: 'verify',
};
