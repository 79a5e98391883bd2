/** Something with a deadline: told `expire()` once it passes, unless removed first. */
export interface Expiring {
  /** monotonic ms (performance.now) */
  deadline: number;
  /** true while queued; the queue owns it */
  queued: boolean;
  expire(): void;
}

/**
 * Every waiter's timeout on one min-heap and one native timer, armed for the earliest
 * deadline: a waiter costs a heap slot instead of a Node timer object, and adding one is
 * O(log n). Removal is lazy and O(1): the entry is marked and left in the heap, popped when
 * it reaches the top; the heap is rebuilt from the live entries when the dead outnumber
 * them, so removing any number of entries costs amortized O(1) each.
 *
 * Invariant: a native timer is pending exactly while a live entry is queued, so a queue
 * with nothing to time out holds no timer (and never keeps the process alive).
 */
export class DeadlineQueue {
  private heap: Expiring[] = [];
  private live = 0;
  private timer: NodeJS.Timeout | undefined;
  /** the deadline the native timer fires for */
  private armedFor = Number.POSITIVE_INFINITY;

  /** Queues `item` to expire `delayMs` from now. */
  add(item: Expiring, delayMs: number): void {
    item.deadline = performance.now() + delayMs;
    item.queued = true;
    this.live += 1;
    this.push(item);
    if (item.deadline < this.armedFor) this.arm(item.deadline);
  }

  /** Forgets `item` (a no-op when it is not queued). */
  remove(item: Expiring): void {
    if (!item.queued) return;
    item.queued = false;
    this.live -= 1;
    if (this.live === 0) {
      this.heap = [];
      this.disarm();
    } else if (this.heap.length > 64 && this.heap.length > 2 * this.live) {
      this.rebuild();
    }
  }

  /** Live entries, heap slots (live and dead), and native timers pending (0 or 1). */
  get counts(): { timeouts: number; heapSlots: number; nativeTimers: number } {
    return {
      timeouts: this.live,
      heapSlots: this.heap.length,
      nativeTimers: this.timer ? 1 : 0,
    };
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const expired: Expiring[] = [];
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.queued && top.deadline > now) break;
      this.pop();
      if (!top.queued) continue;
      top.queued = false;
      this.live -= 1;
      expired.push(top);
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.deadline);
    // told after the queue is consistent: an expiring waiter may add or remove others
    for (const item of expired) item.expire();
  }

  private arm(deadline: number): void {
    this.disarm();
    this.armedFor = deadline;
    // Node fires timers on whole milliseconds of its loop clock: an early wake-up re-arms
    const delay = Math.max(1, Math.ceil(deadline - performance.now()));
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private rebuild(): void {
    this.heap = this.heap.filter((item) => item.queued);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(item: Expiring): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= item.deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private down(start: number): void {
    const heap = this.heap;
    const item = heap[start]!;
    const n = heap.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.deadline < heap[child]!.deadline) child += 1;
      if (heap[child]!.deadline >= item.deadline) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
