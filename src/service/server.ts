import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, Server } from 'node:net';
import { serve } from '@hono/node-server';
import { type Logger, pino } from 'pino';
import { RegistryError } from '../domain/errors.ts';
import type { ProcessRegistry } from '../registry.ts';
import { createApp } from './app.ts';
import { ServiceMetrics } from './metrics.ts';
import { SseHub } from './sse.ts';
import type { TokenTable } from './tokens.ts';

export interface ServiceOptions {
  registry: ProcessRegistry;
  /** default 7411; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  tokens?: TokenTable | undefined;
  /** default: JSON lines on stdout at `info` */
  logger?: Logger;
  /** how long shutdown waits for in-flight requests before closing connections (default 10 s) */
  drainMs?: number;
  /** serve HTTPS with this certificate and key (PEM) */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface RunningService {
  url: string;
  port: number;
  metrics: ServiceMetrics;
  /**
   * Graceful shutdown: stop accepting, end every SSE stream with an `end` event, let in-flight
   * commands finish (up to drainMs), then close the connections. Does not close the registry.
   */
  close(): Promise<void>;
}

const isLoopback = (host: string): boolean =>
  host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');

/** Starts the HTTP service on a registry; resolves once it listens. */
export const startService = async (options: ServiceOptions): Promise<RunningService> => {
  const host = options.host ?? '127.0.0.1';
  if (!options.tokens && !isLoopback(host)) {
    throw new RegistryError(
      'invalid',
      `refusing to serve on ${host} without tokens: anyone could read and write; give --tokens <file> (or PROCREG_TOKENS), or serve on 127.0.0.1`,
    );
  }
  const logger = options.logger ?? pino({ base: { service: 'procreg' } });
  const metrics = new ServiceMetrics();
  const hub = new SseHub((count) => metrics.sseClients.set(count));
  const shutdown = new AbortController();
  const idleWaiters: (() => void)[] = [];
  const inflight = {
    count: 0,
    idle: () => {
      for (const resolve of idleWaiters.splice(0)) resolve();
    },
  };
  const app = createApp({
    registry: options.registry,
    tokens: options.tokens,
    logger,
    metrics,
    hub,
    shutdown: shutdown.signal,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: options.port ?? 7411,
        hostname: host,
        ...(options.tls
          ? { createServer: createHttpsServer, serverOptions: { ...options.tls } }
          : {}),
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  // In flight = until the response is written out (or the client left): a handler returning
  // its Response is not enough, the bytes must reach the socket before it may close.
  server.on('request', (_req: unknown, res: NodeJS.EventEmitter) => {
    inflight.count += 1;
    res.once('close', () => {
      inflight.count -= 1;
      if (inflight.count === 0) inflight.idle();
    });
  });
  // a keep-alive client pool reuses connections; idle ones close after this long
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 30_000;
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info(
    { url, auth: options.tokens ? `${options.tokens.size} tokens` : 'open (loopback only)' },
    'listening',
  );
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shutdown.abort();
      // Stop listening but keep open connections: http's own close() would also drop
      // connections whose request is still being served (Node 20 counts them idle).
      const closed = new Promise<void>((resolve) =>
        Server.prototype.close.call(server, () => resolve()),
      );
      hub.endAll('the service is shutting down');
      if (inflight.count > 0) {
        const drained = new Promise<void>((resolve) => idleWaiters.push(resolve));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          drained,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, options.drainMs ?? 10_000);
          }),
        ]);
        clearTimeout(timer);
      }
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
      logger.info({ url }, 'stopped');
    })();
    return closing;
  };
  return { url, port, metrics, close };
};
