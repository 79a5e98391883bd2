import { randomUUID } from 'node:crypto';
import {
  findPostgresBinaries,
  startThrowawayPostgres,
  type TestPostgres,
} from '../../test/support/postgres-server.ts';

/**
 * The PostgreSQL server of a scenario: PROCREG_TEST_POSTGRES_URL when set (schemas are left
 * there), else a throwaway server from initdb/pg_ctl as the tests start it
 * (test/support/postgres-server.ts), with PostgreSQL's default durability unless
 * `durable: false` (fsync off).
 */
export const benchServer = async ({ durable = true } = {}): Promise<TestPostgres> => {
  const url = process.env.PROCREG_TEST_POSTGRES_URL;
  if (url) {
    const schemaUrl = (schema: string) => `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
    return {
      url,
      version: 'PROCREG_TEST_POSTGRES_URL',
      managed: false,
      freshSchema: () => {
        const schema = `bench_${randomUUID().slice(0, 8)}`;
        return { url: schemaUrl(schema), schema, drop: async () => {} };
      },
      crash: async () => {},
      restart: async () => {},
      stop: async () => {},
    };
  }
  const bin = findPostgresBinaries();
  if (!bin)
    throw new Error('no PostgreSQL: no initdb/pg_ctl found and PROCREG_TEST_POSTGRES_URL unset');
  return startThrowawayPostgres(bin, { durable });
};
