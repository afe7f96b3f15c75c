/**
 * The SQLite side of key-event notifications: notifications, topics (secrets sealed at rest),
 * dead letters and the notifications' delivery cursors. Synchronous statements only: SqliteStore
 * runs them inside its group-commit writer (writes) or directly (reads).
 */
import type Database from 'better-sqlite3';
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

const OPENED_SECRETS_MAX = 1000;

export class NotificationTables {
  private readonly stmt;
  private readonly openedSecrets = new Map<string, string>();

  constructor(
    db: Database.Database,
    private readonly secrets: SecretBox,
  ) {
    this.stmt = {
      list: db.prepare('SELECT body FROM notifications WHERE project_id = ? ORDER BY rowid'),
      listEnabled: db.prepare("SELECT body FROM notifications WHERE status = 'enabled' ORDER BY project_id, rowid"),
      upsert: db.prepare(
        `INSERT INTO notifications (notification_id, project_id, notification_name, status, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (notification_id) DO UPDATE SET notification_name = excluded.notification_name,
           status = excluded.status, body = excluded.body`,
      ),
      remove: db.prepare('DELETE FROM notifications WHERE notification_id = ? AND project_id = ?'),
      listTopics: db.prepare('SELECT urn, project_id, url, created_at FROM topics WHERE project_id = ? ORDER BY urn'),
      getTopic: db.prepare('SELECT * FROM topics WHERE project_id = ? AND urn = ?'),
      insertTopic: db.prepare(
        'INSERT INTO topics (urn, project_id, url, secret_sealed, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      removeTopic: db.prepare('DELETE FROM topics WHERE project_id = ? AND urn = ?'),
      maxSeq: db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM traces'),
      getCursor: db.prepare('SELECT seq FROM trace_cursors WHERE consumer = ?'),
      insertCursor: db.prepare('INSERT INTO trace_cursors (consumer, seq) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      deleteCursor: db.prepare('DELETE FROM trace_cursors WHERE consumer = ?'),
      // Only forward, and never re-creating the cursor of a notification disabled meanwhile.
      advanceCursor: db.prepare('UPDATE trace_cursors SET seq = ? WHERE consumer = ? AND seq < ?'),
      insertDeadLetter: db.prepare(
        `INSERT INTO notification_dead_letters (id, project_id, notification_id, notification_name, topic_urn, trace_id,
           trace_seq, body, attempts, last_error, failed_at, retry_requested_at)
         VALUES (@id, @project_id, @notification_id, @notification_name, @topic_urn, @trace_id,
           @trace_seq, @body, @attempts, @last_error, @failed_at, @retry_requested_at)
         ON CONFLICT (notification_id, trace_id) DO UPDATE SET attempts = attempts + excluded.attempts,
           last_error = excluded.last_error, failed_at = excluded.failed_at`,
      ),
      listDeadLetters: db.prepare(
        'SELECT * FROM notification_dead_letters WHERE project_id = ? ORDER BY failed_at, id LIMIT 1000',
      ),
      listRetryRequested: db.prepare(
        'SELECT * FROM notification_dead_letters WHERE retry_requested_at IS NOT NULL ORDER BY retry_requested_at, id LIMIT ?',
      ),
      requestRetry: db.prepare(
        'UPDATE notification_dead_letters SET retry_requested_at = ? WHERE id = ? AND project_id = ?',
      ),
      resolveDeadLetter: db.prepare('DELETE FROM notification_dead_letters WHERE id = ?'),
      failRetry: db.prepare(
        `UPDATE notification_dead_letters SET attempts = ?, last_error = ?, failed_at = ?, retry_requested_at = NULL
         WHERE id = ?`,
      ),
    };
  }

  list(projectId: string): Notification[] {
    return (this.stmt.list.all(projectId) as Array<{ body: string }>).map((r) => JSON.parse(r.body) as Notification);
  }

  listEnabled(): Notification[] {
    return (this.stmt.listEnabled.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as Notification);
  }

  listTopics(projectId: string): Topic[] {
    return this.stmt.listTopics.all(projectId) as Topic[];
  }

  getTopicSecret(projectId: string, urn: string): TopicWithSecret | undefined {
    const row = this.stmt.getTopic.get(projectId, urn) as (Topic & { secret_sealed: string }) | undefined;
    if (!row) return undefined;
    let secret = this.openedSecrets.get(row.secret_sealed);
    if (secret === undefined) {
      secret = this.secrets.open(row.secret_sealed);
      if (this.openedSecrets.size >= OPENED_SECRETS_MAX) this.openedSecrets.clear();
      this.openedSecrets.set(row.secret_sealed, secret);
    }
    return { urn: row.urn, project_id: row.project_id, url: row.url, created_at: row.created_at, secret };
  }

  listDeadLetters(projectId: string): DeadLetter[] {
    return this.stmt.listDeadLetters.all(projectId) as DeadLetter[];
  }

  listRetryRequested(limit: number): DeadLetter[] {
    return this.stmt.listRetryRequested.all(limit) as DeadLetter[];
  }

  state(projectId: string, trackers: NotificationState['trackers']): NotificationState {
    return {
      notifications: this.list(projectId),
      topics: this.listTopics(projectId),
      trackers,
      deadLetters: () => this.listDeadLetters(projectId),
    };
  }

  /** Applies a planned change (inside the caller's transaction), before its traces are inserted. */
  apply<T>(projectId: string, change: NotificationChange<T>, at: number): void {
    const newestSeq = (this.stmt.maxSeq.get() as { seq: number }).seq;
    for (const id of change.remove ?? []) {
      this.stmt.remove.run(id, projectId);
      this.stmt.deleteCursor.run(notificationConsumer(id));
    }
    for (const n of change.upsert ?? []) {
      if (n.project_id !== projectId) throw new Error('notification belongs to another project');
      this.stmt.upsert.run(n.notification_id, projectId, n.notification_name, n.status, JSON.stringify(n));
      const consumer = notificationConsumer(n.notification_id);
      // Enabled from now on: traces committed while it was off (or before it existed) are not sent.
      if (n.status === 'enabled') this.stmt.insertCursor.run(consumer, newestSeq);
      else this.stmt.deleteCursor.run(consumer);
    }
    for (const urn of change.removeTopics ?? []) this.stmt.removeTopic.run(projectId, urn);
    for (const t of change.addTopics ?? []) {
      if (t.project_id !== projectId) throw new Error('topic belongs to another project');
      this.stmt.insertTopic.run(t.urn, projectId, t.url, this.secrets.seal(t.secret), t.created_at);
    }
    for (const id of change.retryDeadLetters ?? []) this.stmt.requestRetry.run(at, id, projectId);
  }

  advanceCursor(notificationId: string, seq: number): boolean {
    const consumer = notificationConsumer(notificationId);
    if (this.stmt.getCursor.get(consumer) === undefined) return false;
    this.stmt.advanceCursor.run(seq, consumer, seq);
    return true;
  }

  /** A message sent again after a crash that fails again stays one dead letter (with the attempts added up). */
  deadLetter(letter: DeadLetter): void {
    this.stmt.insertDeadLetter.run(letter);
  }

  resolveDeadLetter(id: string): void {
    this.stmt.resolveDeadLetter.run(id);
  }

  failRetry(id: string, attempts: number, error: string, at: number): void {
    this.stmt.failRetry.run(attempts, error, at, id);
  }
}
