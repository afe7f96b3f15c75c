/**
 * The scale-out store: PostgreSQL through a connection pool, shared by any number of OpenCTS
 * instances. Writes go through a group-commit queue (one transaction per batch); reads go to the
 * pool directly. Nothing that another instance can change is cached across transactions: a
 * project's trackers are read once per batch, inside it.
 *
 * Trace seqs must follow commit order (a delivery cursor that passed seq n never sees a trace
 * with a lower seq appear later): every transaction that inserts traces holds one advisory
 * lock from its first statement to its COMMIT, so the seqs it takes are higher than those of
 * every transaction committed before it and lower than those of every transaction after it.
 */
import pg from 'pg';
import type { Trace } from '../../core/trace/trace.js';
import type { Tracker } from '../../core/tracker/tracker.js';
import type { SecretBox } from '../secret-box.js';
import {
  ProjectConflictError,
  type Credential,
  type DeliveredFile,
  type DeliveryState,
  type Lease,
  LeaseLostError,
  type Project,
  type SigningKeyRecord,
  type Store,
  type TracePage,
  type TracePosition,
  type TraceQuery,
  type TrackerPlanner,
  type User,
  type ConfigurationPlanner,
  type DeadLetter,
  type NotificationPlanner,
  type TagPlanner,
  type TopicWithSecret,
  type TrackerTag,
} from '../store.js';
import type { CtsConfiguration } from '../../core/configuration.js';
import type { OperationEntry } from '../../core/catalogue/operations.js';
import type { Notification } from '../../core/notification/notification.js';
import type { Topic } from '../../core/notification/topic.js';
import { PgTraceCatalogue } from './pg-catalogue.js';
import { PgNotificationTables } from './pg-notification-tables.js';
import { PgTraceSignal } from './pg-trace-signal.js';
import { changeConfigurationPg, changeTagsPg, getConfigurationPg, listTagsPg } from './pg-tags.js';
import { TRACE_COLUMNS, traceFromRow, traceRowValues, type DeliveryRow } from '../trace-row.js';
import { applyChange, deepFreeze } from '../tracker-snapshot.js';
import { PgGroupCommit, type PgTransaction } from './pg-group-commit.js';
import { migratePostgres } from './pg-migrations.js';
import { listTracesPg } from './pg-trace-queries.js';
import { pgSafe } from './pg-text.js';
import {
  createPartition,
  DAYS_AHEAD,
  dayOf,
  dropPartition,
  listPartitionDays,
  PARTITION_MS,
  partitionName,
} from './trace-partitions.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?...` (libpq-style parameters). */
  readonly url: string;
  /**
   * Seals secret access keys at rest. A function is told whether the database holds no secret
   * yet (a new master key may be made only then).
   */
  readonly secrets: SecretBox | ((freshDatabase: boolean) => SecretBox);
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /**
   * Also delete expired rows one by one inside the day that straddles the cutoff (for a
   * retention shorter than a day). Otherwise only whole expired days are dropped: rows of the
   * last expired day stay until their whole day has expired, which ListTraces never shows
   * (it only reads inside the retention window).
   */
  readonly purgeRows?: boolean;
}

const OPENED_SECRETS_MAX = 10_000;

/**
 * A connection that breaks while idle (server restart, a terminated backend) must not crash the
 * process: the next query opens a new one, or fails to its caller. The pool only listens to its
 * idle connections; a connection it is closing (pool.end() does not wait for the socket) is
 * given a listener of its own.
 */
export function quietPool(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
/** SQLSTATE of `no partition of relation "traces" found for row`. */
const NO_PARTITION = '23514';

/** int8 (bigint) as a JS number: every bigint here is a ms timestamp, a seq or a size. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Now, in ms, by the database's clock: every instance judges lease expiry by the same clock. */
const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

const SQL = {
  getProject: 'SELECT project_id, domain_id, name, created_at FROM projects WHERE project_id = $1',
  insertProject:
    'INSERT INTO projects (project_id, domain_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
  getUser: 'SELECT domain_id, user_name, user_id, created_at FROM users WHERE domain_id = $1 AND user_name = $2',
  listTrackers: 'SELECT body FROM trackers WHERE project_id = $1 ORDER BY tracker_type DESC, id',
  upsertTracker: `INSERT INTO trackers (id, project_id, tracker_type, tracker_name, body) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (id) DO UPDATE SET tracker_name = excluded.tracker_name, body = excluded.body`,
  insertTraces: `INSERT INTO traces (${TRACE_COLUMNS.join(', ')}) SELECT * FROM unnest(${TRACE_COLUMNS.map(
    (c, i) => `$${i + 1}::${['time', 'record_time', 'content_length', 'total_time'].includes(c) ? 'bigint' : 'text'}[]`,
  ).join(', ')})`,
  putDeliveryState: `INSERT INTO delivery_state (tracker_id, project_id, cursor_seq, pending_to, pending_time, pending_layout, digest_start, last_digest)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (tracker_id) DO UPDATE SET cursor_seq = excluded.cursor_seq, pending_to = excluded.pending_to,
      pending_time = excluded.pending_time, pending_layout = excluded.pending_layout,
      digest_start = excluded.digest_start, last_digest = excluded.last_digest`,
  // Takes a free or expired lease (a new generation), or renews the holder's own (same generation).
  acquireLease: `INSERT INTO leases AS l (name, holder, generation, expires_at) VALUES ($1, $2, 1, ${DB_NOW_MS} + $3)
    ON CONFLICT (name) DO UPDATE SET
      generation = CASE WHEN l.holder = excluded.holder AND l.expires_at > ${DB_NOW_MS} THEN l.generation ELSE l.generation + 1 END,
      holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.holder = excluded.holder OR l.expires_at <= ${DB_NOW_MS}
    RETURNING name, holder, generation, expires_at`,
  // FOR SHARE: a takeover waits until the fenced write has committed or rolled back.
  checkLease: `SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND generation = $3 AND expires_at > ${DB_NOW_MS} FOR SHARE`,
  minCursor:
    'SELECT min(seq) AS seq FROM (SELECT seq FROM trace_cursors UNION ALL SELECT cursor_seq AS seq FROM delivery_state) c',
} as const;

function deliveryStateValues(s: DeliveryState): unknown[] {
  return [
    s.tracker_id,
    s.project_id,
    s.cursor_seq,
    s.pending_to,
    s.pending_time,
    s.pending_layout,
    s.digest_start,
    s.last_digest,
  ];
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  private readonly writer: PgGroupCommit;
  private closed = false;
  private readonly openedSecrets = new Map<string, string>();
  /** Days known to have a trace partition (a hint: a miss or a stale entry costs a retry). */
  private readonly partitionDays = new Set<number>();
  private secrets!: SecretBox;
  private readonly catalogue = new PgTraceCatalogue();
  private readonly notificationTables = new PgNotificationTables(() => this.secrets);
  private readonly traceListeners = new Set<() => void>();
  private traceSignalPending = false;
  private readonly traceSignal: PgTraceSignal;
  /** Reads outside any transaction, in the shape the table modules take. */
  private readonly reader = {
    read: <R extends pg.QueryResultRow>(c: pg.QueryConfig) => this.pool.query<R>(pgSafe(c)),
  };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly purgeRows: boolean,
  ) {
    this.writer = new PgGroupCommit(pool);
    this.traceSignal = new PgTraceSignal(pool.options.connectionString, () => this.signalTracesCommitted());
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types: TYPES,
      application_name: 'opencts',
    });
    quietPool(pool);
    const store = new PostgresStore(pool, options.purgeRows ?? false);
    try {
      await migratePostgres(pool);
      const fresh = (await pool.query('SELECT 1 FROM credentials LIMIT 1')).rowCount === 0;
      store.secrets = typeof options.secrets === 'function' ? options.secrets(fresh) : options.secrets;
      await store.checkSecrets();
      await store.writer.run((tx) => store.preparePartitions(tx, Date.now()), { traces: true });
      return store;
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.traceSignal.close();
    await this.writer.drain();
    await this.pool.end();
  }

  /** Fails fast when the master key cannot open the stored secrets (lost or replaced key). */
  private async checkSecrets(): Promise<void> {
    const row = (await this.pool.query<{ s: string }>('SELECT secret_access_key AS s FROM credentials LIMIT 1'))
      .rows[0];
    if (row) this.secrets.open(row.s);
  }

  private query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.pool.query<R>(pgSafe({ text, values })).then((r) => r.rows);
  }

  ensureProject(project: Project): Promise<Project> {
    const check = (stored: Project): Project => {
      if (stored.domain_id !== project.domain_id) {
        throw new ProjectConflictError(
          `project ${project.project_id} belongs to domain ${stored.domain_id}, not ${project.domain_id}`,
        );
      }
      return stored;
    };
    return this.writer.run(async (tx) => {
      const existing = (await tx.read<Project>({ text: SQL.getProject, values: [project.project_id] })).rows[0];
      if (existing) return check(existing);
      await tx.write({
        text: SQL.insertProject,
        values: [project.project_id, project.domain_id, project.name, project.created_at],
      });
      return check((await tx.read<Project>({ text: SQL.getProject, values: [project.project_id] })).rows[0]!);
    });
  }

  async getProject(projectId: string): Promise<Project | undefined> {
    return (await this.query<Project>(SQL.getProject, [projectId]))[0];
  }

  listProjects(): Promise<Project[]> {
    return this.query<Project>('SELECT project_id, domain_id, name, created_at FROM projects ORDER BY created_at');
  }

  ensureUser(user: User): Promise<User> {
    return this.writer.run(async (tx) => {
      await tx.write({
        text: 'INSERT INTO users (domain_id, user_name, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        values: [user.domain_id, user.user_name, user.user_id, user.created_at],
      });
      return (await tx.read<User>({ text: SQL.getUser, values: [user.domain_id, user.user_name] })).rows[0]!;
    });
  }

  async getUser(domainId: string, userName: string): Promise<User | undefined> {
    return (await this.query<User>(SQL.getUser, [domainId, userName]))[0];
  }

  listUsers(filter: { domain_id?: string } = {}): Promise<User[]> {
    return filter.domain_id === undefined
      ? this.query<User>('SELECT domain_id, user_name, user_id, created_at FROM users ORDER BY domain_id, user_name')
      : this.query<User>(
          'SELECT domain_id, user_name, user_id, created_at FROM users WHERE domain_id = $1 ORDER BY user_name',
          [filter.domain_id],
        );
  }

  deleteUser(domainId: string, userName: string, at: number): Promise<boolean> {
    return this.writer.run(async (tx) => {
      await tx.write({
        text: 'UPDATE credentials SET revoked_at = $1 WHERE domain_id = $2 AND user_name = $3 AND revoked_at IS NULL',
        values: [at, domainId, userName],
      });
      const deleted = await tx.write({
        text: 'DELETE FROM users WHERE domain_id = $1 AND user_name = $2',
        values: [domainId, userName],
      });
      return deleted.rowCount === 1;
    });
  }

  addCredential(c: Credential): Promise<void> {
    const sealed = this.secrets.seal(c.secret_access_key);
    return this.writer.run(async (tx) => {
      await tx.write({
        text: `INSERT INTO credentials (access_key_id, secret_access_key, project_id, domain_id, user_id, user_name, role,
            created_at, revoked_at, expires_at, security_token_sha256)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        values: [
          c.access_key_id,
          sealed,
          c.project_id,
          c.domain_id,
          c.user_id,
          c.user_name,
          c.role,
          c.created_at,
          c.revoked_at,
          c.expires_at,
          c.security_token_sha256,
        ],
      });
    });
  }

  /** Every signed request opens its key's sealed secret: the plaintext is kept per sealed value. */
  private openCredential(row: Credential | undefined): Credential | undefined {
    if (!row) return undefined;
    let plain = this.openedSecrets.get(row.secret_access_key);
    if (plain === undefined) {
      plain = this.secrets.open(row.secret_access_key);
      if (this.openedSecrets.size >= OPENED_SECRETS_MAX) this.openedSecrets.clear();
      this.openedSecrets.set(row.secret_access_key, plain);
    }
    return { ...row, secret_access_key: plain };
  }

  async getCredential(accessKeyId: string): Promise<Credential | undefined> {
    const rows = await this.pool.query<Credential>(
      pgSafe({
        name: 'get-credential',
        text: 'SELECT * FROM credentials WHERE access_key_id = $1',
        values: [accessKeyId],
      }),
    );
    return this.openCredential(rows.rows[0]);
  }

  /** Lists keys without their secrets (an empty string stands in for each). */
  async listCredentials(filter: { project_id?: string } = {}): Promise<Credential[]> {
    const rows =
      filter.project_id === undefined
        ? await this.query<Credential>('SELECT * FROM credentials ORDER BY created_at, access_key_id')
        : await this.query<Credential>(
            'SELECT * FROM credentials WHERE project_id = $1 ORDER BY created_at, access_key_id',
            [filter.project_id],
          );
    return rows.map((r) => ({ ...r, secret_access_key: '' }));
  }

  revokeCredential(accessKeyId: string, at: number): Promise<boolean> {
    return this.writer.run(async (tx) => {
      const r = await tx.write({
        text: 'UPDATE credentials SET revoked_at = $1 WHERE access_key_id = $2 AND revoked_at IS NULL',
        values: [at, accessKeyId],
      });
      return r.rowCount === 1;
    });
  }

  private static parseTrackers(rows: ReadonlyArray<{ body: string }>): readonly Tracker[] {
    return rows.map((row) => deepFreeze(JSON.parse(row.body) as Tracker));
  }

  async listTrackers(projectId: string): Promise<Tracker[]> {
    return [...PostgresStore.parseTrackers(await this.query<{ body: string }>(SQL.listTrackers, [projectId]))];
  }

  /** A project's trackers as this transaction sees them (read once per batch, then kept current). */
  private async trackersIn(tx: PgTransaction, projectId: string): Promise<readonly Tracker[]> {
    const key = `trackers:${projectId}`;
    let trackers = tx.memo.get(key) as readonly Tracker[] | undefined;
    if (!trackers) {
      const rows = await tx.read<{ body: string }>({
        name: 'list-trackers',
        text: SQL.listTrackers,
        values: [projectId],
      });
      trackers = PostgresStore.parseTrackers(rows.rows);
      tx.memo.set(key, trackers);
    }
    return trackers;
  }

  changeTrackers<T>(projectId: string, planner: TrackerPlanner<T>): Promise<T> {
    return this.writer.run(
      async (tx) => {
        const current = await this.trackersIn(tx, projectId);
        const change = planner(current);
        // Checked before the first statement: a refused change leaves the batch untouched.
        if (change.upsert?.some((t) => t.project_id !== projectId))
          throw new Error('tracker belongs to another project');
        if (change.traces?.some((t) => t.project_id !== projectId)) throw new Error('trace belongs to another project');
        for (const id of change.remove ?? []) {
          await tx.write({
            name: 'delete-tracker',
            text: 'DELETE FROM trackers WHERE id = $1 AND project_id = $2',
            values: [id, projectId],
          });
        }
        for (const t of change.upsert ?? []) {
          await tx.write({
            name: 'upsert-tracker',
            text: SQL.upsertTracker,
            values: [t.id, projectId, t.tracker_type, t.tracker_name, JSON.stringify(t)],
          });
        }
        if (change.traces?.length) await this.insertTraces(tx, change.traces);
        if ((change.remove?.length ?? 0) + (change.upsert?.length ?? 0) > 0) {
          tx.memo.set(`trackers:${projectId}`, applyChange(current, change.upsert ?? [], change.remove ?? []));
        }
        return change.result;
      },
      { traces: true },
    );
  }

  /** One statement for all the traces of a write, whatever their number. */
  private async insertTraces(tx: PgTransaction, traces: readonly Trace[]): Promise<void> {
    for (const day of new Set(traces.map((t) => dayOf(t.record_time)))) await this.ensurePartition(tx, day);
    const columns: unknown[][] = TRACE_COLUMNS.map(() => []);
    for (const t of traces) traceRowValues(t).forEach((v, i) => columns[i]!.push(v));
    try {
      await tx.write({ name: 'insert-traces', text: SQL.insertTraces, values: columns });
    } catch (err) {
      // Another instance's purge dropped a day this one still believed in: ask the catalog again.
      if ((err as { code?: string }).code === NO_PARTITION) this.partitionDays.clear();
      throw err;
    }
    await this.catalogue.record(tx, traces);
    await this.traceSignal.announce(tx);
    tx.afterCommit(() => this.signalTracesCommitted());
  }

  /**
   * Tells the listeners once per commit (however many writes of the batch added traces), after
   * the callers' turn: a failing listener must not look like a failed commit.
   */
  private signalTracesCommitted(): void {
    if (this.traceSignalPending) return;
    this.traceSignalPending = true;
    setImmediate(() => {
      this.traceSignalPending = false;
      for (const listener of this.traceListeners) {
        try {
          listener();
        } catch {
          // listeners only schedule work; theirs to log
        }
      }
    });
  }

  private async ensurePartition(tx: PgTransaction, day: number): Promise<void> {
    if (this.partitionDays.has(day)) return;
    // IF NOT EXISTS: another write of this batch, or another instance, may have made it.
    await createPartition(tx, day);
    tx.afterCommit(() => this.partitionDays.add(day));
  }

  /** Today's partition and the next days', and what the catalog says exists. */
  private async preparePartitions(tx: PgTransaction, now: number): Promise<void> {
    const existing = await listPartitionDays(tx);
    tx.afterCommit(() => {
      for (const day of existing) this.partitionDays.add(day);
    });
    const today = dayOf(now);
    for (let day = today; day <= today + DAYS_AHEAD; day++) {
      if (!existing.includes(day)) await this.ensurePartition(tx, day);
    }
  }

  listTraces(query: TraceQuery): Promise<TracePage> {
    return listTracesPg(this.pool, query);
  }

  async findTracePosition(
    projectId: string,
    eventType: 'system' | 'data',
    trackerName: string | undefined,
    traceId: string,
  ): Promise<TracePosition | undefined> {
    const rows =
      trackerName === undefined
        ? await this.query<TracePosition>(
            'SELECT time, trace_id AS "traceId" FROM traces WHERE trace_id = $1 AND project_id = $2 AND event_type = $3 LIMIT 1',
            [traceId, projectId, eventType],
          )
        : await this.query<TracePosition>(
            `SELECT time, trace_id AS "traceId" FROM traces
             WHERE trace_id = $1 AND tracker_name = $2 AND project_id = $3 AND event_type = $4 LIMIT 1`,
            [traceId, trackerName, projectId, eventType],
          );
    return rows[0];
  }

  /**
   * Drops every whole day recorded before `recordedBefore` that every consumer has passed (one
   * catalog change per day, however many traces it holds; the count returned is taken just
   * before), then, with `purgeRows`, deletes up to
   * `batch` older rows of the day in progress, oldest first, stopping at the first one that is
   * too young or not consumed yet. Also creates the coming days' partitions.
   */
  async purgeTraces(recordedBefore: number, batch: number): Promise<number> {
    // Expired days are counted before the trace lock is taken: counting a day of traces can take
    // seconds, during which no instance could commit a trace. The drop itself is instant.
    const reader = { read: <R extends pg.QueryResultRow>(c: pg.QueryConfig) => this.pool.query<R>(pgSafe(c)) };
    const counted = new Map<number, number>();
    for (const day of await listPartitionDays(reader)) {
      if ((day + 1) * PARTITION_MS > recordedBefore) break;
      const rows = await this.query<{ n: number }>(`SELECT count(*) AS n FROM ${partitionName(day)}`);
      counted.set(day, rows[0]!.n);
    }
    return this.writer.run(
      async (tx) => {
        await this.preparePartitions(tx, Date.now());
        const keepFrom = (await tx.read<{ seq: number | null }>({ text: SQL.minCursor })).rows[0]!.seq;
        let removed = 0;
        for (const day of await listPartitionDays(tx)) {
          if ((day + 1) * PARTITION_MS > recordedBefore) break;
          const max = (
            await tx.read<{ max: number | null }>({ text: `SELECT max(seq) AS max FROM ${partitionName(day)}` })
          ).rows[0]!.max;
          if (keepFrom !== null && max !== null && max > keepFrom) break;
          await dropPartition(tx, day);
          tx.afterCommit(() => this.partitionDays.delete(day));
          removed += counted.get(day) ?? 0;
        }
        if (!this.purgeRows || removed > 0) return removed;
        const oldest = await tx.read<{ seq: number; record_time: number }>({
          text: 'SELECT seq, record_time FROM traces ORDER BY seq LIMIT $1',
          values: [batch],
        });
        const seqs: number[] = [];
        for (const row of oldest.rows) {
          // Rows are in commit order: the first one young enough, or not yet consumed, ends the purge.
          if (row.record_time >= recordedBefore || (keepFrom !== null && row.seq > keepFrom)) break;
          seqs.push(row.seq);
        }
        if (seqs.length === 0) return 0;
        const deleted = await tx.write({ text: 'DELETE FROM traces WHERE seq = ANY($1::bigint[])', values: [seqs] });
        return deleted.rowCount ?? 0;
      },
      { traces: true },
    );
  }

  async getCursor(consumer: string): Promise<number | undefined> {
    return (await this.query<{ seq: number }>('SELECT seq FROM trace_cursors WHERE consumer = $1', [consumer]))[0]?.seq;
  }

  setCursor(consumer: string, seq: number): Promise<void> {
    return this.writer.run(async (tx) => {
      await tx.write({
        text: 'INSERT INTO trace_cursors (consumer, seq) VALUES ($1, $2) ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq',
        values: [consumer, seq],
      });
    });
  }

  deleteCursor(consumer: string): Promise<void> {
    return this.writer.run(async (tx) => {
      await tx.write({ text: 'DELETE FROM trace_cursors WHERE consumer = $1', values: [consumer] });
    });
  }

  listCursors(): Promise<Array<{ consumer: string; seq: number }>> {
    return this.query('SELECT consumer, seq FROM trace_cursors ORDER BY consumer');
  }

  async listAllTrackers(): Promise<Tracker[]> {
    return [
      ...PostgresStore.parseTrackers(
        await this.query<{ body: string }>('SELECT body FROM trackers ORDER BY project_id, id'),
      ),
    ];
  }

  async maxTraceSeq(projectId: string, trackerName: string): Promise<number> {
    const rows = await this.query<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM traces WHERE project_id = $1 AND tracker_name = $2',
      [projectId, trackerName],
    );
    return rows[0]?.seq ?? 0;
  }

  async readTracesForDelivery(
    projectId: string,
    trackerName: string,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; trace: Trace }>> {
    const rows = await this.query<DeliveryRow>(
      `SELECT seq, wire, event_type, tracker_name, project_id, domain_id, user_agent, content_length, total_time
       FROM traces WHERE project_id = $1 AND tracker_name = $2 AND seq > $3 AND seq <= $4 ORDER BY seq LIMIT $5`,
      [projectId, trackerName, afterSeq, upToSeq, limit],
    );
    return rows.map(traceFromRow);
  }

  async getDeliveryState(trackerId: string): Promise<DeliveryState | undefined> {
    return (await this.query<DeliveryState>('SELECT * FROM delivery_state WHERE tracker_id = $1', [trackerId]))[0];
  }

  /** Throws LeaseLostError unless `fence` is still the current lease; holds it until commit. */
  private async checkFence(tx: PgTransaction, fence: Lease | undefined): Promise<void> {
    if (!fence) return;
    const held = await tx.read({
      name: 'check-lease',
      text: SQL.checkLease,
      values: [fence.name, fence.holder, fence.generation],
    });
    if (held.rowCount === 0) {
      throw new LeaseLostError(`lease ${fence.name} (generation ${fence.generation}) is no longer held`);
    }
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.writer.run(async (tx) => {
      const r = await tx.write<Lease>({ name: 'acquire-lease', text: SQL.acquireLease, values: [name, holder, ttlMs] });
      return r.rows[0];
    });
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.writer.run(async (tx) => {
      await tx.write({
        text: 'UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND generation = $3',
        values: [lease.name, lease.holder, lease.generation],
      });
    });
  }

  putDeliveryState(state: DeliveryState, fence?: Lease): Promise<void> {
    return this.writer.run(async (tx) => {
      await this.checkFence(tx, fence);
      await tx.write({ name: 'put-delivery-state', text: SQL.putDeliveryState, values: deliveryStateValues(state) });
    });
  }

  completeDelivery(state: DeliveryState, files: readonly DeliveredFile[], fence?: Lease): Promise<void> {
    return this.writer.run(async (tx) => {
      await this.checkFence(tx, fence);
      for (const f of files) {
        await tx.write({
          text: `INSERT INTO delivered_files (tracker_id, bucket, object_key, sha256, size, trace_count, oldest_time, newest_time, delivered_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tracker_id, object_key) DO NOTHING`,
          values: [
            f.tracker_id,
            f.bucket,
            f.object_key,
            f.sha256,
            f.size,
            f.trace_count,
            f.oldest_time,
            f.newest_time,
            f.delivered_at,
          ],
        });
      }
      await tx.write({ name: 'put-delivery-state', text: SQL.putDeliveryState, values: deliveryStateValues(state) });
    });
  }

  undigestedFiles(trackerId: string, before: number): Promise<DeliveredFile[]> {
    return this.query<DeliveredFile>(
      `SELECT tracker_id, bucket, object_key, sha256, size, trace_count, oldest_time, newest_time, delivered_at
       FROM delivered_files WHERE tracker_id = $1 AND digest_key IS NULL AND delivered_at < $2 ORDER BY object_key`,
      [trackerId, before],
    );
  }

  completeDigest(state: DeliveryState, digestKey: string, fileKeys: readonly string[], fence?: Lease): Promise<void> {
    return this.writer.run(async (tx) => {
      await this.checkFence(tx, fence);
      await tx.write({
        text: 'UPDATE delivered_files SET digest_key = $1 WHERE tracker_id = $2 AND object_key = ANY($3::text[])',
        values: [digestKey, state.tracker_id, fileKeys],
      });
      await tx.write({ name: 'put-delivery-state', text: SQL.putDeliveryState, values: deliveryStateValues(state) });
    });
  }

  deleteDeliveryState(trackerId: string): Promise<void> {
    return this.writer.run(async (tx) => {
      await tx.write({ text: 'DELETE FROM delivery_state WHERE tracker_id = $1', values: [trackerId] });
    });
  }

  listDeliveryStates(): Promise<DeliveryState[]> {
    return this.query<DeliveryState>('SELECT * FROM delivery_state ORDER BY tracker_id');
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.query<SigningKeyRecord>('SELECT * FROM signing_keys ORDER BY created_at, fingerprint');
  }

  addSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.writer.run(async (tx) => {
      await tx.write({
        text: 'UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL',
        values: [key.created_at],
      });
      await tx.write({
        text: `INSERT INTO signing_keys (fingerprint, public_key_pem, private_key_sealed, created_at, retired_at)
          VALUES ($1, $2, $3, $4, $5)`,
        values: [key.fingerprint, key.public_key_pem, key.private_key_sealed, key.created_at, key.retired_at],
      });
    });
  }

  listTags(projectId: string): Promise<TrackerTag[]> {
    return listTagsPg(this.reader, projectId);
  }

  changeTags<T>(projectId: string, trackerId: string, planner: TagPlanner<T>): Promise<T> {
    return this.writer.run(
      async (tx) => {
        const trackers = await this.trackersIn(tx, projectId);
        const change = await changeTagsPg(tx, projectId, trackerId, trackers, planner);
        await this.insertChangeTraces(tx, projectId, change.traces);
        return change.result;
      },
      { traces: true },
    );
  }

  getConfiguration(projectId: string): Promise<CtsConfiguration | undefined> {
    return getConfigurationPg(this.reader, projectId);
  }

  changeConfiguration<T>(projectId: string, planner: ConfigurationPlanner<T>): Promise<T> {
    return this.writer.run(
      async (tx) => {
        const trackers = await this.trackersIn(tx, projectId);
        const change = await changeConfigurationPg(tx, projectId, trackers, planner);
        await this.insertChangeTraces(tx, projectId, change.traces);
        return change.result;
      },
      { traces: true },
    );
  }

  /** The traces that record a tag, configuration or notification change, in its transaction. */
  private async insertChangeTraces(
    tx: PgTransaction,
    projectId: string,
    traces: readonly Trace[] | undefined,
  ): Promise<void> {
    if (!traces?.length) return;
    if (traces.some((t) => t.project_id !== projectId)) throw new Error('trace belongs to another project');
    await this.insertTraces(tx, traces);
  }

  listSeenOperations(projectId: string): Promise<OperationEntry[]> {
    return PgTraceCatalogue.seenOperations(this.reader, projectId);
  }

  listSeenResources(domainId: string): Promise<Array<Pick<OperationEntry, 'service_type' | 'resource_type'>>> {
    return PgTraceCatalogue.seenResources(this.reader, domainId);
  }

  listActiveUsers(projectId: string, since: number): Promise<string[]> {
    return PgTraceCatalogue.activeUsers(this.reader, projectId, since);
  }

  listNotifications(projectId: string): Promise<Notification[]> {
    return this.notificationTables.list(this.reader, projectId);
  }

  listTopics(projectId: string): Promise<Topic[]> {
    return this.notificationTables.listTopics(this.reader, projectId);
  }

  changeNotifications<T>(projectId: string, planner: NotificationPlanner<T>): Promise<T> {
    return this.writer.run(
      async (tx) => {
        const trackers = await this.trackersIn(tx, projectId);
        const change = planner(await this.notificationTables.state(tx, projectId, trackers));
        if (change.traces?.some((t) => t.project_id !== projectId)) throw new Error('trace belongs to another project');
        await this.notificationTables.apply(tx, projectId, change, Date.now());
        await this.insertChangeTraces(tx, projectId, change.traces);
        return change.result;
      },
      { traces: true },
    );
  }

  listEnabledNotifications(): Promise<Notification[]> {
    return this.notificationTables.listEnabled(this.reader);
  }

  getTopicSecret(projectId: string, urn: string): Promise<TopicWithSecret | undefined> {
    return this.notificationTables.getTopicSecret(this.reader, projectId, urn);
  }

  advanceNotificationCursor(notificationId: string, seq: number): Promise<boolean> {
    return this.writer.run((tx) => this.notificationTables.advanceCursor(tx, notificationId, seq));
  }

  deadLetterNotification(letter: DeadLetter): Promise<void> {
    return this.writer.run((tx) => this.notificationTables.deadLetter(tx, letter));
  }

  listDeadLetters(projectId: string): Promise<DeadLetter[]> {
    return this.notificationTables.listDeadLetters(this.reader, projectId);
  }

  listRetryRequested(limit: number): Promise<DeadLetter[]> {
    return this.notificationTables.listRetryRequested(this.reader, limit);
  }

  resolveDeadLetter(id: string): Promise<void> {
    return this.writer.run((tx) => this.notificationTables.resolveDeadLetter(tx, id));
  }

  failDeadLetterRetry(id: string, attempts: number, error: string, at: number): Promise<void> {
    return this.writer.run((tx) => this.notificationTables.failRetry(tx, id, attempts, error, at));
  }

  /**
   * Commits of this instance at once; other instances' by LISTEN/NOTIFY (a hint: the notifier's
   * poll finds whatever a missed notification did not announce).
   */
  onTracesCommitted(listener: () => void): () => void {
    this.traceSignal.listen();
    // A listener of its own per subscription, so the same function can subscribe twice.
    const own = () => listener();
    this.traceListeners.add(own);
    return () => this.traceListeners.delete(own);
  }
}
