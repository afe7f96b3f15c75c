/**
 * The embedded store: one SQLite file in WAL mode, written through a group-commit queue, read
 * directly (WAL readers never wait for the writer).
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Durability } from '../../config.js';
import type { Trace } from '../../core/trace/trace.js';
import type { Tracker } from '../../core/tracker/tracker.js';
import {
  ProjectConflictError,
  type Credential,
  type Project,
  type Store,
  type TracePage,
  type TracePosition,
  type TraceQuery,
  type DeliveredFile,
  type DeliveryState,
  type Lease,
  type SigningKeyRecord,
  type TrackerPlanner,
  type User,
  type ConfigurationPlanner,
  type TagPlanner,
  type TrackerTag,
  type DeadLetter,
  type NotificationPlanner,
  type TopicWithSecret,
} from '../store.js';
import type { CtsConfiguration } from '../../core/configuration.js';
import type { OperationEntry } from '../../core/catalogue/operations.js';
import { TraceCatalogue, newNotes, type CatalogueNotes } from './trace-catalogue.js';
import type { Notification } from '../../core/notification/notification.js';
import type { Topic } from '../../core/notification/topic.js';
import { NotificationTables } from './notification-tables.js';
import { SecretBox } from '../secret-box.js';
import { LocalLeases } from '../local-leases.js';
import { applyChange, deepFreeze } from '../tracker-snapshot.js';
import { traceFromRow, traceRowValues, type DeliveryRow } from '../trace-row.js';
import { TraceQueryCache } from './trace-queries.js';
import { TraceIndex } from './trace-index.js';
import type { TraceKey } from './recent-traces.js';

interface TraceNotes {
  readonly catalogue: CatalogueNotes;
  readonly keys: TraceKey[];
}
import { GroupCommit } from './group-commit.js';
import { migrate } from './migrations.js';

export interface SqliteStoreOptions {
  readonly file: string;
  /** Seals secret access keys at rest. */
  readonly secrets: SecretBox;
  readonly durability?: Durability;
  /** Traces per ListTraces index run (trace-index.ts); small values let tests cover many runs. */
  readonly runTraces?: number;
}

const OPENED_SECRETS_MAX = 10_000;

/**
 * Each commit writes every page it dirtied to the WAL, and each checkpoint copies them back: with
 * the trace indexes a batch touches one page per index entry. Checkpointing every 10,000 pages
 * (80 MB of WAL) instead of SQLite's 1,000 lets later commits re-dirty pages that are still in
 * the WAL, so each is copied back once (measured +25-50 % batch inserts); a 64 MB page cache
 * keeps the indexes' hot pages and the covering-index scans of ListTraces in memory.
 */
export const THROUGHPUT_PRAGMAS = ['wal_autocheckpoint = 10000', 'cache_size = -65536'] as const;

/** 8 KB pages hold whole trace rows and measured 20–35 % faster than 4 KB here (DESIGN.md). */
const PAGE_SIZE = 8192;

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly writer: GroupCommit;
  private closed = false;
  private readonly stmt;
  private readonly traceQueries: TraceQueryCache;
  private readonly trackerCache = new Map<string, readonly Tracker[]>();
  private readonly openedSecrets = new Map<string, string>();
  /** One process writes the file: its leases live in memory. */
  private readonly leases = new LocalLeases();
  /** Trackers as changed by writes of the batch in progress; promoted to the cache when it commits. */
  private readonly pendingTrackers = new Map<string, readonly Tracker[]>();
  private readonly catalogue: TraceCatalogue;
  private readonly notificationTables: NotificationTables;
  private readonly traceListeners = new Set<() => void>();
  /** Whether the batch in progress inserted traces (listeners hear of it once it commits). */
  private tracesInBatch = false;
  /** Whether moving the recent index table into a run is queued. */
  private runQueued = false;

  private constructor(
    db: Database.Database,
    private readonly secrets: SecretBox,
    private readonly traceIndex: TraceIndex,
  ) {
    this.db = db;
    this.writer = new GroupCommit(
      db,
      () => {
        this.trackerCache.clear();
        this.pendingTrackers.clear();
        this.catalogue.aborted();
        this.traceIndex.aborted();
        this.tracesInBatch = false;
      },
      () => {
        for (const [project, trackers] of this.pendingTrackers) this.trackerCache.set(project, trackers);
        this.pendingTrackers.clear();
        this.catalogue.committed();
        this.traceIndex.committed();
        if (this.tracesInBatch) {
          this.tracesInBatch = false;
          this.queueRunIfFull();
          // The batch has committed: a failing listener must not look like a failed commit.
          for (const listener of this.traceListeners) {
            try {
              listener();
            } catch {
              // listeners only schedule work; theirs to log
            }
          }
        }
      },
    );
    this.catalogue = new TraceCatalogue(db);
    this.stmt = {
      ping: db.prepare('SELECT 1'),
      insertProject: db.prepare(
        'INSERT INTO projects (project_id, domain_id, name, created_at) VALUES (@project_id, @domain_id, @name, @created_at) ON CONFLICT DO NOTHING',
      ),
      getProject: db.prepare('SELECT project_id, domain_id, name, created_at FROM projects WHERE project_id = ?'),
      listProjects: db.prepare('SELECT project_id, domain_id, name, created_at FROM projects ORDER BY created_at'),
      insertCredential: db.prepare(
        `INSERT INTO credentials (access_key_id, secret_access_key, project_id, domain_id, user_id, user_name, role,
           created_at, revoked_at, expires_at, security_token_sha256)
         VALUES (@access_key_id, @secret_access_key, @project_id, @domain_id, @user_id, @user_name, @role,
           @created_at, @revoked_at, @expires_at, @security_token_sha256)`,
      ),
      anySealedSecret: db.prepare('SELECT secret_access_key AS s FROM credentials LIMIT 1'),
      plaintextSecrets: db.prepare(
        "SELECT access_key_id, secret_access_key FROM credentials WHERE secret_access_key NOT LIKE 'v1.%'",
      ),
      resealSecret: db.prepare('UPDATE credentials SET secret_access_key = ? WHERE access_key_id = ?'),
      insertUser: db.prepare(
        'INSERT INTO users (domain_id, user_name, user_id, created_at) VALUES (@domain_id, @user_name, @user_id, @created_at) ON CONFLICT DO NOTHING',
      ),
      getUser: db.prepare('SELECT * FROM users WHERE domain_id = ? AND user_name = ?'),
      listUsers: db.prepare('SELECT * FROM users ORDER BY domain_id, user_name'),
      listDomainUsers: db.prepare('SELECT * FROM users WHERE domain_id = ? ORDER BY user_name'),
      deleteUser: db.prepare('DELETE FROM users WHERE domain_id = ? AND user_name = ?'),
      revokeUserCredentials: db.prepare(
        'UPDATE credentials SET revoked_at = ? WHERE domain_id = ? AND user_name = ? AND revoked_at IS NULL',
      ),
      getCredential: db.prepare('SELECT * FROM credentials WHERE access_key_id = ?'),
      listCredentials: db.prepare('SELECT * FROM credentials ORDER BY created_at, access_key_id'),
      listProjectCredentials: db.prepare(
        'SELECT * FROM credentials WHERE project_id = ? ORDER BY created_at, access_key_id',
      ),
      revokeCredential: db.prepare(
        'UPDATE credentials SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL',
      ),
      listTrackers: db.prepare('SELECT body FROM trackers WHERE project_id = ? ORDER BY tracker_type DESC, id'),
      upsertTracker: db.prepare(
        `INSERT INTO trackers (id, project_id, tracker_type, tracker_name, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET tracker_name = excluded.tracker_name, body = excluded.body`,
      ),
      deleteTracker: db.prepare('DELETE FROM trackers WHERE id = ? AND project_id = ?'),
      insertTrace: db.prepare(
        `INSERT INTO traces (trace_id, project_id, domain_id, tracker_name, event_type, time, record_time,
           service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user_name,
           access_key_id, enterprise_project_id, user_agent, content_length, total_time, wire)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      tracePositionInTracker: db.prepare(
        'SELECT time, trace_id AS traceId FROM traces WHERE trace_id = ? AND tracker_name = ? AND project_id = ? AND event_type = ?',
      ),
      tracePositionAnyTracker: db.prepare(
        'SELECT time, trace_id AS traceId FROM traces WHERE trace_id = ? AND project_id = ? AND event_type = ? LIMIT 1',
      ),
      oldestTraces: db.prepare('SELECT seq, record_time FROM traces ORDER BY seq LIMIT ?'),
      deleteTraceSeq: db.prepare('DELETE FROM traces WHERE seq = ?'),
      newestTraceSeq: db.prepare('SELECT max(seq) AS seq FROM traces'),
      minCursor: db.prepare(
        'SELECT min(seq) AS seq FROM (SELECT seq FROM trace_cursors UNION ALL SELECT cursor_seq AS seq FROM delivery_state)',
      ),
      listAllTrackers: db.prepare('SELECT body FROM trackers ORDER BY project_id, id'),
      maxTraceSeq: db.prepare('SELECT max(seq) AS seq FROM traces WHERE project_id = ? AND tracker_name = ?'),
      tracesForDelivery: db.prepare(
        `SELECT seq, wire, event_type, tracker_name, project_id, domain_id, user_agent, content_length, total_time
         FROM traces INDEXED BY traces_delivery
         WHERE project_id = ? AND tracker_name = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      ),
      getDeliveryState: db.prepare('SELECT * FROM delivery_state WHERE tracker_id = ?'),
      putDeliveryState: db.prepare(
        `INSERT INTO delivery_state (tracker_id, project_id, cursor_seq, pending_to, pending_time, pending_layout, digest_start, last_digest)
         VALUES (@tracker_id, @project_id, @cursor_seq, @pending_to, @pending_time, @pending_layout, @digest_start, @last_digest)
         ON CONFLICT (tracker_id) DO UPDATE SET cursor_seq = excluded.cursor_seq, pending_to = excluded.pending_to,
           pending_time = excluded.pending_time, pending_layout = excluded.pending_layout,
           digest_start = excluded.digest_start, last_digest = excluded.last_digest`,
      ),
      deleteDeliveryState: db.prepare('DELETE FROM delivery_state WHERE tracker_id = ?'),
      listDeliveryStates: db.prepare('SELECT * FROM delivery_state ORDER BY tracker_id'),
      insertDeliveredFile: db.prepare(
        `INSERT INTO delivered_files (tracker_id, bucket, object_key, sha256, size, trace_count, oldest_time, newest_time, delivered_at)
         VALUES (@tracker_id, @bucket, @object_key, @sha256, @size, @trace_count, @oldest_time, @newest_time, @delivered_at)
         ON CONFLICT (tracker_id, object_key) DO NOTHING`,
      ),
      undigestedFiles: db.prepare(
        `SELECT tracker_id, bucket, object_key, sha256, size, trace_count, oldest_time, newest_time, delivered_at
         FROM delivered_files WHERE tracker_id = ? AND digest_key IS NULL AND delivered_at < ? ORDER BY object_key`,
      ),
      markDigested: db.prepare('UPDATE delivered_files SET digest_key = ? WHERE tracker_id = ? AND object_key = ?'),
      listSigningKeys: db.prepare('SELECT * FROM signing_keys ORDER BY created_at, fingerprint'),
      retireSigningKeys: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL'),
      insertSigningKey: db.prepare(
        `INSERT INTO signing_keys (fingerprint, public_key_pem, private_key_sealed, created_at, retired_at)
         VALUES (@fingerprint, @public_key_pem, @private_key_sealed, @created_at, @retired_at)`,
      ),
      getCursor: db.prepare('SELECT seq FROM trace_cursors WHERE consumer = ?'),
      deleteCursor: db.prepare('DELETE FROM trace_cursors WHERE consumer = ?'),
      listCursors: db.prepare('SELECT consumer, seq FROM trace_cursors ORDER BY consumer'),
      setCursor: db.prepare(
        'INSERT INTO trace_cursors (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq',
      ),
      listTags: db.prepare(
        'SELECT tracker_id, tag_key AS key, tag_value AS value FROM tracker_tags WHERE project_id = ? ORDER BY tracker_id, tag_key',
      ),
      trackerTags: db.prepare(
        'SELECT tag_key AS key, tag_value AS value FROM tracker_tags WHERE tracker_id = ? AND project_id = ? ORDER BY tag_key',
      ),
      deleteTrackerTags: db.prepare('DELETE FROM tracker_tags WHERE tracker_id = ? AND project_id = ?'),
      insertTag: db.prepare(
        'INSERT INTO tracker_tags (tracker_id, project_id, tag_key, tag_value) VALUES (?, ?, ?, ?)',
      ),
      getConfiguration: db.prepare('SELECT body FROM project_configuration WHERE project_id = ?'),
      putConfiguration: db.prepare(
        `INSERT INTO project_configuration (project_id, body) VALUES (?, ?)
         ON CONFLICT (project_id) DO UPDATE SET body = excluded.body`,
      ),
      seenOperations: db.prepare(
        'SELECT service_type, resource_type, trace_name FROM trace_operations WHERE project_id = ?',
      ),
      seenResources: db.prepare(
        `SELECT DISTINCT o.service_type, o.resource_type FROM projects p
         JOIN trace_operations o ON o.project_id = p.project_id WHERE p.domain_id = ?`,
      ),
      activeUsers: db.prepare(
        'SELECT user_name FROM trace_users WHERE project_id = ? AND last_seen >= ? ORDER BY user_name',
      ),
    };
    this.traceQueries = new TraceQueryCache(db, traceIndex);
    this.notificationTables = new NotificationTables(db, secrets);
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    // The database holds secret keys: create it readable by the owner only (SQLite gives the
    // -wal and -shm files the same mode).
    closeSync(openSync(options.file, 'a', 0o600));
    const db = new Database(options.file);
    try {
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      for (const pragma of THROUGHPUT_PRAGMAS) db.pragma(pragma);
      migrate(db);
      // Fresh statistics keep the planner on the right index for filtered queries (DESIGN.md).
      db.pragma('optimize = 0x10002');
      const store = new SqliteStore(db, options.secrets, TraceIndex.open(db, options.runTraces));
      store.checkSecrets();
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('store is closed');
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.drain();
    this.closed = true;
    this.db.pragma('optimize');
    this.db.close();
  }

  ensureProject(project: Project): Promise<Project> {
    return this.writer.run(() => {
      this.stmt.insertProject.run(project);
      const stored = this.stmt.getProject.get(project.project_id) as Project;
      if (stored.domain_id !== project.domain_id) {
        throw new ProjectConflictError(
          `project ${project.project_id} belongs to domain ${stored.domain_id}, not ${project.domain_id}`,
        );
      }
      return stored;
    });
  }

  async getProject(projectId: string): Promise<Project | undefined> {
    return this.stmt.getProject.get(projectId) as Project | undefined;
  }

  async listProjects(): Promise<Project[]> {
    return this.stmt.listProjects.all() as Project[];
  }

  ensureUser(user: User): Promise<User> {
    return this.writer.run(() => {
      this.stmt.insertUser.run(user);
      return this.stmt.getUser.get(user.domain_id, user.user_name) as User;
    });
  }

  async getUser(domainId: string, userName: string): Promise<User | undefined> {
    return this.stmt.getUser.get(domainId, userName) as User | undefined;
  }

  async listUsers(filter: { domain_id?: string } = {}): Promise<User[]> {
    return (
      filter.domain_id === undefined ? this.stmt.listUsers.all() : this.stmt.listDomainUsers.all(filter.domain_id)
    ) as User[];
  }

  deleteUser(domainId: string, userName: string, at: number): Promise<boolean> {
    return this.writer.run(() => {
      this.stmt.revokeUserCredentials.run(at, domainId, userName);
      return this.stmt.deleteUser.run(domainId, userName).changes === 1;
    });
  }

  addCredential(credential: Credential): Promise<void> {
    const sealed = { ...credential, secret_access_key: this.secrets.seal(credential.secret_access_key) };
    return this.writer.run(() => {
      this.stmt.insertCredential.run(sealed);
    });
  }

  /**
   * Every signed request opens its key's sealed secret: the plaintext is kept per sealed value
   * (AES-GCM costs ~10 % of a request). The row itself is still read each time, so a revoked or
   * expired key is refused at once, even when another process revoked it.
   */
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
    return this.openCredential(this.stmt.getCredential.get(accessKeyId) as Credential | undefined);
  }

  /** Lists keys without their secrets (an empty string stands in for each). */
  async listCredentials(filter: { project_id?: string } = {}): Promise<Credential[]> {
    const rows = (
      filter.project_id === undefined
        ? this.stmt.listCredentials.all()
        : this.stmt.listProjectCredentials.all(filter.project_id)
    ) as Credential[];
    return rows.map((r) => ({ ...r, secret_access_key: '' }));
  }

  /**
   * Fails fast when the master key cannot open the stored secrets (lost or replaced key file),
   * and seals secrets written before encryption at rest existed.
   */
  private checkSecrets(): void {
    const any = this.stmt.anySealedSecret.get() as { s: string } | undefined;
    if (any && SecretBox.isSealed(any.s)) this.secrets.open(any.s);
    const plain = this.stmt.plaintextSecrets.all() as Array<{ access_key_id: string; secret_access_key: string }>;
    if (plain.length === 0) return;
    this.db.transaction(() => {
      for (const row of plain) this.stmt.resealSecret.run(this.secrets.seal(row.secret_access_key), row.access_key_id);
    })();
  }

  revokeCredential(accessKeyId: string, at: number): Promise<boolean> {
    return this.writer.run(() => this.stmt.revokeCredential.run(at, accessKeyId).changes === 1);
  }

  /**
   * A project's trackers, parsed once and kept until a write changes them: every traced write
   * reads them (recording depends on the system tracker). This process is the only writer of the
   * file, and a write drops the entry before it can commit or roll back, so the cache never
   * outlives the rows it mirrors.
   */
  private readTrackers(projectId: string): readonly Tracker[] {
    let trackers = this.trackerCache.get(projectId) ?? this.pendingTrackers.get(projectId);
    if (!trackers) {
      trackers = (this.stmt.listTrackers.all(projectId) as Array<{ body: string }>).map((row) =>
        deepFreeze(JSON.parse(row.body) as Tracker),
      );
      this.trackerCache.set(projectId, trackers);
    }
    return trackers;
  }

  async listTrackers(projectId: string): Promise<Tracker[]> {
    return [...this.readTrackers(projectId)];
  }

  changeTrackers<T>(projectId: string, planner: TrackerPlanner<T>): Promise<T> {
    return this.writer.run(() => {
      const current = this.readTrackers(projectId);
      const change = planner(current);
      const changes = (change.remove?.length ?? 0) + (change.upsert?.length ?? 0) > 0;
      // Until the batch commits, the cache must not show this write's trackers to anyone else.
      if (changes) this.trackerCache.delete(projectId);
      for (const id of change.remove ?? []) this.stmt.deleteTracker.run(id, projectId);
      for (const t of change.upsert ?? []) {
        if (t.project_id !== projectId) throw new Error('tracker belongs to another project');
        this.stmt.upsertTracker.run(t.id, projectId, t.tracker_type, t.tracker_name, JSON.stringify(t));
      }
      const notes = this.insertTraces(projectId, change.traces);
      // Every statement of the write succeeded: its trackers become the cache once the batch
      // commits (GroupCommit's onCommit), or are forgotten if it does not (onAbort).
      if (changes) this.pendingTrackers.set(projectId, applyChange(current, change.upsert ?? [], change.remove ?? []));
      this.accept(notes);
      return change.result;
    });
  }

  /**
   * Inserts a write's traces and keeps the catalogue tables in step; returns what the catalogue and
   * the ListTraces index learnt, for `accept` once every statement of the write has succeeded.
   */
  private insertTraces(projectId: string, traces: readonly Trace[] | undefined): TraceNotes {
    const notes: TraceNotes = { catalogue: newNotes(), keys: [] };
    for (const trace of traces ?? []) {
      if (trace.project_id !== projectId) throw new Error('trace belongs to another project');
      this.tracesInBatch = true;
      const row = traceRowValues(trace);
      notes.keys.push(this.traceIndex.keyOf(this.stmt.insertTrace.run(...row).lastInsertRowid, row));
      this.catalogue.record(trace, notes.catalogue);
    }
    return notes;
  }

  /** A write's traces become part of the committed state when (if) its batch commits. */
  private accept(notes: TraceNotes): void {
    this.catalogue.accept(notes.catalogue);
    this.traceIndex.accept(notes.keys);
  }

  async listTags(projectId: string): Promise<TrackerTag[]> {
    return this.stmt.listTags.all(projectId) as TrackerTag[];
  }

  changeTags<T>(projectId: string, trackerId: string, planner: TagPlanner<T>): Promise<T> {
    return this.writer.run(() => {
      const current = this.stmt.trackerTags.all(trackerId, projectId) as Array<{ key: string; value: string }>;
      const change = planner(this.readTrackers(projectId), current);
      if (!this.readTrackers(projectId).some((t) => t.id === trackerId)) {
        throw new Error('tags of a tracker that is not in the project');
      }
      this.stmt.deleteTrackerTags.run(trackerId, projectId);
      for (const tag of change.tags) this.stmt.insertTag.run(trackerId, projectId, tag.key, tag.value);
      this.accept(this.insertTraces(projectId, change.traces));
      return change.result;
    });
  }

  async getConfiguration(projectId: string): Promise<CtsConfiguration | undefined> {
    const row = this.stmt.getConfiguration.get(projectId) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as CtsConfiguration) : undefined;
  }

  changeConfiguration<T>(projectId: string, planner: ConfigurationPlanner<T>): Promise<T> {
    return this.writer.run(() => {
      const row = this.stmt.getConfiguration.get(projectId) as { body: string } | undefined;
      const current = row ? (JSON.parse(row.body) as CtsConfiguration) : undefined;
      const change = planner(this.readTrackers(projectId), current);
      this.stmt.putConfiguration.run(projectId, JSON.stringify(change.configuration));
      this.accept(this.insertTraces(projectId, change.traces));
      return change.result;
    });
  }

  async listSeenOperations(projectId: string): Promise<OperationEntry[]> {
    return this.stmt.seenOperations.all(projectId) as OperationEntry[];
  }

  async listSeenResources(domainId: string): Promise<Array<Pick<OperationEntry, 'service_type' | 'resource_type'>>> {
    return this.stmt.seenResources.all(domainId) as Array<Pick<OperationEntry, 'service_type' | 'resource_type'>>;
  }

  async listActiveUsers(projectId: string, since: number): Promise<string[]> {
    return (this.stmt.activeUsers.all(projectId, since) as Array<{ user_name: string }>).map((r) => r.user_name);
  }

  /** Once the recent index table holds a run's worth of traces, one write of its own moves them. */
  private queueRunIfFull(): void {
    if (this.runQueued || this.closed || !this.traceIndex.full()) return;
    this.runQueued = true;
    this.writer
      .run(() => this.traceIndex.flush())
      .catch(() => undefined) // the traces stay indexed in the recent table; the next commit retries
      .finally(() => {
        this.runQueued = false;
      });
  }

  async listTraces(query: TraceQuery): Promise<TracePage> {
    return this.traceQueries.run(query);
  }

  async findTracePosition(
    projectId: string,
    eventType: 'system' | 'data',
    trackerName: string | undefined,
    traceId: string,
  ): Promise<TracePosition | undefined> {
    return (
      trackerName === undefined
        ? this.stmt.tracePositionAnyTracker.get(traceId, projectId, eventType)
        : this.stmt.tracePositionInTracker.get(traceId, trackerName, projectId, eventType)
    ) as TracePosition | undefined;
  }

  purgeTraces(recordedBefore: number, batch: number): Promise<number> {
    return this.writer.run(() => {
      const keepFrom = (this.stmt.minCursor.get() as { seq: number | null }).seq;
      // The newest trace always stays: seq is a rowid, and an empty table would hand out seqs that
      // delivery and notification cursors have already passed.
      const newest = (this.stmt.newestTraceSeq.get() as { seq: number | null }).seq;
      let removed = 0;
      for (const row of this.stmt.oldestTraces.all(batch) as Array<{ seq: number; record_time: number }>) {
        // Rows are in commit order: the first one young enough, or not yet consumed, ends the purge.
        if (row.record_time >= recordedBefore || (keepFrom !== null && row.seq > keepFrom)) break;
        if (row.seq === newest) break;
        this.stmt.deleteTraceSeq.run(row.seq);
        removed++;
      }
      if (removed > 0) this.traceIndex.purged();
      return removed;
    });
  }

  async listAllTrackers(): Promise<Tracker[]> {
    return (this.stmt.listAllTrackers.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as Tracker);
  }

  async maxTraceSeq(projectId: string, trackerName: string): Promise<number> {
    return (this.stmt.maxTraceSeq.get(projectId, trackerName) as { seq: number | null }).seq ?? 0;
  }

  async readTracesForDelivery(
    projectId: string,
    trackerName: string,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; trace: Trace }>> {
    const rows = this.stmt.tracesForDelivery.all(projectId, trackerName, afterSeq, upToSeq, limit) as DeliveryRow[];
    return rows.map(traceFromRow);
  }

  async getDeliveryState(trackerId: string): Promise<DeliveryState | undefined> {
    return this.stmt.getDeliveryState.get(trackerId) as DeliveryState | undefined;
  }

  putDeliveryState(state: DeliveryState, fence?: Lease): Promise<void> {
    return this.writer.run(() => {
      this.leases.check(fence);
      this.stmt.putDeliveryState.run(state);
    });
  }

  completeDelivery(state: DeliveryState, files: readonly DeliveredFile[], fence?: Lease): Promise<void> {
    return this.writer.run(() => {
      this.leases.check(fence);
      for (const f of files) this.stmt.insertDeliveredFile.run(f);
      this.stmt.putDeliveryState.run(state);
    });
  }

  async undigestedFiles(trackerId: string, before: number): Promise<DeliveredFile[]> {
    return this.stmt.undigestedFiles.all(trackerId, before) as DeliveredFile[];
  }

  completeDigest(state: DeliveryState, digestKey: string, fileKeys: readonly string[], fence?: Lease): Promise<void> {
    return this.writer.run(() => {
      this.leases.check(fence);
      for (const key of fileKeys) this.stmt.markDigested.run(digestKey, state.tracker_id, key);
      this.stmt.putDeliveryState.run(state);
    });
  }

  deleteDeliveryState(trackerId: string): Promise<void> {
    return this.writer.run(() => {
      this.stmt.deleteDeliveryState.run(trackerId);
    });
  }

  async listDeliveryStates(): Promise<DeliveryState[]> {
    return this.stmt.listDeliveryStates.all() as DeliveryState[];
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    return this.leases.acquire(name, holder, ttlMs);
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.leases.release(lease);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.stmt.listSigningKeys.all() as SigningKeyRecord[];
  }

  addSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.writer.run(() => {
      this.stmt.retireSigningKeys.run(key.created_at);
      this.stmt.insertSigningKey.run(key);
    });
  }

  async listNotifications(projectId: string): Promise<Notification[]> {
    return this.notificationTables.list(projectId);
  }

  async listTopics(projectId: string): Promise<Topic[]> {
    return this.notificationTables.listTopics(projectId);
  }

  changeNotifications<T>(projectId: string, planner: NotificationPlanner<T>): Promise<T> {
    return this.writer.run(() => {
      const change = planner(this.notificationTables.state(projectId, this.readTrackers(projectId)));
      this.notificationTables.apply(projectId, change, Date.now());
      this.accept(this.insertTraces(projectId, change.traces));
      return change.result;
    });
  }

  async listEnabledNotifications(): Promise<Notification[]> {
    return this.notificationTables.listEnabled();
  }

  async getTopicSecret(projectId: string, urn: string): Promise<TopicWithSecret | undefined> {
    return this.notificationTables.getTopicSecret(projectId, urn);
  }

  advanceNotificationCursor(notificationId: string, seq: number): Promise<boolean> {
    return this.writer.run(() => this.notificationTables.advanceCursor(notificationId, seq));
  }

  deadLetterNotification(letter: DeadLetter): Promise<void> {
    return this.writer.run(() => this.notificationTables.deadLetter(letter));
  }

  async listDeadLetters(projectId: string): Promise<DeadLetter[]> {
    return this.notificationTables.listDeadLetters(projectId);
  }

  async listRetryRequested(limit: number): Promise<DeadLetter[]> {
    return this.notificationTables.listRetryRequested(limit);
  }

  resolveDeadLetter(id: string): Promise<void> {
    return this.writer.run(() => this.notificationTables.resolveDeadLetter(id));
  }

  failDeadLetterRetry(id: string, attempts: number, error: string, at: number): Promise<void> {
    return this.writer.run(() => this.notificationTables.failRetry(id, attempts, error, at));
  }

  onTracesCommitted(listener: () => void): () => void {
    // A listener of its own per subscription, so the same function can subscribe twice.
    const own = () => listener();
    this.traceListeners.add(own);
    return () => this.traceListeners.delete(own);
  }

  deleteCursor(consumer: string): Promise<void> {
    return this.writer.run(() => {
      this.stmt.deleteCursor.run(consumer);
    });
  }

  async listCursors(): Promise<Array<{ consumer: string; seq: number }>> {
    return this.stmt.listCursors.all() as Array<{ consumer: string; seq: number }>;
  }

  async getCursor(consumer: string): Promise<number | undefined> {
    return (this.stmt.getCursor.get(consumer) as { seq: number } | undefined)?.seq;
  }

  setCursor(consumer: string, seq: number): Promise<void> {
    return this.writer.run(() => {
      this.stmt.setCursor.run(consumer, seq);
    });
  }
}
