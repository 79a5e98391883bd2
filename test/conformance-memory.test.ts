import { describeConformance } from './support/conformance.ts';
import { memoryBackend } from './support/harness.ts';

describeConformance(memoryBackend);
