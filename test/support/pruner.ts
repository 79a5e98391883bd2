/**
 * Child process for the prune crash test: prunes every terminal process of a store (any
 * store URL) into an archive, a few per prune, until none is left (or it is killed),
 * printing one line per progress step and per prune. Waits for a line on stdin before
 * opening the store.
 * Usage: node --import tsx pruner.ts <store url> <archive dir>
 */
import { openRegistry } from '../../src/index.ts';

const [url, archive] = process.argv.slice(2);
if (!url || !archive) throw new Error('usage: <store url> <archive dir>');

await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const registry = await openRegistry(url);
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
