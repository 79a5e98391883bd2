import type { Ctx } from './wire.ts';

/** One open event stream, as the service holds it. */
interface OpenStream {
  end(reason: string): void;
}

export interface SseSender {
  /** one SSE message; `data` is already serialized JSON (one line) */
  send(message: { event?: string; id?: string; data: string }): void;
  /** ends the stream after the messages already sent */
  close(): void;
}

/** Comment line sent this often so proxies and clients see a live connection. */
const HEARTBEAT_MS = 15_000;
/**
 * A client this far behind (bytes queued, unread) is ended with an `end` event rather than
 * buffered without bound; it reconnects with Last-Event-ID and resumes (the remote
 * registry's events$ does so by itself). Generous, so a large catch-up fits.
 */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/**
 * Server-Sent Event streams: every open stream is tracked, so the gauge is exact and a
 * graceful shutdown can end each one with an `end` event. A stream's teardown (unsubscribe,
 * abort a waiter) runs exactly once: on client disconnect, on `close()`, or on shutdown.
 */
export class SseHub {
  private readonly open = new Set<OpenStream>();

  constructor(private readonly onCount: (count: number) => void = () => {}) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Starts a stream. `start` subscribes and returns its teardown; it gets the sender and an
   * AbortSignal that fires when the stream ends for any reason.
   */
  respond(c: Ctx, start: (sender: SseSender, signal: AbortSignal) => () => void): Response {
    const encoder = new TextEncoder();
    const ended = new AbortController();
    let teardown: (() => void) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
    const hub = this;
    const stream: OpenStream = {
      end: (reason) => {
        if (ended.signal.aborted) return;
        try {
          controllerRef?.enqueue(
            encoder.encode(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`),
          );
          controllerRef?.close();
        } catch {
          // already closed by the client
        }
        finish();
      },
    };
    const finish = () => {
      if (ended.signal.aborted) return;
      ended.abort();
      clearInterval(heartbeat);
      hub.open.delete(stream);
      hub.onCount(hub.open.size);
      c.req.raw.signal.removeEventListener('abort', finish);
      teardown?.();
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controllerRef = controller;
          hub.open.add(stream);
          hub.onCount(hub.open.size);
          c.req.raw.signal.addEventListener('abort', finish);
          controller.enqueue(encoder.encode(': stream open\n\n'));
          heartbeat = setInterval(() => {
            try {
              controller.enqueue(encoder.encode(': keep-alive\n\n'));
            } catch {
              finish();
            }
          }, HEARTBEAT_MS);
          heartbeat.unref();
          const sender: SseSender = {
            send: ({ event, id, data }) => {
              if (ended.signal.aborted) return;
              if ((controller.desiredSize ?? 0) < -MAX_QUEUED_BYTES) {
                const reason =
                  'the client fell too far behind; reconnect with Last-Event-ID to resume';
                controller.enqueue(
                  encoder.encode(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`),
                );
                controller.close();
                finish();
                return;
              }
              const lines = `${event ? `event: ${event}\n` : ''}${id !== undefined ? `id: ${id}\n` : ''}data: ${data}\n\n`;
              controller.enqueue(encoder.encode(lines));
            },
            close: () => {
              if (ended.signal.aborted) return;
              try {
                controller.close();
              } catch {
                // the client went first
              }
              finish();
            },
          };
          try {
            teardown = start(sender, ended.signal);
            // start may have closed the stream synchronously (e.g. an immediate result)
            if (ended.signal.aborted) teardown();
          } catch (error) {
            finish();
            throw error;
          }
        },
        cancel() {
          finish();
        },
      },
      // counted in bytes, so the limit above is a memory bound
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    return c.body(body, 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  }

  /** Ends every open stream with an `end` event (graceful shutdown). */
  endAll(reason: string): void {
    for (const stream of [...this.open]) stream.end(reason);
  }
}

export const wantsEventStream = (c: Ctx): boolean =>
  (c.req.header('accept') ?? '').includes('text/event-stream');
