import { scopeIdOf } from '../domain/scope.ts';
import type {
  HistoryEntry,
  ProcessAwaitOutput,
  ProcessEvent,
  ProcessRecord,
  RefusedHistoryEntry,
  Scope,
} from '../index.ts';
import type { Style } from './style.ts';
import { truncate } from './table.ts';
import { formatClock, formatDuration } from './times.ts';

/** Human wording for records, outcomes, payloads and domain events. */

export const scopeText = (scope: Scope): string => scopeIdOf(scope);

/** `running`, `completed`, `failed (timeout)`, `cancelled`. */
export const stateText = (record: ProcessRecord): string => {
  const { status } = record;
  if (status.state === 'failed' && status.awaitOutput.type === 'failure') {
    return `failed (${status.awaitOutput.code})`;
  }
  return status.state;
};

export const stateStyle = (record: ProcessRecord, style: Style): ((text: string) => string) => {
  switch (record.status.state) {
    case 'running':
      return style.cyan;
    case 'completed':
      return style.green;
    case 'failed':
      return style.red;
    default:
      return style.yellow;
  }
};

const isPlain = (value: unknown): value is string | number | boolean | null =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

/**
 * A payload in one short line: a flat object as `key=value` pairs (strings quoted only when
 * they contain spaces), anything else as compact JSON; cut at `max` characters.
 */
export const summarize = (value: unknown, max = 80): string => {
  if (value === undefined) return '-';
  let text: string;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    text = entries.every(([, v]) => isPlain(v))
      ? entries
          .map(
            ([k, v]) =>
              `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) && v !== '' ? v : JSON.stringify(v)}`,
          )
          .join(' ')
      : JSON.stringify(value);
  } else {
    text = JSON.stringify(value) ?? 'null';
  }
  return truncate(text, max);
};

/** `success exitCode=0`, `failure timeout: index build exceeded 60s`, `cancelled: user`. */
export const outcomeText = (output: ProcessAwaitOutput, max = 80): string => {
  switch (output.type) {
    case 'success':
      return `success ${summarize(output.value, max)}`;
    case 'failure':
      return truncate(`failure ${output.code}: ${output.message}`, max);
    default:
      return truncate(`cancelled: ${output.message}`, max);
  }
};

/** The outcome without its type (the event type already says it ended, and how). */
const outcomeDetail = (output: ProcessAwaitOutput, max: number): string => {
  switch (output.type) {
    case 'success':
      return summarize(output.value, max);
    case 'failure':
      return truncate(`${output.code}: ${output.message}`, max);
    default:
      return truncate(output.message, max);
  }
};

/** What a process event says: type, payload, and what it did (ended, woke someone). */
export const eventText = (event: ProcessEvent, max = 80, withWake = true): string => {
  const { terminal, wake } = event.semantics;
  if (terminal) return outcomeDetail(terminal.awaitOutput, max);
  const text = summarize(event.payload, max);
  return wake && withWake ? `${text}  → wake: ${truncate(wake.input, 60)}` : text;
};

/** A refused command as a sentence: what was asked, the code and the registry's reason. */
export const refusedText = (entry: RefusedHistoryEntry): string =>
  `refused ${entry.command}: ${entry.code}, ${entry.message}`;

/** One history entry as a sentence: what happened to the process. */
export const entryText = (entry: HistoryEntry): string => {
  switch (entry.type) {
    case 'ProcessRegistered': {
      const { record } = entry.data;
      const { ownerScope, hostProfileId } = record.provenance;
      return `registered ${record.input.type} (owner ${scopeText(ownerScope)}, host ${hostProfileId})`;
    }
    case 'ExternalRefSet':
      return `external ref set: ${entry.data.externalRef.id} (${entry.data.externalRef.backend})`;
    case 'HandleGranted': {
      const { kind, label } = entry.data.descriptor;
      const what = [kind, label === undefined ? undefined : JSON.stringify(label)]
        .filter((x) => x !== undefined)
        .join(' ');
      return `granted to ${scopeText(entry.data.scope)}${what ? ` as ${what}` : ''}`;
    }
    case 'HandleRevoked':
      return `grant of ${scopeText(entry.data.scope)} revoked${
        entry.data.reason === 'session_deleted' ? ' (session deleted)' : ''
      }`;
    case 'HandleTransferred':
      return `grant moved ${scopeText(entry.data.from)} → ${scopeText(entry.data.to)}`;
    case 'ProcessEventAppended': {
      const { event, wakeTargetScope } = entry.data;
      const wakes =
        event.semantics.wake && wakeTargetScope ? ` → wakes ${scopeText(wakeTargetScope)}` : '';
      return `#${event.sequence} ${event.eventType} ${eventText(event, 70, false)}${wakes}`;
    }
    case 'WakeAcked':
      return `wake of #${entry.data.sequence} acknowledged`;
    case 'LeaseClaimed': {
      const { lease } = entry.data;
      return `lease claimed by ${lease.ownerId} (fencing ${lease.fencingToken}, ttl ${formatDuration(lease.expiresAtMs - lease.claimedAtMs)})`;
    }
    case 'LeaseRenewed':
      return `lease renewed until ${formatClock(entry.data.expiresAtMs)} (fencing ${entry.data.fencingToken})`;
    case 'LeaseReleased':
      return `lease released (fencing ${entry.data.fencingToken})`;
    default:
      return 'unknown entry';
  }
};
