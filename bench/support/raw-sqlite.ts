/**
 * Raw better-sqlite3 with the store's schema and pragmas: the limits the benchmarks compare the
 * real path to. The statements mirror SqliteStore's (src/store/sqlite/sqlite-store.ts), which keeps
 * them private.
 */
import Database from 'better-sqlite3';
import type { Trace } from '../../src/core/trace/trace.js';
import { toWireTrace } from '../../src/core/trace/wire.js';
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
  return `INSERT INTO ${table} (trace_id, project_id, domain_id, tracker_name, event_type, time, record_time,
     service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user_name,
     access_key_id, enterprise_project_id, user_agent, content_length, total_time, wire)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
}

export type TraceRow = Array<string | number | null>;

/** The values SqliteStore.insertTrace binds for a trace (wire JSON included). */
export function traceRow(t: Trace): TraceRow {
  return [
    t.trace_id,
    t.project_id,
    t.domain_id,
    t.tracker_name,
    t.event_type,
    t.time,
    t.record_time,
    t.service_type,
    t.resource_type,
    t.resource_id ?? null,
    t.resource_name ?? null,
    t.trace_name,
    t.trace_rating,
    t.user.name ?? t.user.user_name ?? null,
    t.user.access_key_id ?? null,
    t.enterprise_project_id ?? null,
    t.user_agent ?? null,
    t.content_length ?? null,
    t.total_time ?? null,
    JSON.stringify(toWireTrace(t)),
  ];
}

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
