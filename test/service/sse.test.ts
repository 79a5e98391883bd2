import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, type ProcessRegistry } from '../../src/index.ts';
import { type RunningService, startService } from '../../src/service/server.ts';
import { registration } from '../conformance/fixtures.ts';
import { call } from './helpers.ts';
import { eventually, SseClient } from './sse-client.ts';
import { quietLogger, serveOn } from './support.ts';

const line = (text: string) => ({ eventType: 'producer.line', payload: { text } });
const sequences = (messages: { event: string; id: string | undefined }[]) =>
  messages.filter((m) => m.event === 'event').map((m) => Number(m.id));

describe('SSE streams and waiters over HTTP', () => {
  let local: ProcessRegistry;
  let service: RunningService;
  let close: () => Promise<void>;
  let baseline: number;
  const gauge = async (name: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };

  beforeEach(async () => {
    ({ local, service, close } = await serveOn('memory:'));
    await local.registerProcess(registration('p1'));
    for (const text of ['1', '2', '3']) await local.appendEvent('p1', line(text));
    baseline = local.diagnostics().feedSubscribers;
  });
  afterEach(() => close());

  it('streams catch-up then live, each event once, with the sequence as event id', async () => {
    const stream = new SseClient(`${service.url}/processes/p1/events?after=1`);
    await stream.until((m) => sequences(m).length === 2);
    await local.appendEvent('p1', line('4'));
    await local.appendEvent('p1', line('5'));
    const messages = await stream.until((m) => sequences(m).length === 4);
    expect(sequences(messages)).toEqual([2, 3, 4, 5]);
    expect(JSON.parse(messages.at(-1)!.data)).toMatchObject({
      sequence: 5,
      payload: { text: '5' },
    });
    stream.close();
  });

  it('resumes after Last-Event-ID, which wins over ?after=', async () => {
    const first = new SseClient(`${service.url}/processes/p1/events`);
    const seen = await first.until((m) => sequences(m).length === 3);
    first.close();
    await local.appendEvent('p1', line('4'));
    const resumed = new SseClient(`${service.url}/processes/p1/events?after=0`, {
      'last-event-id': seen.at(-1)!.id!,
    });
    await resumed.until((m) => sequences(m).length === 1);
    await local.appendEvent('p1', line('5'));
    expect(sequences(await resumed.until((m) => sequences(m).length === 2))).toEqual([4, 5]);
    resumed.close();
  });

  it('unsubscribes inside the service when the client disconnects', async () => {
    const stream = new SseClient(`${service.url}/processes/p1/events`);
    await stream.until((m) => sequences(m).length === 3);
    expect(local.diagnostics().feedSubscribers).toBe(baseline + 1);
    expect(await gauge('procreg_sse_clients')).toBe(1);
    stream.close();
    await eventually(() => local.diagnostics().feedSubscribers === baseline, 'feed unsubscribed');
    expect(await gauge('procreg_sse_clients')).toBe(0);
  });

  it('aborts a remote waiter inside the service when its signal fires (SSE) or its connection closes (long-poll)', async () => {
    const remote = await openRegistry(service.url);
    const controller = new AbortController();
    const waiting = remote.waitEventAfter('p1', 'producer.line', 3, { signal: controller.signal });
    const awaiting = remote.awaitProcess('p1', { signal: controller.signal });
    await eventually(() => local.diagnostics().feedSubscribers === baseline + 2, 'two waiters');
    expect(await gauge('procreg_open_waiters')).toBe(2);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    await expect(awaiting).rejects.toMatchObject({ code: 'aborted' });
    await eventually(() => local.diagnostics().feedSubscribers === baseline, 'waiters gone');
    expect(await gauge('procreg_open_waiters')).toBe(0);

    const poll = new AbortController();
    const longPoll = fetch(`${service.url}/processes/p1/outcome`, { signal: poll.signal });
    await eventually(
      () => local.diagnostics().feedSubscribers === baseline + 1,
      'long-poll waiting',
    );
    poll.abort();
    await expect(longPoll).rejects.toThrow();
    await eventually(() => local.diagnostics().feedSubscribers === baseline, 'long-poll gone');
    await remote.close();
  });

  it('resolves waiters over SSE and long-poll alike', async () => {
    const remote = await openRegistry(service.url);
    const waiting = remote.waitEventAfter('p1', 'producer.line', 3, { timeoutMs: 60_000 });
    const longPoll = call(service.url, 'GET', '/processes/p1/wait?eventType=producer.line&after=3');
    await eventually(() => local.diagnostics().feedSubscribers === baseline + 2, 'both waiting');
    await local.appendEvent('p1', line('4'));
    expect((await waiting).sequence).toBe(4);
    expect(await longPoll).toMatchObject({ status: 200, body: { sequence: 4 } });
    await local.completeProcess('p1', { type: 'success', value: 'ok' });
    expect(await remote.awaitProcess('p1')).toEqual({ type: 'success', value: 'ok' });
    await remote.close();
  });

  it('events$ over HTTP: unsubscribing closes the stream; close() ends open waiters as unavailable', async () => {
    const remote = await openRegistry(service.url);
    const seen: number[] = [];
    const subscription = remote.events$('p1', 0).subscribe((e) => seen.push(e.sequence));
    await eventually(() => seen.length === 3, 'catch-up');
    subscription.unsubscribe();
    await eventually(() => local.diagnostics().feedSubscribers === baseline, 'stream closed');
    const waiting = remote.awaitProcess('p1');
    await eventually(() => local.diagnostics().feedSubscribers === baseline + 1, 'waiting');
    await remote.close();
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
    await eventually(() => local.diagnostics().feedSubscribers === baseline, 'closed');
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes the in-flight command, ends streams and long-polls cleanly', async () => {
    const local = await openRegistry('memory:');
    await local.registerProcess(registration('p1'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // a registry whose appendEvent holds until the test lets it go: an in-flight command
    const slow = new Proxy(local, {
      get(target, key) {
        if (key === 'withContext') {
          return (audit: Parameters<ProcessRegistry['withContext']>[0]) => {
            const view = target.withContext(audit);
            return new Proxy(view, {
              get(v, k) {
                if (k === 'appendEvent') {
                  return async (...args: Parameters<ProcessRegistry['appendEvent']>) => {
                    entered();
                    await gate;
                    return v.appendEvent(...args);
                  };
                }
                const member = Reflect.get(v, k, v);
                return typeof member === 'function' ? member.bind(v) : member;
              },
            });
          };
        }
        const member = Reflect.get(target, key, target);
        return typeof member === 'function' ? member.bind(target) : member;
      },
    });
    const service = await startService({ registry: slow, port: 0, logger: quietLogger() });
    const stream = new SseClient(`${service.url}/processes/p1/events`);
    await stream.until(() => stream.status === 200);
    const longPoll = call(service.url, 'GET', '/processes/p1/outcome');
    const append = call(service.url, 'POST', '/processes/p1/events', { body: line('in flight') });
    await inside;
    const closing = service.close();
    const messages = await stream.until((m) => m.some((x) => x.event === 'end'));
    expect(messages.at(-1)).toMatchObject({ event: 'end' });
    expect(await longPoll).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    const late = await call(service.url, 'GET', '/healthz').catch((e: Error) => e);
    expect(late instanceof Error || late.status === 503).toBe(true);
    release();
    expect(await append).toMatchObject({ status: 200, body: { event: { sequence: 1 } } });
    await closing;
    expect((await local.eventsAfter('p1', 0)).map((e) => e.payload)).toEqual([
      { text: 'in flight' },
    ]);
    await local.close();
  });
});

describe('the remote events$ across a service restart', () => {
  it('reconnects after the service went away and resumes after the last event, each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procreg-resume-'));
    const url = `sqlite:${join(dir, 'registry.db')}`;
    const first = await serveOn(url);
    await first.local.registerProcess(registration('p1'));
    await first.local.appendEvent('p1', line('1'));
    const remote = await openRegistry(first.service.url);
    const seen: number[] = [];
    let failed: unknown;
    const subscription = remote.events$('p1', 0).subscribe({
      next: (event) => seen.push(event.sequence),
      error: (error) => {
        failed = error;
      },
    });
    await eventually(() => seen.length === 1, 'first event');
    await first.close(); // graceful: the stream ends with an `end` event
    const local = await openRegistry(url);
    const second = await startService({
      registry: local,
      port: first.service.port,
      logger: quietLogger(),
    });
    await local.appendEvent('p1', line('2'));
    await local.appendEvent('p1', line('3'));
    await eventually(() => seen.length === 3 || failed !== undefined, 'resumed');
    expect(failed).toBeUndefined();
    expect(seen).toEqual([1, 2, 3]);
    subscription.unsubscribe();
    await remote.close();
    await second.close();
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
