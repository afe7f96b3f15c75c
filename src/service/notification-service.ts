/**
 * Key-event notification use cases (spec §1.7) and their self-hosted topics: each change commits
 * with its own trace through the store's notification transaction, which re-plans against the
 * current state so that name, quota and topic checks hold under concurrent requests.
 */
import { randomBytes } from 'node:crypto';
import { CtsError } from '../core/error-catalog.js';
import { uuidv7 } from '../core/ids.js';
import type { Notification, NotificationInput } from '../core/notification/notification.js';
import {
  filterNotifications,
  planCreateNotification,
  planUpdateNotification,
  selectNotificationsToDelete,
  type NotificationContext,
} from '../core/notification/notification-rules.js';
import { checkTopicUrn, checkWebhookUrl, type Topic } from '../core/notification/topic.js';
import type { AuditedOperation, CallOutcome, RequestFacts } from '../core/trace/audit-trace.js';
import { systemTrackerRecording } from '../core/trace/recording.js';
import type { Trace } from '../core/trace/trace.js';
import type { Tracker } from '../core/tracker/tracker.js';
import type { DeadLetter, Store, TopicWithSecret } from '../store/store.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Caller } from './tracker-service.js';

/** Trace names of the notification operations (CTS names its own operations like this: createTracker). */
export const NOTIFICATION_OPERATIONS = {
  create: { traceName: 'createNotification', resourceType: 'notification' },
  update: { traceName: 'updateNotification', resourceType: 'notification' },
  delete: { traceName: 'deleteNotification', resourceType: 'notification' },
  list: { traceName: 'listNotifications', resourceType: 'notification' },
  failures: { traceName: 'listNotificationFailures', resourceType: 'notification' },
  retry: { traceName: 'retryNotificationFailures', resourceType: 'notification' },
} as const;

export const TOPIC_OPERATIONS = {
  create: { traceName: 'createTopic', resourceType: 'topic' },
  list: { traceName: 'listTopics', resourceType: 'topic' },
  delete: { traceName: 'deleteTopic', resourceType: 'topic' },
} as const;

/** 32 random bytes: the HMAC-SHA256 key of a topic's signatures, shown once. */
function newTopicSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface CreatedTopic extends Topic {
  /** Shown once, on create. */
  readonly secret: string;
}

export interface NotificationServiceDeps {
  readonly store: Store;
  readonly audit: AuditRecorder;
  readonly now?: () => number;
}

export class NotificationService {
  private readonly now: () => number;

  constructor(private readonly deps: NotificationServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  private context(caller: Caller): NotificationContext {
    const now = this.now();
    return { projectId: caller.projectId, domainId: caller.domainId, now, newId: () => uuidv7(now) };
  }

  /** The change's own trace, when the project's system tracker records (none for the local CLI). */
  private tracesOf(
    trackers: readonly Tracker[],
    facts: RequestFacts | undefined,
    operation: AuditedOperation,
    outcome: CallOutcome,
  ): Trace[] {
    return facts && systemTrackerRecording(trackers) ? [this.deps.audit.trace(facts, operation, outcome)] : [];
  }

  async create(caller: Caller, input: NotificationInput, facts: RequestFacts): Promise<Notification> {
    const ctx = this.context(caller);
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      const n = planCreateNotification(state.notifications, state.topics, input, ctx);
      const traces = this.tracesOf(
        state.trackers,
        facts,
        { ...NOTIFICATION_OPERATIONS.create, resourceId: n.notification_id, resourceName: n.notification_name },
        { httpStatus: 201, response: n },
      );
      return { upsert: [n], traces, result: n };
    });
  }

  async update(caller: Caller, input: NotificationInput, facts: RequestFacts): Promise<Notification> {
    const ctx = this.context(caller);
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      const n = planUpdateNotification(state.notifications, state.topics, input, ctx);
      const traces = this.tracesOf(
        state.trackers,
        facts,
        { ...NOTIFICATION_OPERATIONS.update, resourceId: n.notification_id, resourceName: n.notification_name },
        { httpStatus: 200, response: n },
      );
      return { upsert: [n], traces, result: n };
    });
  }

  async list(caller: Caller, type: string, name: string | undefined): Promise<Notification[]> {
    return filterNotifications(await this.deps.store.listNotifications(caller.projectId), type, name);
  }

  async remove(caller: Caller, ids: readonly string[], facts: RequestFacts): Promise<Notification[]> {
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      const removed = selectNotificationsToDelete(state.notifications, ids);
      // One trace per deleted notification, so each resource's history is complete.
      const traces = removed.flatMap((n) =>
        this.tracesOf(
          state.trackers,
          facts,
          { ...NOTIFICATION_OPERATIONS.delete, resourceId: n.notification_id, resourceName: n.notification_name },
          { httpStatus: 204 },
        ),
      );
      return { remove: removed.map((n) => n.notification_id), traces, result: removed };
    });
  }

  /** Registers a topic URN of the caller's project with its webhook; the secret is returned once. */
  async createTopic(
    caller: Caller,
    input: { urn: string; url: string },
    facts: RequestFacts | undefined,
  ): Promise<CreatedTopic> {
    checkTopicUrn(input.urn, caller.projectId);
    const url = checkWebhookUrl(input.url);
    if (!(await this.deps.store.getProject(caller.projectId))) {
      throw new CtsError('CTS.0012', `(project ${caller.projectId} does not exist)`);
    }
    const topic: TopicWithSecret = {
      urn: input.urn,
      project_id: caller.projectId,
      url,
      created_at: this.now(),
      secret: newTopicSecret(),
    };
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      if (state.topics.some((t) => t.urn === topic.urn)) {
        throw new CtsError('CTS.9400', '(this topic urn is registered already)');
      }
      const { secret: _secret, ...shown } = topic;
      const traces = this.tracesOf(
        state.trackers,
        facts,
        { ...TOPIC_OPERATIONS.create, resourceId: topic.urn, resourceName: topic.urn },
        // The trace never holds the secret.
        { httpStatus: 201, response: shown },
      );
      return { addTopics: [topic], traces, result: topic };
    });
  }

  async listTopics(caller: Caller): Promise<Topic[]> {
    return this.deps.store.listTopics(caller.projectId);
  }

  /** Removes a topic no enabled notification sends to (their messages would only dead-letter). */
  async deleteTopic(caller: Caller, urn: string, facts: RequestFacts | undefined): Promise<Topic> {
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      const topic = state.topics.find((t) => t.urn === urn);
      if (!topic) throw new CtsError('CTS.0402');
      const users = state.notifications.filter((n) => n.status === 'enabled' && n.topic_id === urn);
      if (users.length > 0) {
        throw new CtsError(
          'CTS.9400',
          `(the topic is used by enabled notification(s) ${users.map((n) => n.notification_name).join(', ')}: disable them first)`,
        );
      }
      const traces = this.tracesOf(
        state.trackers,
        facts,
        { ...TOPIC_OPERATIONS.delete, resourceId: urn, resourceName: urn },
        { httpStatus: 204 },
      );
      return { removeTopics: [urn], traces, result: topic };
    });
  }

  /** The project's dead letters: messages whose webhook failed every attempt. */
  async failures(caller: Caller): Promise<DeadLetter[]> {
    return this.deps.store.listDeadLetters(caller.projectId);
  }

  /**
   * Asks the notifier to send dead letters again (all of the project's, or the given ids; unknown
   * ids are CTS.9404). Returns the ids that will be retried.
   */
  async retry(caller: Caller, ids: readonly string[] | undefined, facts: RequestFacts | undefined): Promise<string[]> {
    return this.deps.store.changeNotifications(caller.projectId, (state) => {
      const letters = state.deadLetters();
      const known = new Set(letters.map((l) => l.id));
      const unknown = (ids ?? []).filter((id) => !known.has(id));
      if (unknown.length > 0) throw new CtsError('CTS.9404', '(no such failed notification message)');
      const chosen = ids ? [...new Set(ids)] : letters.map((l) => l.id);
      const traces = this.tracesOf(state.trackers, facts, NOTIFICATION_OPERATIONS.retry, {
        httpStatus: 200,
        response: { retried: chosen },
      });
      return { retryDeadLetters: chosen, traces, result: chosen };
    });
  }
}
