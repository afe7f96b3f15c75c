/**
 * The persistence port. Routes and use cases depend on this interface only; the SQLite
 * implementation is the embedded default and a PostgreSQL one serves scale-out. No SQL and no
 * HTTP cross this boundary.
 */
import type { Tracker } from '../core/tracker/tracker.js';
import type { Trace } from '../core/trace/trace.js';
import type { Tag } from '../core/tag/tags.js';
import type { CtsConfiguration } from '../core/configuration.js';
import type { OperationEntry } from '../core/catalogue/operations.js';
import type { Notification } from '../core/notification/notification.js';
import type { Topic } from '../core/notification/topic.js';

import type { Role } from '../core/authz.js';
export { ROLES, type Role } from '../core/authz.js';

export interface Project {
  readonly project_id: string;
  readonly domain_id: string;
  readonly name: string;
  readonly created_at: number;
}

export interface Credential {
  readonly access_key_id: string;
  readonly secret_access_key: string;
  readonly project_id: string;
  readonly domain_id: string;
  readonly user_id: string;
  readonly user_name: string;
  readonly role: Role;
  readonly created_at: number;
  readonly revoked_at: number | null;
  /** Temporary credentials (clients.md §4.1) expire, and need their X-Security-Token. */
  readonly expires_at: number | null;
  /** Hex SHA-256 of the security token of temporary credentials (compared, never shown again). */
  readonly security_token_sha256: string | null;
}

/** A user of a domain (account); access keys and tokens act for a user in a project. */
export interface User {
  readonly domain_id: string;
  readonly user_name: string;
  readonly user_id: string;
  readonly created_at: number;
}

/**
 * What one write does to a project's trackers, decided by a pure function of their current state
 * inside the store's transaction: the change and its traces commit together or not at all.
 */
export interface TrackerChange<T> {
  readonly upsert?: readonly Tracker[];
  readonly remove?: readonly string[];
  readonly traces?: readonly Trace[];
  readonly result: T;
}

export type TrackerPlanner<T> = (current: readonly Tracker[]) => TrackerChange<T>;

/** A tracker's complete tag set after a change, and the traces that record the change. */
export interface TagChange<T> {
  readonly tags: readonly Tag[];
  readonly traces?: readonly Trace[];
  readonly result: T;
}

/** Decides a tag change from the project's trackers and the tracker's current tags (in the transaction). */
export type TagPlanner<T> = (trackers: readonly Tracker[], tags: readonly Tag[]) => TagChange<T>;

export interface TrackerTag extends Tag {
  readonly tracker_id: string;
}

export interface ConfigurationChange<T> {
  readonly configuration: CtsConfiguration;
  readonly traces?: readonly Trace[];
  readonly result: T;
}

export type ConfigurationPlanner<T> = (
  trackers: readonly Tracker[],
  current: CtsConfiguration | undefined,
) => ConfigurationChange<T>;

export class ProjectConflictError extends Error {
  override name = 'ProjectConflictError';
}

/**
 * The right of one instance to work on a named piece of shared work (a tracker's delivery and
 * digest chain, a consumer cursor) until `expires_at`. `generation` grows each time the holder
 * changes: a write fenced with an older generation is refused (LeaseLostError), so an instance
 * that paused past its lease cannot write over its successor's progress.
 */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly generation: number;
  /** ms since the epoch, by the store's clock. */
  readonly expires_at: number;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Resolves when the store answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** Finishes queued writes, then releases the connection(s). */
  close(): Promise<void>;

  /** Creates the project, or returns the existing one; a different domain is a ProjectConflictError. */
  ensureProject(project: Project): Promise<Project>;
  getProject(projectId: string): Promise<Project | undefined>;
  listProjects(): Promise<Project[]>;

  /** Creates the user, or returns the existing one of that domain and name. */
  ensureUser(user: User): Promise<User>;
  getUser(domainId: string, userName: string): Promise<User | undefined>;
  listUsers(filter?: { domain_id?: string }): Promise<User[]>;
  /** Deletes the user and revokes every access key of theirs; false when there was no such user. */
  deleteUser(domainId: string, userName: string, at: number): Promise<boolean>;

  addCredential(credential: Credential): Promise<void>;
  getCredential(accessKeyId: string): Promise<Credential | undefined>;
  listCredentials(filter?: { project_id?: string }): Promise<Credential[]>;
  /** Returns false when the key does not exist or was already revoked. */
  revokeCredential(accessKeyId: string, at: number): Promise<boolean>;

  listTrackers(projectId: string): Promise<Tracker[]>;
  /**
   * Decides and commits a change to a project's trackers and the traces that record it, in one
   * transaction (group-committed with concurrent writes). The planner may also only add traces
   * (ingest, failed calls): recording depends on the trackers it sees.
   */
  changeTrackers<T>(projectId: string, planner: TrackerPlanner<T>): Promise<T>;

  listTraces(query: TraceQuery): Promise<TracePage>;
  /** Where a trace sits in its scope, for `next` markers; undefined when it is not there. */
  findTracePosition(
    projectId: string,
    eventType: 'system' | 'data',
    trackerName: string | undefined,
    traceId: string,
  ): Promise<TracePosition | undefined>;
  /**
   * Removes up to `batch` traces recorded before `recordedBefore`, oldest first, never one that a
   * consumer cursor has not passed yet. Returns how many were removed.
   */
  purgeTraces(recordedBefore: number, batch: number): Promise<number>;
  /** Durable progress of a trace consumer (delivery worker, notifier): the last seq it handled. */
  getCursor(consumer: string): Promise<number | undefined>;
  setCursor(consumer: string, seq: number): Promise<void>;
  deleteCursor(consumer: string): Promise<void>;
  listCursors(): Promise<Array<{ consumer: string; seq: number }>>;

  /** Every tracker of every project (background workers). */
  listAllTrackers(): Promise<Tracker[]>;
  /** Highest trace seq of a tracker's traces so far (0 when none). */
  maxTraceSeq(projectId: string, trackerName: string): Promise<number>;
  /** A tracker's traces with afterSeq < seq ≤ upToSeq, in commit order, at most `limit`. */
  readTracesForDelivery(
    projectId: string,
    trackerName: string,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; trace: Trace }>>;
  getDeliveryState(trackerId: string): Promise<DeliveryState | undefined>;
  /** With `fence`, only while that lease is still current (else LeaseLostError, nothing written). */
  putDeliveryState(state: DeliveryState, fence?: Lease): Promise<void>;
  /** Records the batch's files and moves the cursor past it, in one transaction (fenced as above). */
  completeDelivery(state: DeliveryState, files: readonly DeliveredFile[], fence?: Lease): Promise<void>;
  /** Files delivered before `before` that no digest lists yet. */
  undigestedFiles(trackerId: string, before: number): Promise<DeliveredFile[]>;
  /** Marks the files as listed by the digest and records the new chain head, in one transaction (fenced). */
  completeDigest(state: DeliveryState, digestKey: string, fileKeys: readonly string[], fence?: Lease): Promise<void>;
  deleteDeliveryState(trackerId: string): Promise<void>;
  listDeliveryStates(): Promise<DeliveryState[]>;

  /** Every tag of the project's trackers, by tracker id then key. */
  listTags(projectId: string): Promise<TrackerTag[]>;
  /**
   * Replaces one tracker's tags and records the change's traces, in one transaction. The planner
   * sees the trackers and that tracker's tags as they are inside it, and may throw to refuse.
   * Deleting a tracker deletes its tags.
   */
  changeTags<T>(projectId: string, trackerId: string, planner: TagPlanner<T>): Promise<T>;

  /** The project's configuration (spec §1.10), undefined when it was never set. */
  getConfiguration(projectId: string): Promise<CtsConfiguration | undefined>;
  /** Replaces the project's configuration and records the change's traces, in one transaction. */
  changeConfiguration<T>(projectId: string, planner: ConfigurationPlanner<T>): Promise<T>;

  /** Every (service, resource type, trace name) of the project's recorded traces, kept at insert time. */
  listSeenOperations(projectId: string): Promise<OperationEntry[]>;
  /** Every (service, resource type) of the recorded traces of the domain's projects. */
  listSeenResources(domainId: string): Promise<Array<Pick<OperationEntry, 'service_type' | 'resource_type'>>>;
  /** Names of the users with a recorded trace of the project whose event time is ≥ since (to the minute). */
  listActiveUsers(projectId: string, since: number): Promise<string[]>;

  /**
   * Takes the lease `name` for `holder` when it is free or expired, or renews it when `holder`
   * holds it; undefined while another holder's lease runs.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Ends the lease at once if it is still current (a clean stop hands the work over). */
  releaseLease(lease: Lease): Promise<void>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Adds a key and retires the others (they stay listed for verification). */
  addSigningKey(key: SigningKeyRecord): Promise<void>;

  /** Key-event notifications and their topics (spec §1.7). */
  listNotifications(projectId: string): Promise<Notification[]>;
  listTopics(projectId: string): Promise<Topic[]>;
  /**
   * Decides and commits a change to a project's notifications and topics (and dead-letter retry
   * requests) with the traces that record it, in one transaction. An enabled notification gets
   * its delivery cursor at the newest trace committed before the change; disabling or deleting
   * one removes its cursor, so it never holds back the retention purge.
   */
  changeNotifications<T>(projectId: string, planner: NotificationPlanner<T>): Promise<T>;
  /** Every enabled notification of every project (the notifier). */
  listEnabledNotifications(): Promise<Notification[]>;
  /** A topic with its secret opened (the notifier signs with it). */
  getTopicSecret(projectId: string, urn: string): Promise<TopicWithSecret | undefined>;
  /** Moves a notification's cursor forward; false when it has none (disabled or deleted meanwhile). */
  advanceNotificationCursor(notificationId: string, seq: number): Promise<boolean>;
  /**
   * Records a message that could not be delivered (once per notification and trace: a repeat adds
   * its attempts). The caller moves the cursor past it afterwards, with the messages around it.
   */
  deadLetterNotification(letter: DeadLetter): Promise<void>;
  listDeadLetters(projectId: string): Promise<DeadLetter[]>;
  /** Dead letters whose retry was requested (the notifier re-sends them). */
  listRetryRequested(limit: number): Promise<DeadLetter[]>;
  /** A retried dead letter was delivered: it leaves the list. */
  resolveDeadLetter(id: string): Promise<void>;
  /** A retried dead letter failed again: it stays, with its new count and error. */
  failDeadLetterRetry(id: string, attempts: number, error: string, at: number): Promise<void>;
  /**
   * Calls `listener` after every commit that added traces (the notifier wakes on it instead of
   * polling); returns the function that unsubscribes. Other processes' commits are not seen on
   * SQLite; on PostgreSQL they are, best effort (LISTEN/NOTIFY; the notifier's poll is the guarantee).
   */
  onTracesCommitted(listener: () => void): () => void;
}

/** The trace-cursor consumer name of a notification's delivery. */
export function notificationConsumer(notificationId: string): string {
  return `notify:${notificationId}`;
}

export interface TopicWithSecret extends Topic {
  /** The HMAC-SHA256 key of the topic's webhook signatures (plaintext; sealed at rest). */
  readonly secret: string;
}

/** A notification message that failed MAX attempts in a row (OpenCTS extension). */
export interface DeadLetter {
  readonly id: string;
  readonly project_id: string;
  readonly notification_id: string;
  readonly notification_name: string;
  readonly topic_urn: string;
  readonly trace_id: string;
  readonly trace_seq: number;
  /** The webhook body as it was sent (JSON text). */
  readonly body: string;
  readonly attempts: number;
  readonly last_error: string;
  readonly failed_at: number;
  readonly retry_requested_at: number | null;
}

export interface NotificationState {
  readonly notifications: readonly Notification[];
  readonly topics: readonly Topic[];
  readonly trackers: readonly Tracker[];
  /** The project's dead letters, read on demand. */
  deadLetters(): DeadLetter[];
}

export interface NotificationChange<T> {
  readonly upsert?: readonly Notification[];
  readonly remove?: readonly string[];
  readonly addTopics?: readonly TopicWithSecret[];
  readonly removeTopics?: readonly string[];
  /** Dead letters (ids) to send again. */
  readonly retryDeadLetters?: readonly string[];
  readonly traces?: readonly Trace[];
  readonly result: T;
}

export type NotificationPlanner<T> = (state: NotificationState) => NotificationChange<T>;

/** Durable progress of one tracker's delivery and digest chain. */
export interface DeliveryState {
  readonly tracker_id: string;
  readonly project_id: string;
  /** Every trace with seq ≤ cursor_seq has been delivered (or was excluded). */
  readonly cursor_seq: number;
  /** A batch being delivered: cursor_seq < seq ≤ pending_to, named after pending_time. */
  readonly pending_to: number | null;
  readonly pending_time: number | null;
  /**
   * JSON of the tracker's obs_info when the batch was planned: a retry writes the same keys to
   * the same bucket even if the tracker's layout changed meanwhile.
   */
  readonly pending_layout: string | null;
  /** Start of the digest period in progress (null: digests not started). */
  readonly digest_start: number | null;
  /** JSON of the chain head (PreviousDigest), null before the first digest. */
  readonly last_digest: string | null;
}

export interface DeliveredFile {
  readonly tracker_id: string;
  readonly bucket: string;
  readonly object_key: string;
  readonly sha256: string;
  readonly size: number;
  readonly trace_count: number;
  readonly oldest_time: number;
  readonly newest_time: number;
  readonly delivered_at: number;
}

export interface SigningKeyRecord {
  readonly fingerprint: string;
  readonly public_key_pem: string;
  /** The PEM private key, sealed with the master key by the caller. */
  readonly private_key_sealed: string;
  readonly created_at: number;
  readonly retired_at: number | null;
}

export { TRACE_FILTER_NAMES as TRACE_FILTERS, type TraceFilter } from '../core/trace/trace-filter.js';
import type { TraceFilter } from '../core/trace/trace-filter.js';

export interface TraceQuery {
  readonly projectId: string;
  readonly eventType: 'system' | 'data';
  /** Undefined only for data traces of every data tracker. */
  readonly trackerName: string | undefined;
  /** Exclusive bounds on the event time, ms. */
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  /** Keyset position: return traces strictly older than this one (newest first). */
  readonly after?: TracePosition | undefined;
  readonly filters: Readonly<Partial<Record<TraceFilter, string>>>;
  /** When set, every other filter is ignored (spec §1.6). */
  readonly traceId?: string | undefined;
}

export interface TracePosition {
  readonly time: number;
  readonly traceId: string;
}

export interface TracePage {
  /** Each trace as its §2.1 wire JSON text, newest first. */
  readonly wire: readonly string[];
  /** Position of the last trace returned, when more traces follow. */
  readonly next: TracePosition | undefined;
}
