import type { ProcessHandleGrant, ProcessRecord } from '../domain/schemas.ts';

/** A handle grant with the record of its process, as `listHandleGrants` answers. */
export interface HandleGrantEntry {
  grant: ProcessHandleGrant;
  record: ProcessRecord;
}
