/**
 * Child process for the prune crash test: prunes every terminal process of a SQLite store
 * into an archive, a few per prune, until none is left (or it is killed), printing one
 * line per progress step and per prune. Waits for a line on stdin before opening the store.
 * Usage: node --import tsx sqlite-pruner.ts <file> <archive dir>
 */
import { openRegistry } from '../../src/index.ts';

const [file, archive] = process.argv.slice(2);
if (!file || !archive) throw new Error('usage: <file> <archive dir>');

await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const registry = await openRegistry(`sqlite:${file}`);
process.stdout.write('ready\n');
for (;;) {
  const result = await registry.pruneTerminalProcesses(
    { terminalBeforeMs: Date.now(), archiveTo: archive, limit: 3 },
    (progress) => process.stdout.write(`${JSON.stringify(progress)}\n`),
  );
  process.stdout.write(`${JSON.stringify({ pruned: result.processes.length })}\n`);
  if (result.processes.length === 0) break;
}
await registry.close();
process.stdout.write('done\n');
