/** procreg: an event-sourced process registry. The public API. */

export type { AppendOutcome } from './commands/append.ts';
export type { ImportProgress, LineSource } from './commands/import.ts';
export { cancelRequest } from './commands/terminal.ts';
export {
  errorCodes,
  isRegistryError,
  RegistryError,
  type RegistryErrorCode,
} from './domain/errors.ts';
export type { DomainEvent, EventMetadata } from './domain/events.ts';
export type { LogDigest } from './domain/integrity.ts';
export type {
  IntegrityProblem,
  IntegrityProgress,
  IntegrityReport,
  VerifyIntegrityOptions,
} from './domain/integrity-report.ts';
export type { Json } from './domain/json.ts';
export type { Page, ProcessFilter } from './domain/process-list.ts';
export type { RefusedCommand } from './domain/refusal.ts';
export type { FoldedSummary, ReplayStep } from './domain/replay.ts';
export type {
  PrunedSince,
  PruneOptions,
  PruneProgress,
  PruneResult,
} from './domain/retention.ts';
export type * from './domain/schemas.ts';
export { openRegistry, type RegistryOptions, type StoreOptions } from './open-registry.ts';
export type { AsOfPoint, AsOfView } from './queries/as-of.ts';
export type { Changes, ProcessChanges } from './queries/changes.ts';
export type { HandleGrantEntry } from './queries/grants.ts';
export type {
  HistoryEntry,
  HistoryItem,
  HistoryOptions,
  RefusedHistoryEntry,
} from './queries/history.ts';
export type { ProjectionDifference } from './queries/verify.ts';
export type { ProcessList } from './queries/views.ts';
export { type ChangedProcesses, ProcessRegistry, type RegistryDiagnostics } from './registry.ts';
export type { DurabilityTier, EventStore } from './store/port.ts';
