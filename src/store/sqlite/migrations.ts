/**
 * Versioned SQLite schema. Each migration runs once, in its own transaction, in order; the
 * applied versions are recorded in `schema_migrations`. Never edit a released migration: add one.
 */
import type Database from 'better-sqlite3';
import { RUNS_SCHEMA_SQL } from './trace-index.js';

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
  {
    version: 2,
    name: 'traces and consumer cursors',
    // seq (the rowid) orders traces by commit; trace ids are UUIDv7, so every index below grows
    // at its end or inside a small set of hot pages instead of scattering inserts.
    // One index per ListTraces filter (spec §1.6), each led by the query scope and ending in
    // time, so a filtered page is an index range read newest-first.
    sql: `
      CREATE TABLE traces (
        seq                   INTEGER PRIMARY KEY,
        trace_id              TEXT NOT NULL,
        project_id            TEXT NOT NULL,
        domain_id             TEXT NOT NULL,
        tracker_name          TEXT NOT NULL,
        event_type            TEXT NOT NULL,
        time                  INTEGER NOT NULL,
        record_time           INTEGER NOT NULL,
        service_type          TEXT NOT NULL,
        resource_type         TEXT NOT NULL,
        resource_id           TEXT,
        resource_name         TEXT,
        trace_name            TEXT NOT NULL,
        trace_rating          TEXT NOT NULL,
        user_name             TEXT,
        access_key_id         TEXT,
        enterprise_project_id TEXT,
        user_agent            TEXT,
        content_length        INTEGER,
        total_time            INTEGER,
        wire                  TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX traces_id ON traces (trace_id, tracker_name);
      CREATE INDEX traces_scope ON traces (project_id, tracker_name, time, trace_id);
      CREATE INDEX traces_service ON traces (project_id, tracker_name, service_type, time);
      CREATE INDEX traces_user ON traces (project_id, tracker_name, user_name, time);
      CREATE INDEX traces_resource_id ON traces (project_id, tracker_name, resource_id, time);
      CREATE INDEX traces_resource_name ON traces (project_id, tracker_name, resource_name, time);
      CREATE INDEX traces_resource_type ON traces (project_id, tracker_name, resource_type, time);
      CREATE INDEX traces_trace_name ON traces (project_id, tracker_name, trace_name, time);
      CREATE INDEX traces_access_key ON traces (project_id, tracker_name, access_key_id, time);
      CREATE TABLE trace_cursors (
        consumer TEXT PRIMARY KEY,
        seq      INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'users, temporary credentials',
    sql: `
      CREATE TABLE users (
        domain_id  TEXT NOT NULL,
        user_name  TEXT NOT NULL,
        user_id    TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (domain_id, user_name)
      ) STRICT;
      INSERT OR IGNORE INTO users (domain_id, user_name, user_id, created_at)
        SELECT domain_id, user_name, min(user_id), min(created_at) FROM credentials GROUP BY domain_id, user_name;
      ALTER TABLE credentials ADD COLUMN expires_at INTEGER;
      ALTER TABLE credentials ADD COLUMN security_token_sha256 TEXT;
      CREATE INDEX credentials_user ON credentials (domain_id, user_name);
    `,
  },
  {
    version: 4,
    name: 'delivery to object storage, digests, signing keys',
    sql: `
      CREATE INDEX traces_delivery ON traces (project_id, tracker_name, seq);
      CREATE TABLE delivery_state (
        tracker_id     TEXT PRIMARY KEY,
        project_id     TEXT NOT NULL,
        cursor_seq     INTEGER NOT NULL,
        pending_to     INTEGER,
        pending_time   INTEGER,
        digest_start   INTEGER,
        last_digest    TEXT
      ) STRICT;
      CREATE TABLE delivered_files (
        tracker_id   TEXT NOT NULL,
        bucket       TEXT NOT NULL,
        object_key   TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        trace_count  INTEGER NOT NULL,
        oldest_time  INTEGER NOT NULL,
        newest_time  INTEGER NOT NULL,
        delivered_at INTEGER NOT NULL,
        digest_key   TEXT,
        PRIMARY KEY (tracker_id, object_key)
      ) STRICT;
      CREATE INDEX delivered_files_undigested ON delivered_files (tracker_id, delivered_at) WHERE digest_key IS NULL;
      CREATE TABLE signing_keys (
        fingerprint        TEXT PRIMARY KEY,
        public_key_pem     TEXT NOT NULL,
        private_key_sealed TEXT NOT NULL,
        created_at         INTEGER NOT NULL,
        retired_at         INTEGER
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: 'the file layout a pending delivery batch was planned with',
    sql: `ALTER TABLE delivery_state ADD COLUMN pending_layout TEXT;`,
  },
  {
    version: 6,
    name: 'fewer, covering trace indexes',
    // Every index costs every insert a page write (the one-filter indexes made ingest 5-10x slower
    // than an unindexed table). Three covering indexes, led by the scope, the user and the service,
    // carry the other low-cardinality filter columns after (time, trace_id): a combined filter is
    // checked on index entries without reading table rows, and ordered pages need no sort.
    // Resource id and name keep their own indexes: they select a few traces among millions, which
    // no scan of a covering index finds within the latency goal.
    sql: `
      DROP INDEX traces_scope;
      DROP INDEX traces_service;
      DROP INDEX traces_user;
      DROP INDEX traces_resource_type;
      DROP INDEX traces_trace_name;
      DROP INDEX traces_access_key;
      CREATE INDEX traces_scope ON traces (project_id, tracker_name, time, trace_id,
        event_type, service_type, user_name, resource_type, trace_name, trace_rating, access_key_id);
      CREATE INDEX traces_service ON traces (project_id, tracker_name, service_type, time, trace_id,
        event_type, user_name, resource_type, trace_name, trace_rating);
      CREATE INDEX traces_user ON traces (project_id, tracker_name, user_name, time, trace_id,
        event_type, service_type, resource_type, trace_name, trace_rating);
    `,
  },
  {
    version: 7,
    name: 'key-event notifications, topics, dead letters',
    sql: `
      CREATE TABLE notifications (
        notification_id   TEXT PRIMARY KEY,
        project_id        TEXT NOT NULL REFERENCES projects(project_id),
        notification_name TEXT NOT NULL,
        status            TEXT NOT NULL,
        body              TEXT NOT NULL,
        UNIQUE (project_id, notification_name)
      ) STRICT;
      CREATE INDEX notifications_status ON notifications (status);
      CREATE TABLE topics (
        urn           TEXT PRIMARY KEY,
        project_id    TEXT NOT NULL REFERENCES projects(project_id),
        url           TEXT NOT NULL,
        secret_sealed TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX topics_project ON topics (project_id);
      CREATE TABLE notification_dead_letters (
        id                 TEXT PRIMARY KEY,
        project_id         TEXT NOT NULL,
        notification_id    TEXT NOT NULL,
        notification_name  TEXT NOT NULL,
        topic_urn          TEXT NOT NULL,
        trace_id           TEXT NOT NULL,
        trace_seq          INTEGER NOT NULL,
        body               TEXT NOT NULL,
        attempts           INTEGER NOT NULL,
        last_error         TEXT NOT NULL,
        failed_at          INTEGER NOT NULL,
        retry_requested_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX dead_letters_message ON notification_dead_letters (notification_id, trace_id);
      CREATE INDEX dead_letters_project ON notification_dead_letters (project_id, failed_at);
      CREATE INDEX dead_letters_retry ON notification_dead_letters (retry_requested_at)
        WHERE retry_requested_at IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: 'tracker tags, project configuration, catalogue of seen operations and users',
    // Tags go with their tracker (ON DELETE CASCADE). trace_operations and trace_users are kept
    // up to date as traces are inserted, so the catalogue endpoints never scan the traces table;
    // they are filled once here from the traces already stored.
    sql: `
      CREATE TABLE tracker_tags (
        tracker_id TEXT NOT NULL REFERENCES trackers(id) ON DELETE CASCADE,
        project_id TEXT NOT NULL,
        tag_key    TEXT NOT NULL,
        tag_value  TEXT NOT NULL,
        PRIMARY KEY (tracker_id, tag_key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX tracker_tags_project ON tracker_tags (project_id, tag_key);
      CREATE TABLE project_configuration (
        project_id TEXT PRIMARY KEY REFERENCES projects(project_id),
        body       TEXT NOT NULL
      ) STRICT;
      CREATE TABLE trace_operations (
        project_id    TEXT NOT NULL,
        service_type  TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        trace_name    TEXT NOT NULL,
        PRIMARY KEY (project_id, service_type, resource_type, trace_name)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE trace_users (
        project_id TEXT NOT NULL,
        user_name  TEXT NOT NULL,
        last_seen  INTEGER NOT NULL,
        PRIMARY KEY (project_id, user_name)
      ) STRICT, WITHOUT ROWID;
      INSERT OR IGNORE INTO trace_operations (project_id, service_type, resource_type, trace_name)
        SELECT DISTINCT project_id, service_type, resource_type, trace_name FROM traces;
      INSERT INTO trace_users (project_id, user_name, last_seen)
        SELECT project_id, user_name, max(time) FROM traces WHERE user_name IS NOT NULL AND user_name <> ''
        GROUP BY project_id, user_name;
    `,
  },
  {
    version: 9,
    name: 'ListTraces indexes kept in runs outside the traces table',
    sql: RUNS_SCHEMA_SQL,
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
