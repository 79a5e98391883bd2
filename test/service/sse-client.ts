/** A test's SSE connection: reads messages as they come, closes on demand. */
export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  status = 0;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  done: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.done = this.run(url, headers).catch(() => undefined);
  }

  private async run(url: string, headers: Record<string, string>) {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: this.controller.signal,
    });
    this.status = response.status;
    this.notify();
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { event: 'message', id: undefined, data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('id: ')) message.id = line.slice(4);
            else if (line.startsWith('data: ')) {
              message.data = line.slice(6);
              hasData = true;
            }
          }
          if (hasData) this.messages.push(message);
          end = buffer.indexOf('\n\n');
        }
        this.notify();
      }
    } finally {
      this.notify();
    }
  }

  private notify() {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once `condition` holds for the messages received (re-checked on each chunk). */
  async until(condition: (messages: SseMessage[]) => boolean): Promise<SseMessage[]> {
    let ended = false;
    void this.done.then(() => {
      ended = true;
      this.notify();
    });
    while (!condition(this.messages)) {
      if (ended)
        throw new Error(`stream ended before the condition held: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.messages;
  }

  close(): void {
    this.controller.abort();
  }
}

/** Polls a condition on the event loop (no fixed sleep): for effects that land a tick later. */
export const eventually = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 100 ? 0 : 5));
  }
  throw new Error(`never happened: ${what}`);
};
