/**
 * Versioned PostgreSQL schema, numbered independently of SQLite's (the same features, one
 * history per engine). Each migration runs once, in its own transaction, in order, while this
 * connection holds a session advisory lock: instances starting at the same moment wait for each
 * other instead of racing to create the same tables. Never edit a released migration: add one.
 *
 * Every text column that is compared or ordered uses COLLATE "C": byte order, as SQLite and
 * JavaScript compare, whatever the database's locale (a locale collation would ignore the `-`
 * of a trace id and break `next` markers).
 */
import type pg from 'pg';

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Advisory lock keys of this schema (one 64-bit key space per database). */
export const LOCK_KEYS = {
  /** Held while migrating. */
  migrate: 0x6f63_7473_0001n,
  /**
   * Held (transaction-scoped) by every transaction that inserts traces or adds/drops trace
   * partitions: trace seqs are then handed out in commit order, which the delivery cursors need.
   */
  traces: 0x6f63_7473_0002n,
} as const;

/** Characters of a filter column that its index holds (4 bytes each at most: 1 kB). */
export const INDEXED_CHARS = 256;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'projects, users, credentials, trackers, partitioned traces, cursors, delivery, signing keys',
    // traces: partitioned by day of record_time (the purge drops whole days; PostgresStore
    // creates the partitions). seq comes from one sequence and is handed out under
    // LOCK_KEYS.traces, so it orders traces by commit. ListTraces indexes: each is led by the
    // query scope (project, tracker), then one filter column, then (time, trace_id) — the page
    // order — so a filtered page is one backward index range read per partition. A B-tree entry
    // must stay under ~2.7 kB and reported values have no length limit: filter columns are indexed
    // by their first INDEXED_CHARS characters, and queries recheck the whole value.
    sql: `
      CREATE TABLE projects (
        project_id text COLLATE "C" PRIMARY KEY,
        domain_id  text COLLATE "C" NOT NULL,
        name       text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE users (
        domain_id  text COLLATE "C" NOT NULL,
        user_name  text COLLATE "C" NOT NULL,
        user_id    text COLLATE "C" NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        PRIMARY KEY (domain_id, user_name)
      );
      CREATE TABLE credentials (
        access_key_id         text COLLATE "C" PRIMARY KEY,
        secret_access_key     text NOT NULL,
        project_id            text COLLATE "C" NOT NULL REFERENCES projects (project_id),
        domain_id             text COLLATE "C" NOT NULL,
        user_id               text COLLATE "C" NOT NULL,
        user_name             text COLLATE "C" NOT NULL,
        role                  text NOT NULL,
        created_at            bigint NOT NULL,
        revoked_at            bigint,
        expires_at            bigint,
        security_token_sha256 text
      );
      CREATE INDEX credentials_project ON credentials (project_id);
      CREATE INDEX credentials_user ON credentials (domain_id, user_name);
      CREATE TABLE trackers (
        id           text COLLATE "C" PRIMARY KEY,
        project_id   text COLLATE "C" NOT NULL REFERENCES projects (project_id),
        tracker_type text COLLATE "C" NOT NULL,
        tracker_name text COLLATE "C" NOT NULL,
        body         text NOT NULL,
        UNIQUE (project_id, tracker_name)
      );

      CREATE SEQUENCE trace_seq AS bigint;
      CREATE TABLE traces (
        seq                   bigint NOT NULL DEFAULT nextval('trace_seq'),
        trace_id              text COLLATE "C" NOT NULL,
        project_id            text COLLATE "C" NOT NULL,
        domain_id             text COLLATE "C" NOT NULL,
        tracker_name          text COLLATE "C" NOT NULL,
        event_type            text COLLATE "C" NOT NULL,
        time                  bigint NOT NULL,
        record_time           bigint NOT NULL,
        service_type          text COLLATE "C" NOT NULL,
        resource_type         text COLLATE "C" NOT NULL,
        resource_id           text COLLATE "C",
        resource_name         text COLLATE "C",
        trace_name            text COLLATE "C" NOT NULL,
        trace_rating          text COLLATE "C" NOT NULL,
        user_name             text COLLATE "C",
        access_key_id         text COLLATE "C",
        enterprise_project_id text COLLATE "C",
        user_agent            text,
        content_length        bigint,
        total_time            bigint,
        wire                  text NOT NULL,
        PRIMARY KEY (seq, record_time)
      ) PARTITION BY RANGE (record_time);
      ALTER SEQUENCE trace_seq OWNED BY traces.seq;
      CREATE INDEX traces_id ON traces (trace_id, tracker_name);
      CREATE INDEX traces_scope ON traces (project_id, tracker_name, time, trace_id);
      CREATE INDEX traces_all_data ON traces (project_id, event_type, time, trace_id);
      CREATE INDEX traces_service ON traces (project_id, tracker_name, left(service_type, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_user ON traces (project_id, tracker_name, left(user_name, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_resource_id ON traces (project_id, tracker_name, left(resource_id, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_resource_name ON traces (project_id, tracker_name, left(resource_name, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_resource_type ON traces (project_id, tracker_name, left(resource_type, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_trace_name ON traces (project_id, tracker_name, left(trace_name, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_access_key ON traces (project_id, tracker_name, left(access_key_id, ${INDEXED_CHARS}), time, trace_id);
      CREATE INDEX traces_delivery ON traces (project_id, tracker_name, seq);

      CREATE TABLE trace_cursors (
        consumer text COLLATE "C" PRIMARY KEY,
        seq      bigint NOT NULL
      );
      CREATE TABLE delivery_state (
        tracker_id     text COLLATE "C" PRIMARY KEY,
        project_id     text COLLATE "C" NOT NULL,
        cursor_seq     bigint NOT NULL,
        pending_to     bigint,
        pending_time   bigint,
        pending_layout text,
        digest_start   bigint,
        last_digest    text
      );
      CREATE TABLE delivered_files (
        tracker_id   text COLLATE "C" NOT NULL,
        bucket       text NOT NULL,
        object_key   text COLLATE "C" NOT NULL,
        sha256       text NOT NULL,
        size         bigint NOT NULL,
        trace_count  bigint NOT NULL,
        oldest_time  bigint NOT NULL,
        newest_time  bigint NOT NULL,
        delivered_at bigint NOT NULL,
        digest_key   text,
        PRIMARY KEY (tracker_id, object_key)
      );
      CREATE INDEX delivered_files_undigested ON delivered_files (tracker_id, delivered_at) WHERE digest_key IS NULL;
      CREATE TABLE signing_keys (
        fingerprint        text COLLATE "C" PRIMARY KEY,
        public_key_pem     text NOT NULL,
        private_key_sealed text NOT NULL,
        created_at         bigint NOT NULL,
        retired_at         bigint
      );
    `,
  },
  {
    version: 2,
    name: 'leases: one instance at a time per tracker delivery, digest chain and consumer cursor',
    // expires_at is by the database's clock, so instances with skewed clocks agree on expiry.
    sql: `
      CREATE TABLE leases (
        name       text COLLATE "C" PRIMARY KEY,
        holder     text NOT NULL,
        generation bigint NOT NULL,
        expires_at bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'notifications, topics, dead letters, tracker tags, project configuration, catalogue of seen operations and users',
    // The tables of SQLite migrations 7 and 8. Tags go with their tracker (ON DELETE CASCADE);
    // trace_operations and trace_users are kept up to date as traces are inserted (under the
    // trace lock), and are filled here once from the traces already stored. Their keys are MD5s
    // of the values: reported values have no length limit and a B-tree entry must stay < 2.7 kB.
    sql: `
      CREATE TABLE notifications (
        notification_id   text COLLATE "C" PRIMARY KEY,
        project_id        text COLLATE "C" NOT NULL REFERENCES projects (project_id),
        notification_name text COLLATE "C" NOT NULL,
        status            text COLLATE "C" NOT NULL,
        body              text NOT NULL,
        position          bigint GENERATED ALWAYS AS IDENTITY,
        UNIQUE (project_id, notification_name)
      );
      CREATE INDEX notifications_status ON notifications (status);
      CREATE TABLE topics (
        urn           text COLLATE "C" PRIMARY KEY,
        project_id    text COLLATE "C" NOT NULL REFERENCES projects (project_id),
        url           text NOT NULL,
        secret_sealed text NOT NULL,
        created_at    bigint NOT NULL
      );
      CREATE INDEX topics_project ON topics (project_id);
      CREATE TABLE notification_dead_letters (
        id                 text COLLATE "C" PRIMARY KEY,
        project_id         text COLLATE "C" NOT NULL,
        notification_id    text COLLATE "C" NOT NULL,
        notification_name  text NOT NULL,
        topic_urn          text NOT NULL,
        trace_id           text COLLATE "C" NOT NULL,
        trace_seq          bigint NOT NULL,
        body               text NOT NULL,
        attempts           bigint NOT NULL,
        last_error         text NOT NULL,
        failed_at          bigint NOT NULL,
        retry_requested_at bigint
      );
      CREATE UNIQUE INDEX dead_letters_message ON notification_dead_letters (notification_id, trace_id);
      CREATE INDEX dead_letters_project ON notification_dead_letters (project_id, failed_at);
      CREATE INDEX dead_letters_retry ON notification_dead_letters (retry_requested_at)
        WHERE retry_requested_at IS NOT NULL;
      CREATE TABLE tracker_tags (
        tracker_id text COLLATE "C" NOT NULL REFERENCES trackers (id) ON DELETE CASCADE,
        project_id text COLLATE "C" NOT NULL,
        tag_key    text COLLATE "C" NOT NULL,
        tag_value  text NOT NULL,
        PRIMARY KEY (tracker_id, tag_key)
      );
      CREATE INDEX tracker_tags_project ON tracker_tags (project_id, tag_key);
      CREATE TABLE project_configuration (
        project_id text COLLATE "C" PRIMARY KEY REFERENCES projects (project_id),
        body       text NOT NULL
      );
      CREATE TABLE trace_operations (
        project_id    text COLLATE "C" NOT NULL,
        service_type  text COLLATE "C" NOT NULL,
        resource_type text COLLATE "C" NOT NULL,
        trace_name    text COLLATE "C" NOT NULL,
        operation_md5 text GENERATED ALWAYS AS (md5(
          length(service_type)::text || ':' || service_type || length(resource_type)::text || ':' ||
          resource_type || ':' || trace_name)) STORED,
        PRIMARY KEY (project_id, operation_md5)
      );
      CREATE TABLE trace_users (
        project_id text COLLATE "C" NOT NULL,
        user_name  text COLLATE "C" NOT NULL,
        last_seen  bigint NOT NULL,
        user_md5   text GENERATED ALWAYS AS (md5(user_name)) STORED,
        PRIMARY KEY (project_id, user_md5)
      );
      INSERT INTO trace_operations (project_id, service_type, resource_type, trace_name)
        SELECT DISTINCT project_id, service_type, resource_type, trace_name FROM traces
        ON CONFLICT DO NOTHING;
      INSERT INTO trace_users (project_id, user_name, last_seen)
        SELECT project_id, user_name, max(time) FROM traces WHERE user_name IS NOT NULL AND user_name <> ''
        GROUP BY project_id, user_name;
    `,
  },
];

/** Applies the missing migrations; returns the versions it ran (none when another instance did). */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.migrate.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const applied = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      const ran: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        ran.push(m.version);
      }
      return ran;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS.migrate.toString()]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // A connection whose session lock state is unknown is not given back to the pool.
    client.release(broken);
  }
}
