/**
 * Looks at a store without opening it as a Store (which would migrate it and could make a master
 * key): is it there, which schema migrations are applied, what time is it by its clock. For
 * `opencts doctor`, which must report what it finds and change nothing.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_MIGRATIONS } from './postgres/pg-migrations.js';
import { SQLITE_MIGRATIONS } from './sqlite/migrations.js';
import { DATABASE_FILE, isPostgres, type StoreSettings } from './open-store.js';

const CONNECT_TIMEOUT_MS = 5000;

/** There is no database where the settings point (a SQLite data dir without opencts.db). */
export class StoreMissingError extends Error {
  override name = 'StoreMissingError';
}

export interface SchemaProbe {
  readonly dialect: 'sqlite' | 'postgres';
  /** Versions recorded in schema_migrations (empty for a database never migrated). */
  readonly applied: readonly number[];
  /** Versions this binary knows. */
  readonly known: readonly number[];
  /** `PostgreSQL 15.4`, `SQLite 3.46.1`. */
  readonly engine: string;
  /** SQLite only: the database file's permission bits. */
  readonly fileMode?: number;
  /**
   * PostgreSQL only: the database clock (ms since the epoch) and the local clock at the middle of
   * the round trip that read it; the true offset is within ± roundTripMs / 2 of their difference.
   */
  readonly clock?: { readonly dbMs: number; readonly localMs: number; readonly roundTripMs: number };
}

export async function probeSchema(settings: Pick<StoreSettings, 'store' | 'dataDir'>): Promise<SchemaProbe> {
  return isPostgres(settings.store) ? probePostgres(settings.store) : probeSqlite(settings.dataDir);
}

function probeSqlite(dataDir: string): SchemaProbe {
  const file = path.join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw new StoreMissingError(`no SQLite database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    const applied = table
      ? (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map(
          (r) => r.version,
        )
      : [];
    const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    return {
      dialect: 'sqlite',
      applied,
      known: SQLITE_MIGRATIONS.map((m) => m.version),
      engine: `SQLite ${version}`,
      fileMode: statSync(file).mode & 0o777,
    };
  } finally {
    db.close();
  }
}

async function probePostgres(url: string): Promise<SchemaProbe> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'opencts doctor',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const present = await client.query<{ present: boolean }>(
      "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
    );
    const applied = present.rows[0]?.present
      ? (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map(
          (r) => Number(r.version),
        )
      : [];
    const before = Date.now();
    const now = await client.query<{ db_ms: string; version: string }>(
      "SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS db_ms, current_setting('server_version') AS version",
    );
    const after = Date.now();
    const row = now.rows[0]!;
    return {
      dialect: 'postgres',
      applied,
      known: PG_MIGRATIONS.map((m) => m.version),
      engine: `PostgreSQL ${row.version}`,
      clock: { dbMs: Number(row.db_ms), localMs: (before + after) / 2, roundTripMs: after - before },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
