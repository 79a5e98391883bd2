import { Observable } from 'rxjs';
import type { RecordedDomainEvent } from '../domain/codec.ts';
import { STREAM_PREFIX } from '../domain/events.ts';

/** What a listener is told: each applied event, then (when the registry closes) the end. */
export interface Sink {
  next(event: RecordedDomainEvent): void;
  complete(): void;
}

/**
 * One subscription, linked into its channel's list. It is its own handle: `unsubscribe()`
 * unlinks it in O(1), and it is what an Observable's subscribe function returns as teardown.
 */
class Node {
  prev: Node | undefined = undefined;
  next: Node | undefined = undefined;
  constructor(
    /** undefined once unsubscribed (or the dispatcher closed): never delivered to again */
    public channel: Channel | undefined,
    readonly sink: Sink,
  ) {}

  unsubscribe(): void {
    this.channel?.unlink(this);
  }
}

/** The listeners of one process (or of everything), in subscription order. */
class Channel {
  head: Node | undefined = undefined;
  tail: Node | undefined = undefined;
  size = 0;
  constructor(
    readonly key: string | undefined,
    /** told of each unsubscribe, after the node is unlinked */
    private readonly onUnlink: (channel: Channel) => void,
  ) {}

  link(node: Node): void {
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size += 1;
  }

  unlink(node: Node): void {
    if (node.channel !== this) return;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.channel = undefined;
    node.prev = undefined;
    node.next = undefined;
    this.size -= 1;
    this.onUnlink(this);
  }

  /**
   * Delivers to the listeners linked when delivery starts. A listener may unsubscribe itself
   * or others while being told (a waiter settles): those are skipped; one subscribed meanwhile
   * is not told this event (it read the models, which already hold it).
   */
  deliver(event: RecordedDomainEvent): void {
    if (this.size === 1) {
      this.head!.sink.next(event);
      return;
    }
    const nodes: Node[] = [];
    for (let node = this.head; node; node = node.next) nodes.push(node);
    for (const node of nodes) if (node.channel === this) node.sink.next(event);
  }

  /** Detaches every listener (without telling them); returns them. */
  drain(): Node[] {
    const nodes: Node[] = [];
    for (let node = this.head; node; ) {
      const next = node.next;
      node.channel = undefined;
      node.prev = undefined;
      node.next = undefined;
      nodes.push(node);
      node = next;
    }
    this.head = undefined;
    this.tail = undefined;
    this.size = 0;
    return nodes;
  }
}

/** A process's id from its stream name (`process-<id>`); undefined for any other stream. */
const processIdOfStream = (stream: string): string | undefined =>
  stream.startsWith(STREAM_PREFIX) ? stream.slice(STREAM_PREFIX.length) : undefined;

/**
 * Routes each applied domain event to the listeners of its own process, and to the few that
 * asked for everything. This is what makes waiters scale: publishing costs O(listeners of
 * that process + global listeners), whatever number of waiters is open on other processes,
 * and subscribe / unsubscribe are O(1) (a map lookup and a list link).
 *
 * Invariant: a channel is in `byProcess` exactly while it has listeners, so the map holds
 * one entry per process somebody is waiting on, never one per process ever waited on.
 */
export class EventDispatch {
  private readonly byProcess = new Map<string, Channel>();
  private readonly everything: Channel = new Channel(undefined, () => {});
  /** listeners of all per-process channels together (kept, not counted, so reading is O(1)) */
  private processListeners = 0;
  private readonly unlinked = (channel: Channel): void => {
    this.processListeners -= 1;
    if (channel.size === 0 && this.byProcess.get(channel.key!) === channel) {
      this.byProcess.delete(channel.key!);
    }
  };
  private closed = false;

  /** Tells the event's process's listeners, then the global ones. */
  publish(event: RecordedDomainEvent): void {
    const processId = processIdOfStream(event.stream);
    const channel = processId === undefined ? undefined : this.byProcess.get(processId);
    if (channel) channel.deliver(event);
    if (this.everything.size > 0) this.everything.deliver(event);
  }

  /** Listens to one process's applied events; the handle's `unsubscribe()` is O(1). */
  subscribe(processId: string, sink: Sink): { unsubscribe(): void } {
    if (this.closed) return this.refuse(sink);
    let channel = this.byProcess.get(processId);
    if (!channel) {
      channel = new Channel(processId, this.unlinked);
      this.byProcess.set(processId, channel);
    }
    const node = new Node(channel, sink);
    channel.link(node);
    this.processListeners += 1;
    return node;
  }

  /** Listens to every applied event (monitoring, service-wide feeds): use sparingly. */
  subscribeAll(sink: Sink): { unsubscribe(): void } {
    if (this.closed) return this.refuse(sink);
    const node = new Node(this.everything, sink);
    this.everything.link(node);
    return node;
  }

  /** One process's applied events, live (no catch-up), as an Observable. */
  process$(processId: string): Observable<RecordedDomainEvent> {
    return new Observable((subscriber) => this.subscribe(processId, subscriber));
  }

  /** Every applied event, live, as an Observable; completes when the registry closes. */
  readonly all$: Observable<RecordedDomainEvent> = new Observable((subscriber) =>
    this.subscribeAll(subscriber),
  );

  /** Completes every listener; later subscribers complete at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const nodes = this.everything.drain();
    for (const channel of this.byProcess.values()) {
      for (const node of channel.drain()) nodes.push(node);
    }
    this.byProcess.clear();
    this.processListeners = 0;
    for (const node of nodes) node.sink.complete();
  }

  /** Open subscriptions: per process, global, and how many processes have any. */
  get counts(): { processListeners: number; globalListeners: number; processes: number } {
    return {
      processListeners: this.processListeners,
      globalListeners: this.everything.size,
      processes: this.byProcess.size,
    };
  }

  /** Every open subscription, per process and global. */
  get listenerCount(): number {
    return this.processListeners + this.everything.size;
  }

  private refuse(sink: Sink): { unsubscribe(): void } {
    sink.complete();
    return { unsubscribe: () => {} };
  }
}
