/**
 * The names of the domain events (events.ts), in the order of its union: here, free of zod,
 * so the CLI can name them (`procreg help history`) without loading the schemas.
 * events.ts checks that every name is one of its events; a test checks the converse.
 */
export const domainEventTypeNames = [
  'ProcessRegistered',
  'ExternalRefSet',
  'HandleGranted',
  'HandleRevoked',
  'HandleTransferred',
  'ProcessEventAppended',
  'WakeAcked',
  'LeaseClaimed',
  'LeaseRenewed',
  'LeaseReleased',
] as const;
