/**
 * Versioned SQLite schema. Each migration runs once, in its own transaction, in order; the
 * applied versions are recorded in `schema_migrations`. Never edit a released migration: add one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'projects, credentials, trackers',
    sql: `
      CREATE TABLE projects (
        project_id TEXT PRIMARY KEY,
        domain_id  TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE credentials (
        access_key_id     TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        project_id        TEXT NOT NULL REFERENCES projects(project_id),
        domain_id         TEXT NOT NULL,
        user_id           TEXT NOT NULL,
        user_name         TEXT NOT NULL,
        role              TEXT NOT NULL,
        created_at        INTEGER NOT NULL,
        revoked_at        INTEGER
      ) STRICT;
      CREATE INDEX credentials_project ON credentials(project_id);
      CREATE TABLE trackers (
        id           TEXT PRIMARY KEY,
        project_id   TEXT NOT NULL REFERENCES projects(project_id),
        tracker_type TEXT NOT NULL,
        tracker_name TEXT NOT NULL,
        body         TEXT NOT NULL,
        UNIQUE (project_id, tracker_name)
      ) STRICT;
    `,
  },
];

export function migrate(db: Database.Database, migrations: readonly Migration[] = SQLITE_MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const ran: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
    ran.push(m.version);
  }
  return ran;
}
