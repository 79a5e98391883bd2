import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import { type RunningService, startService } from '../../src/service/server.ts';
import { registration } from '../conformance/fixtures.ts';
import { quietLogger } from './support.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');

describe('the service over HTTPS and the https:// remote registry', () => {
  let local: ProcessRegistry;
  let service: RunningService;
  const ca = fixture('cert.pem');

  beforeAll(async () => {
    local = await openRegistry('memory:');
    service = await startService({
      registry: local,
      port: 0,
      tls: { cert: ca, key: fixture('key.pem') },
      logger: quietLogger(),
    });
  });
  afterAll(async () => {
    await service.close();
    await local.close();
  });

  it('serves the same registry over TLS: commands, waiters and streams', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const remote = await openRegistry(service.url, { ca });
    await remote.registerProcess(registration('secure'));
    const waiting = remote.waitEventAfter('secure', 'producer.line', 0, { timeoutMs: 30_000 });
    await remote.appendEvent('secure', { eventType: 'producer.line', payload: { text: 'tls' } });
    expect((await waiting).payload).toEqual({ text: 'tls' });
    expect((await local.eventsAfter('secure', 0)).map((e) => e.payload)).toEqual([{ text: 'tls' }]);
    await remote.close();
  });

  it('refuses a certificate it does not trust, as unavailable', async () => {
    await expect(openRegistry(service.url)).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('certificate'),
    });
  });
});
