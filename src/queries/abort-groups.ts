/** Something a caller's AbortSignal can stop; the links belong to `AbortGroups`. */
export interface Abortable {
  abortGroup: AbortGroup | undefined;
  abortPrev: Abortable | undefined;
  abortNext: Abortable | undefined;
  abort(): void;
}

/** The waiters sharing one signal, and the one listener this registers on it. */
class AbortGroup {
  head: Abortable | undefined = undefined;
  size = 0;
  constructor(
    readonly signal: AbortSignal,
    private readonly owner: AbortGroups,
  ) {}

  /** EventListener: the signal fired. */
  handleEvent(): void {
    this.owner.fire(this);
  }
}

/**
 * Waiters by AbortSignal, with one native listener per signal however many waiters share it.
 * Native `removeEventListener` scans the signal's listeners, so a thousand waiters settling
 * on one shared signal would cost a million steps; here joining and leaving are O(1) list
 * links, and an abort costs O(waiters it stops).
 *
 * Invariant: a group exists, and its listener is registered, exactly while it has members.
 */
export class AbortGroups {
  private readonly groups = new WeakMap<AbortSignal, AbortGroup>();
  private signals = 0;

  /** `item.abort()` runs when `signal` fires, unless `remove(item)` came first. */
  add(item: Abortable, signal: AbortSignal): void {
    let group = this.groups.get(signal);
    if (!group) {
      group = new AbortGroup(signal, this);
      this.groups.set(signal, group);
      this.signals += 1;
      signal.addEventListener('abort', group, { once: true });
    }
    item.abortGroup = group;
    item.abortPrev = undefined;
    item.abortNext = group.head;
    if (group.head) group.head.abortPrev = item;
    group.head = item;
    group.size += 1;
  }

  remove(item: Abortable): void {
    const group = item.abortGroup;
    if (!group) return;
    if (item.abortPrev) item.abortPrev.abortNext = item.abortNext;
    else group.head = item.abortNext;
    if (item.abortNext) item.abortNext.abortPrev = item.abortPrev;
    item.abortGroup = undefined;
    item.abortPrev = undefined;
    item.abortNext = undefined;
    group.size -= 1;
    if (group.size === 0) this.drop(group, true);
  }

  /** Signals with waiters registered (each holding one native listener). */
  get counts(): { abortSignals: number } {
    return { abortSignals: this.signals };
  }

  /** @internal the group's signal fired: detach every member, then tell each. */
  fire(group: AbortGroup): void {
    if (this.groups.get(group.signal) !== group) return;
    const members: Abortable[] = [];
    for (let item = group.head; item; ) {
      const next = item.abortNext;
      item.abortGroup = undefined;
      item.abortPrev = undefined;
      item.abortNext = undefined;
      members.push(item);
      item = next;
    }
    group.head = undefined;
    group.size = 0;
    this.drop(group, false);
    for (const item of members) item.abort();
  }

  private drop(group: AbortGroup, listening: boolean): void {
    this.groups.delete(group.signal);
    this.signals -= 1;
    if (listening) group.signal.removeEventListener('abort', group);
  }
}
