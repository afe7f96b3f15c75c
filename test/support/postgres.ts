/**
 * Throwaway PostgreSQL databases for tests, on the machine's server (127.0.0.1:5432, trust auth;
 * OPENCTS_TEST_PG_URL names another server's maintenance database). Each one has a random name
 * and is dropped by its owner; any a test left behind is dropped when the test process exits.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_URL = process.env['OPENCTS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  /** Connection string of the new database. */
  readonly url: string;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

const undropped = new Map<string, TestDatabase>();
const PG_MODULE = import.meta.resolve('pg');
const DROP_SCRIPT = `
  const [, pgModule, url, ...names] = process.argv;
  const { default: pg } = await import(pgModule);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const name of names) await client.query('DROP DATABASE IF EXISTS ' + name + ' WITH (FORCE)');
  await client.end();
`;
let cleanupRegistered = false;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL tests need a server at ${TEST_PG_URL} (.ci/run starts it): ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `opencts_test_${randomBytes(8).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  const db: TestDatabase = {
    name,
    url: url.toString(),
    drop: async () => {
      undropped.delete(name);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
  undropped.set(name, db);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    // Databases a test kept (a stop() for a restart, a crash) are dropped when the process ends,
    // even by an uncaught exception: 'exit' allows only synchronous work, hence a child process.
    process.on('exit', () => {
      if (undropped.size === 0) return;
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', DROP_SCRIPT, PG_MODULE, TEST_PG_URL, ...undropped.keys()],
        {
          stdio: 'ignore',
          timeout: 15_000,
        },
      );
    });
  }
  return db;
}
