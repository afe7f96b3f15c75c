/**
 * Raw better-sqlite3 with the store's schema and pragmas: the limits the benchmarks compare the
 * real path to. The statements mirror SqliteStore's (src/store/sqlite/sqlite-store.ts), which keeps
 * them private.
 */
import Database from 'better-sqlite3';
import type { Trace } from '../../src/core/trace/trace.js';
import { TRACE_COLUMNS, traceRowValues, type TraceRowValues } from '../../src/store/trace-row.js';
import { migrate, SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { THROUGHPUT_PRAGMAS } from '../../src/store/sqlite/sqlite-store.js';

/** Opens (creating) a file with SqliteStore.open's pragmas and runs the store's migrations. */
export function openStoreSchema(file: string, durability: 'normal' | 'full' = 'normal'): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    for (const pragma of THROUGHPUT_PRAGMAS) db.pragma(pragma);
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The store's `traces` table (migration 2) under another name and without any of its indexes:
 * same columns, types and STRICT, rowid `seq` only.
 */
export function tracesTableWithoutIndexes(name: string): string {
  const migration = SQLITE_MIGRATIONS.find((m) => /CREATE TABLE traces\s*\(/.test(m.sql));
  const create = migration ? /CREATE TABLE traces\s*\([\s\S]*?\)\s*STRICT;/.exec(migration.sql)?.[0] : undefined;
  if (!create) throw new Error('the traces table was not found in the store migrations');
  return create.replace(/CREATE TABLE traces/, `CREATE TABLE ${name}`);
}

export function insertTraceSql(table = 'traces'): string {
  return `INSERT INTO ${table} (${TRACE_COLUMNS.join(', ')}) VALUES (${TRACE_COLUMNS.map(() => '?').join(', ')})`;
}

export type TraceRow = TraceRowValues;

/** The values SqliteStore.insertTrace binds for a trace (wire JSON included): the store's own function. */
export const traceRow: (t: Trace) => TraceRow = traceRowValues;

export const UPSERT_TRACKER_SQL = `INSERT INTO trackers (id, project_id, tracker_type, tracker_name, body) VALUES (?, ?, ?, ?, ?)
   ON CONFLICT (id) DO UPDATE SET tracker_name = excluded.tracker_name, body = excluded.body`;

export const INSERT_PROJECT_SQL = 'INSERT INTO projects (project_id, domain_id, name, created_at) VALUES (?, ?, ?, ?)';

/** How many indexes a table has (the store's migrations decide; they change). */
export function indexCount(db: Database.Database, table: string): number {
  return db
    .prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`)
    .pluck()
    .get(table) as number;
}
