/**
 * A `procreg serve` for the HTTP benchmarks, in its own process (as in production, the
 * service and its clients do not share an event loop). Store URL in argv[2]; prints
 * `port <n>` once listening; on SIGTERM shuts down gracefully and exits.
 */
import { pino } from 'pino';
import { openRegistry } from '../../src/index.ts';
import { startService } from '../../src/service/server.ts';
import { fixedClock } from './fixtures.ts';

const registry = await openRegistry(process.argv[2] ?? 'memory:', { clock: fixedClock });
const service = await startService({
  registry,
  port: 0,
  logger: pino({ level: 'silent' }),
});
process.stdout.write(`port ${service.port}\n`);
process.once('SIGTERM', async () => {
  await service.close();
  await registry.close();
  process.exit(0);
});
