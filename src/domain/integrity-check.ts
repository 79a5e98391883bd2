import {
  chainOf,
  contentHash,
  contentHashOf,
  GENESIS_DIGEST,
  type HashedContent,
  type LogDigest,
  nextDigest,
} from './integrity.ts';
import {
  type IntegrityProblem,
  type IntegrityReport,
  integrityProblemKinds,
} from './integrity-report.ts';
import { longestIncreasing } from './order.ts';
import type { Position } from './stored-event.ts';

/**
 * Verifying the log against its hashes (integrity.ts), a pure fold over the log's process
 * events in position order (`event`), with the tables' digest after each position where
 * they keep it (`indexed`). What each kind means:
 * - `altered`: the event at this position is not what was written there (its content no
 *   longer has the hash it claims, or the digest recorded for the position disagrees), and
 *   it belongs nowhere else;
 * - `reordered`: an event stands where another was written (a swap), or before an earlier
 *   revision of its own stream;
 * - `missing`: a recorded position or a stream revision is gone;
 * - `inserted`: an event procreg never wrote there (an unchained event after the chain
 *   began, a second event with the same revision, a position the digests never recorded);
 * - `chain_broken`: the event is intact but does not name its predecessor's hash, or the
 *   log up to a kept digest's position no longer hashes to it.
 * An event is reported once; what follows a damaged event is not reported again because of
 * it (the next event's link is checked against the hash the damaged one claims).
 *
 * Over 300 lines: one fold whose cases (the five kinds, with and without recorded digests,
 * prunes stepped over) read best side by side.
 */

/** The tables' digest at a position, and the one before it (the step it must be). */
export interface IndexedStep {
  previous: string;
  digest: string;
}

/** A process event as the check reads it: a `StoredEvent`, or a `TextEvent` (hashed from its text). */
export interface LogEvent extends HashedContent {
  id: string;
  position: Position;
}

interface Suspect {
  event: LogEvent;
  link: string;
  claimed: string | undefined;
  step: IndexedStep | undefined;
  /** its content does not hash to its claim even with the link it should name */
  unfit: boolean;
}

/**
 * What the check keeps of a stream: while its revisions arrive 0, 1, 2 … only how many did
 * and the last one's position (an intact log keeps nothing per event); every event from the
 * first one out of that order on.
 */
interface StreamTrack {
  inOrder: number;
  inOrderLast: Position;
  revisions: number[];
  positions: Position[];
  /** the highest revision so far (changed in place) */
  last: { revision: number; link: string; suspect: boolean } | undefined;
}

export class IntegrityCheck {
  private readonly problems = new Map<string, IntegrityProblem>();
  private readonly streams = new Map<string, StreamTrack>();
  private readonly suspects: Suspect[] = [];
  /** recorded positions with no event left at them */
  private readonly vanished: Position[] = [];
  private digest = GENESIS_DIGEST;
  private digestPosition: Position = 0n;
  /** each kept digest, and the log's digest up to its position once the log passed it */
  private readonly kept: { digest: LogDigest; reached: string | undefined }[];
  private chainedFrom: Position | undefined;
  private unchained = 0;
  private unchainedThrough: Position | null = null;
  private checked = 0;
  /** events prunes removed, and the last position any of them held */
  private prunedEvents = 0;
  private prunedThrough: Position = 0n;

  /** `against`: digests kept earlier; the log up to each one's position must hash to it */
  constructor(...against: LogDigest[]) {
    this.kept = against.map((digest) => ({ digest, reached: undefined }));
  }

  /**
   * A recorded position with no event in the log, and the digest recorded after it: the
   * log digest goes on from there (a pruned position is an anchor, not a break).
   */
  vanishedAt(position: Position, digest: string): void {
    this.passAgainst(position);
    this.vanished.push(position);
    this.digest = digest;
    this.digestPosition = position;
  }

  /**
   * An event a prune removed, as its record names it, where no digest was recorded: the log
   * digest steps over it as it did when the event was in the log.
   */
  prunedStep(position: Position, stream: string, revision: number, hash: string): void {
    this.passAgainst(position);
    this.digest = nextDigest(this.digest, position, stream, revision, hash);
    this.digestPosition = position;
  }

  /** A prune's record: its processes' events left the log at or before their last positions. */
  pruned(processes: readonly { lastPosition: string; events: number }[]): void {
    for (const { lastPosition, events } of processes) {
      this.prunedEvents += events;
      const last = BigInt(lastPosition);
      if (last > this.prunedThrough) this.prunedThrough = last;
    }
  }

  /**
   * The next process event in position order; `step` is what the tables recorded for its
   * position (`'unrecorded'`: they keep digests up to past it, but none for it).
   */
  event(event: LogEvent, step?: IndexedStep | 'unrecorded'): void {
    this.checked += 1;
    this.passAgainst(event.position);
    const track = this.trackOf(event.stream);
    const { last } = track;
    // the hash this event must name, when its predecessor came just before it intact
    const expectedPrev =
      event.revision === (last ? last.revision + 1 : 0) && !last?.suspect
        ? (last?.link ?? null)
        : undefined;
    const chain = chainOf(event.metadata);
    const content = contentHashOf(event, chain?.hash);
    const link = chain?.hash ?? content;
    let suspect = false;
    let unfit = false;
    // one of the two chain fields left: an event whose metadata was damaged, not an old one
    const damaged = !chain && hasKey(event.metadata, 'prevHash');
    if (!chain && !damaged) {
      if (this.chainedFrom === undefined) {
        this.unchained += 1;
        this.unchainedThrough = event.position;
      } else {
        this.report(event, 'inserted');
        suspect = true;
      }
    } else if (!chain) {
      suspect = true;
    } else {
      this.chainedFrom ??= event.position;
      if (content !== chain.hash) {
        suspect = true;
        // not this position's event with a changed byte: neither its link nor its content
        // with the right link has the hash it claims
        unfit =
          expectedPrev !== undefined &&
          hasKey(event.metadata, 'prevHash') &&
          chain.prevHash !== expectedPrev &&
          contentHash(
            contentWith(event, {
              metadata: { ...(event.metadata as object), prevHash: expectedPrev },
            }),
          ) !== chain.hash;
      }
    }
    if (step === 'unrecorded') {
      this.report(event, 'inserted');
      suspect = true;
    }
    const running = nextDigest(this.digest, event.position, event.stream, event.revision, link);
    if (step && step !== 'unrecorded') {
      // while the log agrees with the recorded digests, the running digest is the step's start
      const expected =
        step.previous === this.digest
          ? running
          : nextDigest(step.previous, event.position, event.stream, event.revision, link);
      if (expected !== step.digest) suspect = true;
    }
    if (!suspect && chain && expectedPrev !== undefined && chain.prevHash !== expectedPrev) {
      // an intact event whose intact predecessor has another hash than it names
      this.report(event, 'chain_broken');
    }
    this.digest = running;
    this.digestPosition = event.position;
    if (track.revisions.length === 0 && event.revision === track.inOrder) {
      track.inOrder += 1;
      track.inOrderLast = event.position;
    } else {
      track.revisions.push(event.revision);
      track.positions.push(event.position);
    }
    if (!last) track.last = { revision: event.revision, link, suspect };
    else if (event.revision > last.revision) {
      last.revision = event.revision;
      last.link = link;
      last.suspect = suspect;
    }
    if (suspect) {
      this.suspects.push({
        event,
        link,
        claimed: chain?.hash,
        step: step === 'unrecorded' ? undefined : step,
        unfit,
      });
    }
  }

  private trackOf(stream: string): StreamTrack {
    let track = this.streams.get(stream);
    if (!track) {
      track = { inOrder: 0, inOrderLast: 0n, revisions: [], positions: [], last: undefined };
      this.streams.set(stream, track);
    }
    return track;
  }

  /** Every event is in: classify what is suspect and report what is missing. */
  finish(): IntegrityReport {
    this.passAgainst(undefined);
    this.classifySuspects();
    const claimed = new Set<Position>();
    for (const [stream, track] of this.streams) {
      if (track.revisions.length > 0) this.streamOrder(stream, track, claimed);
    }
    // recorded positions a prune explains (as many as it removed, none after the last of
    // them) are not missing; more vanished than pruned: every one of them is reported
    const unexplained = this.vanished.filter((p) => !claimed.has(p));
    const inPruned = unexplained.filter((p) => p <= this.prunedThrough);
    const excused = inPruned.length <= this.prunedEvents ? new Set(inPruned) : new Set();
    for (const position of unexplained) {
      if (!excused.has(position)) this.add(position, null, null, 'missing');
    }
    for (const { digest, reached } of this.kept) {
      if (reached !== digest.digest) this.add(digest.position, null, null, 'chain_broken');
    }
    const problems = [...this.problems.values()].sort((a, b) =>
      a.position < b.position ? -1 : a.position > b.position ? 1 : a.kind < b.kind ? -1 : 1,
    );
    return {
      ok: problems.length === 0,
      checked: this.checked,
      problems,
      unchained: { events: this.unchained, through: this.unchainedThrough },
      digest: { digest: this.digest, position: this.digestPosition },
    };
  }

  /** Takes the digest up to each kept one's position once the log passes it. */
  private passAgainst(next: Position | undefined): void {
    for (const kept of this.kept) {
      if (kept.reached !== undefined) continue;
      if (next !== undefined && next <= kept.digest.position) continue;
      // a log that ends before the kept position has lost events the digest covers
      const reached = next !== undefined || this.digestPosition >= kept.digest.position;
      kept.reached = reached ? this.digest : '';
    }
  }

  /**
   * A suspect that fits where another suspect stands (its digest step there, or its content
   * hash under that position's stream and revision) was moved: reordered. One that fits
   * nowhere, not even here with a changed byte, was inserted; the rest were altered.
   */
  private classifySuspects(): void {
    const many = this.suspects.length > 1_000;
    for (const suspect of this.suspects) {
      const { event } = suspect;
      if (this.problems.has(keyOf(event.position, 'inserted'))) continue;
      const moved =
        !many &&
        this.suspects.some(
          (other) =>
            other !== suspect &&
            ((other.step !== undefined &&
              nextDigest(
                other.step.previous,
                other.event.position,
                event.stream,
                event.revision,
                suspect.link,
              ) === other.step.digest) ||
              (suspect.claimed !== undefined &&
                contentHash(
                  contentWith(event, {
                    stream: other.event.stream,
                    revision: other.event.revision,
                  }),
                ) === suspect.claimed)),
        );
      this.report(event, moved ? 'reordered' : suspect.unfit ? 'inserted' : 'altered');
    }
  }

  /**
   * A stream whose revisions did not arrive 0, 1, 2 … in position order: a revision seen
   * twice was inserted; of the rest, the fewest events whose moving explains the order were
   * reordered (a swap reports the two moved events, not what stands between them); a
   * revision never seen is missing (at the recorded position that vanished between its
   * neighbours, if the tables recorded one, else where the next revision stands).
   * The run 0 … inOrder - 1 that came first is never reported: every revision after it is
   * higher (lower ones are repeats), so it is in rank and in the longest in-order run, and
   * a gap after it needs only its last position.
   */
  private streamOrder(stream: string, track: StreamTrack, claimed: Set<Position>): void {
    const { inOrder: run } = track;
    const seen = new Map<number, Position>();
    const order: number[] = [];
    track.revisions.forEach((revision, i) => {
      const position = track.positions[i]!;
      if (revision < run || seen.has(revision)) this.add(position, stream, revision, 'inserted');
      else {
        seen.set(revision, position);
        order.push(revision);
      }
    });
    // the smaller of two explanations: the events off their rank (a swap moves two), or
    // those outside the longest in-order run (one event moved far shifts all between)
    const sorted = [...order].sort((x, y) => x - y);
    const offRank = order.filter((revision, k) => revision !== sorted[k]);
    const inOrder = longestIncreasing(order);
    const outOfRun = order.filter((revision) => !inOrder.has(revision));
    for (const revision of offRank.length <= outOfRun.length ? offRank : outOfRun) {
      this.add(seen.get(revision)!, stream, revision, 'reordered');
    }
    let max = -1;
    for (const revision of seen.keys()) if (revision > max) max = revision;
    let before: Position = run > 0 ? track.inOrderLast : 0n;
    for (let revision = run; revision <= max; revision++) {
      const at = seen.get(revision);
      if (at !== undefined) {
        before = at;
        continue;
      }
      let nextRevision = revision + 1;
      while (!seen.has(nextRevision)) nextRevision++;
      const after = seen.get(nextRevision)!;
      const gone = this.vanished.find((p) => !claimed.has(p) && p > before && p < after);
      if (gone !== undefined) claimed.add(gone);
      this.add(gone ?? after, stream, revision, 'missing');
    }
  }

  private report(event: LogEvent, kind: IntegrityProblem['kind']): void {
    this.add(event.position, event.stream, event.revision, kind);
  }

  private add(
    position: Position,
    stream: string | null,
    revision: number | null,
    kind: IntegrityProblem['kind'],
  ): void {
    const key = keyOf(position, kind);
    // one report per position: a reordered or inserted event is not also altered
    if ([...integrityProblemKinds].some((k) => this.problems.has(keyOf(position, k)))) {
      if (kind !== 'missing' && kind !== 'chain_broken') return;
    }
    if (!this.problems.has(key)) this.problems.set(key, { position, stream, revision, kind });
  }
}

const keyOf = (position: Position, kind: string): string => `${position} ${kind}`;

/** An event's content with some of it changed (read member by member: a `TextEvent`'s data is a getter). */
const contentWith = (event: LogEvent, changes: Partial<HashedContent>): HashedContent => ({
  stream: event.stream,
  revision: event.revision,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  ...changes,
});

const hasKey = (value: unknown, key: string): boolean =>
  value !== null && typeof value === 'object' && key in value;
