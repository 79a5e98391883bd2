import { expect, it } from 'vitest';
import { domainEventTypeNames } from '../src/domain/event-types.ts';
import { DomainEventSchema } from '../src/domain/events.ts';

// events.ts checks at compile time that every listed name is a domain event; this is the converse
it('the zod-free list of domain event types names every event of the union, in its order', () => {
  expect(domainEventTypeNames).toEqual(DomainEventSchema.options.map((o) => o.shape.type.value));
});
