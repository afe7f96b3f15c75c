/**
 * The one place that turns the `store` setting into a Store: the SQLite file in the data dir
 * (the embedded default) or a PostgreSQL database. The master key that seals secrets at rest
 * stays outside the database either way (OPENCTS_MASTER_KEY, or the key file in the data dir).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { migratePostgres, PG_MIGRATIONS } from './postgres/pg-migrations.js';
import { PostgresStore, quietPool } from './postgres/postgres-store.js';
import { loadMasterKey, SecretBoxError, type SecretBox } from './secret-box.js';
import { SQLITE_MIGRATIONS } from './sqlite/migrations.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export const DATABASE_FILE = 'opencts.db';
export const MASTER_KEY_FILE = 'master.key';

const DAY_MS = 24 * 60 * 60 * 1000;

export type StoreSettings = Pick<Config, 'store' | 'dataDir' | 'durability' | 'retentionDays'>;

export function isPostgres(store: string): boolean {
  return /^postgres(ql)?:\/\//.test(store);
}

/** The store for logs and messages: never the password of a connection string. */
export function describeStore(settings: Pick<Config, 'store' | 'dataDir'>): string {
  if (!isPostgres(settings.store)) return `SQLite ${path.join(settings.dataDir, DATABASE_FILE)}`;
  try {
    const url = new URL(settings.store);
    return `PostgreSQL ${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** Opens (and migrates) the configured store; the data dir must exist. */
export async function openStore(settings: StoreSettings): Promise<{ store: Store; secrets: SecretBox }> {
  const keyFile = path.join(settings.dataDir, MASTER_KEY_FILE);
  if (isPostgres(settings.store)) {
    let secrets: SecretBox | undefined;
    try {
      const store = await PostgresStore.open({
        url: settings.store,
        // A new master key only for a database that holds no secret yet: one made for a used
        // database could open none of its secrets, and would hide that the real key is missing.
        secrets: (fresh) => (secrets = loadMasterKey(keyFile, process.env, fresh)),
        purgeRows: settings.retentionDays * DAY_MS < DAY_MS,
      });
      return { store, secrets: secrets! };
    } catch (err) {
      if (err instanceof SecretBoxError) throw err;
      throw new Error(`cannot open the store (${describeStore(settings)}): ${(err as Error).message}`, { cause: err });
    }
  }
  const file = path.join(settings.dataDir, DATABASE_FILE);
  const secrets = loadMasterKey(keyFile, process.env, !existsSync(file));
  return { store: SqliteStore.open({ file, durability: settings.durability, secrets }), secrets };
}

/**
 * Brings the store's schema up to date and closes it; returns the migrations it applied. On
 * PostgreSQL this needs no master key (a deployment step can run it before any instance).
 */
export async function migrateStore(settings: StoreSettings): Promise<{ applied: number[]; version: number }> {
  if (isPostgres(settings.store)) {
    const pool = quietPool(new pg.Pool({ connectionString: settings.store, max: 1 }));
    try {
      const applied = await migratePostgres(pool);
      return { applied, version: Math.max(...PG_MIGRATIONS.map((m) => m.version)) };
    } catch (err) {
      throw new Error(`cannot migrate the store (${describeStore(settings)}): ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      await pool.end();
    }
  }
  // SQLite migrates when it opens (it also makes the master key of a new data dir).
  const { store } = await openStore(settings);
  await store.close();
  return { applied: [], version: Math.max(...SQLITE_MIGRATIONS.map((m) => m.version)) };
}
