import {
  IdSchema,
  type ProcessEvent,
  type ProcessHandleGrant,
  type ProcessLease,
  type ProcessRecord,
  type Scope,
  ScopeSchema,
  SequenceSchema,
} from '../domain/schemas.ts';
import { parseInput } from '../domain/validation.ts';
import type { HandleGrantEntry } from '../queries/grants.ts';
import { type AuditHeaders, type Connection, encodePath, sendJson } from './remote-http.ts';

/** A scope as the `/grants` query parameters, validated like the registry's argument. */
export const scopeQuery = (scope: Scope): Record<string, string | undefined> => {
  const s = parseInput(ScopeSchema, scope, 'scope');
  return { sessionId: s.sessionId, agentFrameId: s.agentFrameId };
};

/** The remote counterpart of `AsOfView`: the same reads, each with `?asOf=` on the service. */
export class RemoteAsOfView {
  constructor(
    private readonly conn: Connection,
    private readonly audit: AuditHeaders,
    /** epoch ms, or `pos:<n>` */
    readonly point: string,
  ) {}

  private get<T>(
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<T> {
    return sendJson<T>(this.conn, this.audit, {
      method: 'GET',
      path,
      query: { ...query, asOf: this.point },
    });
  }

  private id(processId: string): string {
    return encodePath(parseInput(IdSchema, processId, 'process id'));
  }

  async getProcess(processId: string): Promise<ProcessRecord | undefined> {
    return this.get<ProcessRecord>(`/processes/${this.id(processId)}`).catch(
      (error: { code?: string }) => {
        if (error.code === 'not_found') return undefined;
        throw error;
      },
    );
  }

  async eventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return this.get(`/processes/${this.id(processId)}/events`, { after });
  }

  async wakeEventsAfter(processId: string, afterSequence: number): Promise<ProcessEvent[]> {
    const after = parseInput(SequenceSchema, afterSequence, 'afterSequence');
    return this.get(`/processes/${this.id(processId)}/wake-events`, { after });
  }

  async hasHandleGrant(scope: Scope, processId: string): Promise<boolean> {
    const query = {
      ...scopeQuery(scope),
      processId: parseInput(IdSchema, processId, 'process id'),
    };
    return (await this.get<{ granted: boolean }>('/grants/check', query)).granted;
  }

  async handleGrantsForProcess(processId: string): Promise<ProcessHandleGrant[]> {
    return this.get(`/processes/${this.id(processId)}/grants`);
  }

  async getProcessLease(processId: string): Promise<ProcessLease | undefined> {
    return (
      (await this.get<{ lease: ProcessLease | null }>(`/processes/${this.id(processId)}/lease`))
        .lease ?? undefined
    );
  }

  async listHandleGrants(scope: Scope): Promise<HandleGrantEntry[]> {
    return this.get('/grants', scopeQuery(scope));
  }

  async listNonTerminal(): Promise<ProcessRecord[]> {
    return this.get('/processes');
  }

  async listProcesses(): Promise<ProcessRecord[]> {
    return this.get('/processes', { all: 'true' });
  }
}
