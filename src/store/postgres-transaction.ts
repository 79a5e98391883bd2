import type pg from 'pg';

/**
 * Runs `work` in one transaction after another, each on a pooled connection and committed
 * on its own, until a run says it is done (true): so a long job (a catch-up) resumes where a
 * crash stopped it. A failing run is rolled back and its error thrown.
 */
export const inTransactions = async (
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<boolean>,
): Promise<void> => {
  for (let done = false; !done; ) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      done = await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
};
