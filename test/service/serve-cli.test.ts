import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/index.ts';
import { registration } from '../conformance/fixtures.ts';
import { jsonOf, runCli, startCli } from '../support/cli-process.ts';

describe('procreg serve and procreg token', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'procreg-serve-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a SQLite store to a remote registry with a token, logs JSON with correlation ids, stops on SIGTERM', async () => {
    const admin = jsonOf<{ token: string; entry: object }>(
      await runCli(['token', '--actor', 'ops', '--admin', '--json']),
    );
    const agent = jsonOf<{ token: string; entry: object }>(
      await runCli(['token', '--actor', 'agent-a', '--session', 'alice,carol', '--json']),
    );
    expect(agent.entry).toMatchObject({ actor: 'agent-a', sessions: ['alice', 'carol'] });
    expect(JSON.stringify(agent.entry)).not.toContain(agent.token);
    const tokens = join(dir, 'tokens.json');
    writeFileSync(tokens, JSON.stringify({ tokens: [admin.entry, agent.entry] }));
    const store = `sqlite:${join(dir, 'served.db')}`;
    const served = startCli(['--store', store, 'serve', '--port', '0', '--tokens', tokens]);
    const stdout = await served.waitForStdout((out) => out.includes('"msg":"listening"'));
    const url = JSON.parse(stdout.split('\n').find((l) => l.includes('"listening"'))!)
      .url as string;

    const remote = await openRegistry(url, { token: agent.token });
    expect(remote.durabilityTier).toBe('durable');
    await remote.withContext({ correlationId: 'trace-42' }).registerProcess(
      registration('job', {
        provenance: { ownerScope: { sessionId: 'carol' }, hostProfileId: 'h' },
      }),
    );
    await remote.appendEvent('job', { eventType: 'producer.line', payload: { text: 'hello' } });
    await remote.close();
    await served.waitForStdout((out) => out.includes('"operation":"appendEvent"'));

    // the CLI works against the service too: the store is the URL, the token from the env
    const ls = await runCli(['--store', url, 'ls', '--all', '--json'], {
      env: { PROCREG_TOKEN: agent.token },
    });
    expect(ls.code, ls.stderr).toBe(0);
    expect(jsonOf<{ processes: { id: string }[] }>(ls).processes.map((p) => p.id)).toEqual(['job']);
    const refused = await runCli(['--store', url, 'ls'], { env: { PROCREG_TOKEN: 'wrong' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('unknown or revoked token');

    served.child.kill('SIGTERM');
    const result = await served.exited;
    expect(result.code, result.stderr).toBe(0);
    const logs = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(logs.find((l) => l.operation === 'registerProcess')).toMatchObject({
      correlationId: 'trace-42',
      actor: 'agent-a',
      outcome: 'ok',
      status: 200,
    });
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped' });

    const local = await openRegistry(store);
    const history = await local.history('job');
    expect(history.map((h) => h.metadata.actor)).toEqual(['agent-a', 'agent-a']);
    expect(history[0]?.metadata.correlationId).toBe('trace-42');
    await local.close();
  });

  it('refuses to serve without tokens on a non-loopback address, and a bad token file', async () => {
    const open = await runCli(['--store', 'memory:', 'serve', '--port', '0', '--host', '0.0.0.0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('without tokens');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"tokens":[{"actor":"x","sha256":"nothex"}]}');
    const refused = await runCli(['--store', 'memory:', 'serve', '--tokens', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('token file');
    const halfTls = await runCli(['--store', 'memory:', 'serve', '--tls-cert', bad]);
    expect(halfTls.code).toBe(2);
    expect(halfTls.stderr).toContain('--tls-key');
  });
});
