import type { DomainEvent } from '../domain/events.ts';
import type { Position } from '../store/port.ts';
import type { ReadModelReader, RowChange } from '../store/read-model-tables.ts';

/** What a read model sees of an event: the fact, and where the log holds it. */
export interface ProjectedEvent {
  event: DomainEvent;
  position: Position;
  /** the registry clock when it was recorded (metadata), for "as of a time" */
  metadata: { recordedAtMs: number };
}

/**
 * A read model, declared once: a pure function from an event (and the rows it may update,
 * all of the event's own process) to row changes. The same definition feeds the memory
 * tables, the SQLite tables and the scratch rebuild that `verifyProjections` compares with.
 */
export interface ReadModel {
  name: string;
  apply(projected: ProjectedEvent, rows: ReadModelReader): RowChange[];
}
