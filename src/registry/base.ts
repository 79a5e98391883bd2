import type { Observable } from 'rxjs';
import type { Decision, States } from '../commands/decision.ts';
import type { CommandHandler } from '../commands/handler.ts';
import type { CommandNeeds } from '../commands/lookups.ts';
import { RegistryError } from '../domain/errors.ts';
import { deepFreeze } from '../domain/freeze.ts';
import {
  type AuditContext,
  IdSchema,
  type Scope,
  ScopeSchema,
  type WaitOptions,
  WaitOptionsSchema,
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import type { ProjectionRunner } from '../projections/runner.ts';
import { ReadViews } from '../queries/views.ts';
import { Waits, waitFirst } from '../queries/waiters.ts';
import type { EventStore } from '../store/port.ts';
import type { ReadModelReader, ReadModelTables } from '../store/read-model-tables.ts';

/** The parts one registry instance shares between all its `withContext` views. */
export interface RegistryCore {
  store: EventStore;
  handler: CommandHandler;
  runner: ProjectionRunner;
  /** the registry clock (epoch ms), the one the handler stamps events with */
  clock: () => number;
  closed: boolean;
  /** releases what the registry opened beside the store (a read-models file) */
  release?: () => void;
  /** the waiters' shared timeout queue and abort listeners (made on first use) */
  waits?: Waits;
}

/**
 * The wiring every part of the registry facade shares: the core, the caller's audit
 * context, running a command through the handler, the read models (current before a query
 * reads them: inline models are committed with the events, so an instance sees what other
 * instances wrote before the call) and the waiters' one-promise shape. The public methods
 * live in `commands.ts` (writes) and `../registry.ts` (waiters, the log, administration);
 * the read side is `ReadViews`, shared with `asOf` views.
 */
export class RegistryBase extends ReadViews {
  constructor(
    protected readonly core: RegistryCore,
    protected readonly audit?: AuditContext,
  ) {
    super();
  }

  /**
   * Runs a command: the handler loads the processes' states, decides, appends, retries.
   * Its result is frozen (an immutable snapshot, as every result: the events in it already
   * are, being what the read models hold).
   */
  protected async command<R>(
    command: string,
    processIds: readonly string[],
    decide: (states: States, now: number) => Decision<R>,
    needs?: CommandNeeds,
  ): Promise<R> {
    this.ensureOpen();
    return deepFreeze(
      await this.core.handler.execute(
        { command, audit: this.audit, processIds, ...(needs ? { needs } : {}) },
        decide,
      ),
    );
  }

  /** The read models, current with the store (see the class comment). */
  protected override async models(_processId?: string): Promise<ReadModelTables> {
    this.ensureOpen();
    await this.core.runner.ensureModels();
    return this.core.runner.tables;
  }

  protected override globalModels(): Promise<ReadModelTables> {
    return this.models();
  }

  protected override unknownProcess(processId: string): RegistryError {
    return new RegistryError(
      'not_found',
      `unknown process \`${processId}\`; register it first (registerProcess)`,
    );
  }

  /**
   * A waiter's one promise: the process must be known (after catching up), then the first
   * value of the source wins against the timeout and the signal. Built as a single promise
   * rather than an async method returning one, which would hold a second promise and its
   * link for as long as the waiter waits.
   */
  protected waitFor<T>(
    processId: string,
    options: WaitOptions | undefined,
    /** checks the caller's other inputs, then returns what to wait on and how to name it */
    prepare: () => (
      id: string,
      models: ReadModelReader,
      dispatch: ProjectionRunner['dispatch'],
    ) => readonly [Observable<T>, string],
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const source = prepare();
      const opts = parseInput(WaitOptionsSchema, options, 'wait options');
      this.known(processId)
        .then(({ id, models }) => {
          const [source$, what] = source(id, models, this.core.runner.dispatch);
          waitFirst(source$, opts, what, this.waits, resolve, reject);
        })
        .catch(reject);
    });
  }

  private get waits(): Waits {
    this.core.waits ??= new Waits();
    return this.core.waits;
  }

  protected processId(processId: string): string {
    return parseInput(IdSchema, processId, 'process id');
  }

  protected scope(scope: Scope, what = 'scope'): Scope {
    return parseInput(ScopeSchema, scope, what);
  }

  protected ensureOpen(): void {
    if (this.core.closed) {
      throw new RegistryError(
        'unavailable',
        'the registry is closed; open a new one (openRegistry)',
      );
    }
  }
}
