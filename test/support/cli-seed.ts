import { openRegistry } from '../../src/index.ts';

/**
 * A small history written through the library on a hand-moved clock, so every time the
 * CLI prints is known: a tool call that completes, a job a worker leases, a running turn.
 */
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

export const seedStore = async (url: string): Promise<void> => {
  let now = T0;
  const at = (offsetSeconds: number) => {
    now = T0 + offsetSeconds * 1000;
  };
  const registry = await openRegistry(url, { clock: () => now });
  try {
    const alice = registry.withContext({ actor: 'agent:alice' });
    const shell = registry.withContext({ actor: 'tool:shell' });
    const worker = registry.withContext({ actor: 'worker-1' });
    const line = { name: 'producer.line', payloadSchema: true } as const;

    await alice.registerProcess({
      id: 'tool-1',
      input: { type: 'tool_call', command: 'ls -la' },
      eventTypes: [line],
      provenance: { ownerScope: { sessionId: 's1', agentFrameId: 'main' }, hostProfileId: 'h1' },
    });
    await alice.grantHandle({ sessionId: 's1', agentFrameId: 'main' }, 'tool-1', {
      kind: 'tool',
      label: 'list files',
    });
    at(1);
    await shell.appendEvent('tool-1', { eventType: 'producer.line', payload: { line: 'a.txt' } });
    at(2);
    await shell.appendEvent('tool-1', { eventType: 'producer.line', payload: { line: 'b.txt' } });
    at(60);
    await shell.completeProcess('tool-1', { type: 'success', value: { exitCode: 0 } });

    at(10 * 60);
    await alice.registerProcess({
      id: 'job-1',
      input: { type: 'job', queue: 'indexer' },
      provenance: { ownerScope: { sessionId: 's2' }, hostProfileId: 'h1' },
    });
    at(10 * 60 + 5);
    await worker.claimProcessLease('job-1', 'worker-1', 30 * 60_000);

    at(20 * 60);
    await alice.registerProcess({
      id: 'turn-1',
      input: { type: 'agent_turn' },
      eventTypes: [{ name: 'turn.message', payloadSchema: true }],
      provenance: { ownerScope: { sessionId: 's1' }, hostProfileId: 'h1' },
    });
    await alice.appendEvent('turn-1', {
      eventType: 'turn.message',
      payload: { text: 'hello' },
      replayKey: 'message:1',
    });
  } finally {
    await registry.close();
  }
};
