import { MemoryEventStore } from '../src/store/memory.ts';
import { describeStoreContract } from './support/store-contract.ts';

describeStoreContract('memory', async () => ({ store: new MemoryEventStore() }));
