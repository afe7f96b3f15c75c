/**
 * A throwaway PostgreSQL database for a benchmark: created with a random name from a maintenance
 * database's connection string, dropped by `drop()` (closing whatever connections are still open on
 * it), and dropped anyway when the process exits without having dropped it (an uncaught error,
 * SIGINT or SIGTERM, e.g. a test's timeout): 'exit' allows only synchronous work, hence a
 * short-lived child process. A signal's default action would end the process without 'exit', so
 * SIGINT and SIGTERM are made to exit (child-server.ts does the same once it has started a server).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_PG_URL = process.env['OPENCTS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ThrowawayDatabase {
  readonly name: string;
  /** Connection string of the new database. */
  readonly url: string;
  drop(): Promise<void>;
  /** Leaves the database in place, also at exit. */
  keep(): void;
}

const PG_MODULE = import.meta.resolve('pg');
const DROP_SCRIPT = `
  const [, pgModule, url, name] = process.argv;
  const { default: pg } = await import(pgModule);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP DATABASE IF EXISTS ' + name + ' WITH (FORCE)');
  await client.end();
`;

async function onMaintenance(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let signalsExit = false;

function exitOnSignals(): void {
  if (signalsExit) return;
  signalsExit = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

/** `<prefix>_<12 hex>` on the server of `maintenanceUrl`. */
export async function createThrowawayDatabase(maintenanceUrl: string, prefix: string): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onMaintenance(maintenanceUrl, `CREATE DATABASE ${name}`);
  let dropped = false;
  const dropAtExit = () => {
    if (dropped) return;
    spawnSync(process.execPath, ['--input-type=module', '-e', DROP_SCRIPT, PG_MODULE, maintenanceUrl, name], {
      stdio: 'ignore',
      timeout: 15_000,
    });
  };
  process.once('exit', dropAtExit);
  exitOnSignals();
  const url = new URL(maintenanceUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      await onMaintenance(maintenanceUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      dropped = true;
      process.removeListener('exit', dropAtExit);
    },
    keep: () => {
      process.removeListener('exit', dropAtExit);
    },
  };
}
