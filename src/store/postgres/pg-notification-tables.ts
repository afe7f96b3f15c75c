/**
 * The PostgreSQL side of key-event notifications (the tables of migration 3, the same rules as
 * SQLite's NotificationTables): notifications, topics (secrets sealed at rest with the
 * SecretBox), dead letters (one per notification and trace) and the notifications' delivery
 * cursors. Writes run inside PostgresStore's group-commit transaction; reads go to the pool.
 */
import type { Notification } from '../../core/notification/notification.js';
import type { Topic } from '../../core/notification/topic.js';
import type { SecretBox } from '../secret-box.js';
import {
  notificationConsumer,
  type DeadLetter,
  type NotificationChange,
  type NotificationState,
  type TopicWithSecret,
} from '../store.js';
import type { PgTransaction } from './pg-group-commit.js';

const OPENED_SECRETS_MAX = 1000;

type Reader = Pick<PgTransaction, 'read'>;

const DEAD_LETTER_COLUMNS = `id, project_id, notification_id, notification_name, topic_urn, trace_id, trace_seq, body,
  attempts, last_error, failed_at, retry_requested_at`;

const SQL = {
  list: 'SELECT body FROM notifications WHERE project_id = $1 ORDER BY position',
  listEnabled: "SELECT body FROM notifications WHERE status = 'enabled' ORDER BY project_id, position",
  upsert: `INSERT INTO notifications (notification_id, project_id, notification_name, status, body) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (notification_id) DO UPDATE SET notification_name = excluded.notification_name,
      status = excluded.status, body = excluded.body`,
  remove: 'DELETE FROM notifications WHERE notification_id = $1 AND project_id = $2',
  listTopics: 'SELECT urn, project_id, url, created_at FROM topics WHERE project_id = $1 ORDER BY urn',
  getTopic: 'SELECT urn, project_id, url, created_at, secret_sealed FROM topics WHERE project_id = $1 AND urn = $2',
  insertTopic: 'INSERT INTO topics (urn, project_id, url, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)',
  removeTopic: 'DELETE FROM topics WHERE project_id = $1 AND urn = $2',
  maxSeq: 'SELECT coalesce(max(seq), 0) AS seq FROM traces',
  insertCursor: 'INSERT INTO trace_cursors (consumer, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING',
  deleteCursor: 'DELETE FROM trace_cursors WHERE consumer = $1',
  // Only forward, and never re-creating the cursor of a notification disabled meanwhile.
  advanceCursor: 'UPDATE trace_cursors SET seq = greatest(seq, $1) WHERE consumer = $2',
  insertDeadLetter: `INSERT INTO notification_dead_letters AS d (${DEAD_LETTER_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    ON CONFLICT (notification_id, trace_id) DO UPDATE SET attempts = d.attempts + excluded.attempts,
      last_error = excluded.last_error, failed_at = excluded.failed_at`,
  listDeadLetters: `SELECT ${DEAD_LETTER_COLUMNS} FROM notification_dead_letters WHERE project_id = $1
    ORDER BY failed_at, id LIMIT 1000`,
  listRetryRequested: `SELECT ${DEAD_LETTER_COLUMNS} FROM notification_dead_letters WHERE retry_requested_at IS NOT NULL
    ORDER BY retry_requested_at, id LIMIT $1`,
  requestRetry: 'UPDATE notification_dead_letters SET retry_requested_at = $1 WHERE id = $2 AND project_id = $3',
  resolveDeadLetter: 'DELETE FROM notification_dead_letters WHERE id = $1',
  failRetry: `UPDATE notification_dead_letters SET attempts = $1, last_error = $2, failed_at = $3, retry_requested_at = NULL
    WHERE id = $4`,
} as const;

function bodies(rows: ReadonlyArray<{ body: string }>): Notification[] {
  return rows.map((r) => JSON.parse(r.body) as Notification);
}

export class PgNotificationTables {
  private readonly openedSecrets = new Map<string, string>();

  constructor(private readonly secrets: () => SecretBox) {}

  async list(db: Reader, projectId: string): Promise<Notification[]> {
    return bodies((await db.read<{ body: string }>({ text: SQL.list, values: [projectId] })).rows);
  }

  async listEnabled(db: Reader): Promise<Notification[]> {
    return bodies((await db.read<{ body: string }>({ text: SQL.listEnabled })).rows);
  }

  async listTopics(db: Reader, projectId: string): Promise<Topic[]> {
    return (await db.read<Topic>({ text: SQL.listTopics, values: [projectId] })).rows;
  }

  async getTopicSecret(db: Reader, projectId: string, urn: string): Promise<TopicWithSecret | undefined> {
    const row = (await db.read<Topic & { secret_sealed: string }>({ text: SQL.getTopic, values: [projectId, urn] }))
      .rows[0];
    if (!row) return undefined;
    let secret = this.openedSecrets.get(row.secret_sealed);
    if (secret === undefined) {
      secret = this.secrets().open(row.secret_sealed);
      if (this.openedSecrets.size >= OPENED_SECRETS_MAX) this.openedSecrets.clear();
      this.openedSecrets.set(row.secret_sealed, secret);
    }
    return { urn: row.urn, project_id: row.project_id, url: row.url, created_at: row.created_at, secret };
  }

  async listDeadLetters(db: Reader, projectId: string): Promise<DeadLetter[]> {
    return (await db.read<DeadLetter>({ text: SQL.listDeadLetters, values: [projectId] })).rows;
  }

  async listRetryRequested(db: Reader, limit: number): Promise<DeadLetter[]> {
    return (await db.read<DeadLetter>({ text: SQL.listRetryRequested, values: [limit] })).rows;
  }

  /**
   * The project's notifications, topics and dead letters as the transaction sees them (the
   * planner is synchronous, so the dead letters are read up front; at most 1000, as listed).
   */
  async state(
    tx: PgTransaction,
    projectId: string,
    trackers: NotificationState['trackers'],
  ): Promise<NotificationState> {
    const [notifications, topics, deadLetters] = [
      await this.list(tx, projectId),
      await this.listTopics(tx, projectId),
      await this.listDeadLetters(tx, projectId),
    ];
    return { notifications, topics, trackers, deadLetters: () => deadLetters };
  }

  /** Applies a planned change inside the caller's transaction (under the trace lock), before its traces are inserted. */
  async apply<T>(tx: PgTransaction, projectId: string, change: NotificationChange<T>, at: number): Promise<void> {
    if (change.upsert?.some((n) => n.project_id !== projectId)) {
      throw new Error('notification belongs to another project');
    }
    if (change.addTopics?.some((t) => t.project_id !== projectId)) throw new Error('topic belongs to another project');
    // Under the trace lock no other transaction is inserting traces: this is the newest committed one.
    const newestSeq = (await tx.read<{ seq: number }>({ text: SQL.maxSeq })).rows[0]!.seq;
    for (const id of change.remove ?? []) {
      await tx.write({ text: SQL.remove, values: [id, projectId] });
      await tx.write({ text: SQL.deleteCursor, values: [notificationConsumer(id)] });
    }
    for (const n of change.upsert ?? []) {
      await tx.write({
        text: SQL.upsert,
        values: [n.notification_id, projectId, n.notification_name, n.status, JSON.stringify(n)],
      });
      const consumer = notificationConsumer(n.notification_id);
      // Enabled from now on: traces committed while it was off (or before it existed) are not sent.
      if (n.status === 'enabled') await tx.write({ text: SQL.insertCursor, values: [consumer, newestSeq] });
      else await tx.write({ text: SQL.deleteCursor, values: [consumer] });
    }
    for (const urn of change.removeTopics ?? []) await tx.write({ text: SQL.removeTopic, values: [projectId, urn] });
    for (const t of change.addTopics ?? []) {
      await tx.write({
        text: SQL.insertTopic,
        values: [t.urn, projectId, t.url, this.secrets().seal(t.secret), t.created_at],
      });
    }
    for (const id of change.retryDeadLetters ?? []) {
      await tx.write({ text: SQL.requestRetry, values: [at, id, projectId] });
    }
  }

  /** False when the notification has no cursor (disabled or deleted meanwhile). */
  async advanceCursor(tx: PgTransaction, notificationId: string, seq: number): Promise<boolean> {
    const r = await tx.write({ text: SQL.advanceCursor, values: [seq, notificationConsumer(notificationId)] });
    return r.rowCount === 1;
  }

  /** A message sent again after a crash that fails again stays one dead letter (with the attempts added up). */
  async deadLetter(tx: PgTransaction, l: DeadLetter): Promise<void> {
    await tx.write({
      text: SQL.insertDeadLetter,
      values: [
        l.id,
        l.project_id,
        l.notification_id,
        l.notification_name,
        l.topic_urn,
        l.trace_id,
        l.trace_seq,
        l.body,
        l.attempts,
        l.last_error,
        l.failed_at,
        l.retry_requested_at,
      ],
    });
  }

  async resolveDeadLetter(tx: PgTransaction, id: string): Promise<void> {
    await tx.write({ text: SQL.resolveDeadLetter, values: [id] });
  }

  async failRetry(tx: PgTransaction, id: string, attempts: number, error: string, at: number): Promise<void> {
    await tx.write({ text: SQL.failRetry, values: [attempts, error, at, id] });
  }
}
