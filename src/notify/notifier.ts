/**
 * Delivers key-event notifications: every trace the system tracker records is matched against the
 * project's enabled notifications, and each match is POSTed to the notification's topic webhook.
 *
 * At least once: each notification has a durable cursor over the trace sequence that moves only
 * after its webhook answered 2xx, or after the message went to the dead-letter list (in the same
 * transaction). A crash resends from the cursor; the idempotency key lets the receiver drop the
 * repeats. Each notification is pumped on its own, so one failing webhook delays only its own
 * messages. The store signals every commit that added traces: a new trace is sent at once, and a
 * slow poll catches what another process committed and dead letters whose retry was requested.
 *
 * Several instances on one store: each notification is pumped by the holder of its lease
 * (`notify:<id>`), and requested dead-letter retries by the holder of `notify-retries`, so a
 * message is not sent once per instance. A lease outlives its last renewal by LEASE_TTL_MS: when
 * an instance dies, another takes over from the durable cursor (at least once, as after a crash).
 */
import type { Logger } from 'pino';
import { uuidv7 } from '../core/ids.js';
import { notificationMatches } from '../core/notification/notification-match.js';
import type { Notification } from '../core/notification/notification.js';
import { SYSTEM_TRACKER_NAME } from '../core/tracker/tracker.js';
import { toWireTrace } from '../core/trace/wire.js';
import type { Trace } from '../core/trace/trace.js';
import { notificationConsumer, type DeadLetter, type Lease, type Store } from '../store/store.js';
import { PROCESS_INSTANCE_ID } from '../delivery/delivery-worker.js';
import {
  IDEMPOTENCY_HEADER,
  NOTIFICATION_ID_HEADER,
  SIGNATURE_HEADER,
  TOPIC_HEADER,
  idempotencyKey,
  postWebhook,
  signBody,
  webhookMessage,
  type SendOutcome,
} from './webhook.js';

/** Attempts per message before it is dead-lettered. */
export const MAX_ATTEMPTS = 5;
/** Traces read per step; a crash resends at most one batch's messages. */
const BATCH = 200;
/** Messages of one notification in flight at once. */
const PARALLEL = 8;
const MAX_BACKOFF_MS = 60_000;
const RETRY_BATCH = 100;
/** A pump renews its lease every batch; a batch of retried messages takes at most ~2 × 15 s. */
export const LEASE_TTL_MS = 60_000;
const RETRIES_LEASE = 'notify-retries';

export interface NotifierDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** First retry delay; each further one doubles (with jitter). */
  readonly retryBaseMs: number;
  /** Fallback scan interval (commits of this process wake the notifier at once). */
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Names this notifier in its leases (default: this process, shared with the delivery worker). */
  readonly instanceId?: string;
}

interface Pump {
  again: boolean;
  readonly done: Promise<void>;
}

export class Notifier {
  private readonly pumps = new Map<string, Pump>();
  private retrying: Promise<void> | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = true;
  private abort = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly instanceId: string;
  /** Leases this notifier holds: released on stop, so another instance takes over at once. */
  private readonly held = new Map<string, Lease>();

  constructor(private readonly deps: NotifierDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.instanceId = deps.instanceId ?? PROCESS_INSTANCE_ID;
  }

  /** Takes or renews a lease; undefined while another instance holds it. */
  private async lease(name: string): Promise<Lease | undefined> {
    const lease = await this.deps.store.acquireLease(name, this.instanceId, LEASE_TTL_MS);
    if (lease) this.held.set(name, lease);
    else this.held.delete(name);
    return lease;
  }

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.unsubscribe = this.deps.store.onTracesCommitted(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.deps.pollIntervalMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  /** Stops at once: messages in flight or waiting to be retried keep their place (the cursor did not move). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await this.scanning;
    await Promise.all([...[...this.pumps.values()].map((p) => p.done), this.retrying]);
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map((l) => this.deps.store.releaseLease(l).catch(() => undefined)));
  }

  /** Looks for work now (new traces, changed notifications, requested retries). */
  wake(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'notification scan failed'))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.wake();
        }
      });
  }

  private async scan(): Promise<void> {
    for (const n of await this.deps.store.listEnabledNotifications()) {
      const running = this.pumps.get(n.notification_id);
      if (running) {
        running.again = true;
        continue;
      }
      const pump: Pump = { again: false, done: Promise.resolve() };
      (pump as { done: Promise<void> }).done = this.runPump(n, pump)
        .catch((err: unknown) =>
          this.deps.logger.error({ err, notification: n.notification_id }, 'notification delivery failed'),
        )
        .finally(() => this.pumps.delete(n.notification_id));
      this.pumps.set(n.notification_id, pump);
    }
    this.retrying ??= this.retryDeadLetters()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'dead-letter retry failed'))
      .finally(() => (this.retrying = undefined));
  }

  /**
   * Sends one notification's messages from its cursor until there is nothing new: a batch's
   * matching traces go out PARALLEL at a time (so one slow answer does not hold the others), and
   * the cursor moves past the batch once every one of its messages was answered 2xx or
   * dead-lettered. Messages may therefore arrive out of order, and a crash resends at most a batch.
   */
  private async runPump(initial: Notification, pump: Pump): Promise<void> {
    const { store } = this.deps;
    const id = initial.notification_id;
    for (;;) {
      pump.again = false;
      if (this.stopped) return;
      // Renewed every batch; while another instance holds it, that instance sends these messages.
      if (!(await this.lease(`notify:${id}`))) return;
      const cursor = await store.getCursor(notificationConsumer(id));
      const n = (await store.listNotifications(initial.project_id)).find((x) => x.notification_id === id);
      if (cursor === undefined || !n || n.status !== 'enabled') return;
      const rows = await store.readTracesForDelivery(
        n.project_id,
        SYSTEM_TRACKER_NAME,
        cursor,
        Number.MAX_SAFE_INTEGER,
        BATCH,
      );
      const matching = rows.filter((row) => notificationMatches(n, row.trace));
      let next = 0;
      const worker = async () => {
        while (next < matching.length && !this.stopped) {
          const row = matching[next++]!;
          await this.deliver(n, row.trace, row.seq);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, matching.length) }, worker));
      // A message cut short by stop() was neither answered nor dead-lettered: the cursor stays.
      if (this.stopped) return;
      if (rows.length > 0 && !(await store.advanceNotificationCursor(id, rows[rows.length - 1]!.seq))) return;
      if (rows.length < BATCH && !pump.again) return;
    }
  }

  /** Delivers one message (with retries); dead-letters it when every attempt failed. */
  private async deliver(n: Notification, trace: Trace, seq: number): Promise<'sent' | 'dead' | 'stopped'> {
    const topicUrn = n.topic_id ?? '';
    const body = JSON.stringify(webhookMessage(n, topicUrn, toWireTrace(trace)));
    const key = idempotencyKey(trace.trace_id, n.notification_id);
    const { outcome, attempts } = await this.attempt(n.project_id, n.notification_id, topicUrn, body, key);
    if (outcome.ok) return 'sent';
    // An attempt cut short by stop() is no failure of the webhook.
    if (this.stopped) return 'stopped';
    const letter: DeadLetter = {
      id: uuidv7(this.now()),
      project_id: n.project_id,
      notification_id: n.notification_id,
      notification_name: n.notification_name,
      topic_urn: topicUrn,
      trace_id: trace.trace_id,
      trace_seq: seq,
      body,
      attempts,
      last_error: outcome.error,
      failed_at: this.now(),
      retry_requested_at: null,
    };
    await this.deps.store.deadLetterNotification(letter);
    this.deps.logger.warn(
      { notification: n.notification_id, trace: trace.trace_id, error: outcome.error, attempts },
      'notification message dead-lettered',
    );
    return 'dead';
  }

  /** Up to MAX_ATTEMPTS sends, waiting base·2^(n−1) (half of it random) between them. */
  private async attempt(
    projectId: string,
    notificationId: string,
    topicUrn: string,
    body: string,
    key: string,
  ): Promise<{ outcome: SendOutcome; attempts: number }> {
    let outcome: SendOutcome = { ok: false, error: 'not sent' };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (this.stopped) return { outcome, attempts: attempt - 1 };
      // Looked up per attempt: a topic whose URL was fixed meanwhile is used at once.
      const topic = await this.deps.store.getTopicSecret(projectId, topicUrn);
      outcome = topic
        ? await postWebhook(
            topic.url,
            body,
            {
              [SIGNATURE_HEADER]: signBody(topic.secret, body),
              [IDEMPOTENCY_HEADER]: key,
              [NOTIFICATION_ID_HEADER]: notificationId,
              [TOPIC_HEADER]: topicUrn,
            },
            this.deps.timeoutMs ?? 10_000,
            this.abort.signal,
          )
        : { ok: false, error: 'the topic is not registered' };
      if (outcome.ok || attempt === MAX_ATTEMPTS) return { outcome, attempts: attempt };
      await this.sleep(this.backoff(attempt));
    }
    return { outcome, attempts: MAX_ATTEMPTS };
  }

  private backoff(attempt: number): number {
    const full = Math.min(MAX_BACKOFF_MS, this.deps.retryBaseMs * 2 ** (attempt - 1));
    return full / 2 + (full / 2) * this.random();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /** Sends again the dead letters whose retry was requested; each keeps its idempotency key. */
  private async retryDeadLetters(): Promise<void> {
    const { store } = this.deps;
    for (const letter of await store.listRetryRequested(RETRY_BATCH)) {
      // Renewed per letter (each may take several attempts); held by one instance at a time.
      if (this.stopped || !(await this.lease(RETRIES_LEASE))) return;
      const key = idempotencyKey(letter.trace_id, letter.notification_id);
      const { outcome, attempts } = await this.attempt(
        letter.project_id,
        letter.notification_id,
        letter.topic_urn,
        letter.body,
        key,
      );
      if (this.stopped) return;
      if (outcome.ok) await store.resolveDeadLetter(letter.id);
      else await store.failDeadLetterRetry(letter.id, letter.attempts + attempts, outcome.error, this.now());
    }
  }
}
