/**
 * Runs the EventStoreDB stand-in (test/support/esdb-standin.ts) in its own OS process, so
 * server work does not share the benchmark client's event loop. Sends its connection
 * string over IPC, stops on 'stop'.
 */
import { startEsdbStandIn } from '../../test/support/esdb-standin.ts';

const standIn = await startEsdbStandIn();
process.send?.({ connectionString: standIn.connectionString });
process.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  void standIn.stop().then(() => process.disconnect());
});
