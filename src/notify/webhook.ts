/**
 * Webhook messages of key-event notifications (OpenCTS's stand-in for SMN/FunctionGraph): a JSON
 * POST signed with the topic's secret, carrying an idempotency key so that a receiver can drop the
 * duplicates at-least-once delivery may produce.
 *
 * Verifying a message: compute HMAC-SHA256 over the raw request body bytes with the topic secret
 * (its text, UTF-8) as the key, hex-encode it, and compare it in constant time with the value of
 * `X-OpenCTS-Signature` after its `sha256=` prefix.
 */
import { createHmac } from 'node:crypto';
import type { Notification } from '../core/notification/notification.js';
import type { WireTrace } from '../core/trace/wire.js';

export const SIGNATURE_HEADER = 'X-OpenCTS-Signature';
export const SIGNATURE_PREFIX = 'sha256=';
/** `{trace_id}:{notification_id}`: the same for every delivery of one trace to one notification. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const NOTIFICATION_ID_HEADER = 'X-OpenCTS-Notification-Id';
export const TOPIC_HEADER = 'X-OpenCTS-Topic-Urn';

export interface WebhookMessage {
  readonly notification_id: string;
  readonly notification_name: string;
  readonly notification_type: string;
  readonly topic_id: string;
  readonly project_id: string;
  readonly notify_user_list: Notification['notify_user_list'];
  readonly trace: WireTrace;
}

export function webhookMessage(n: Notification, topicUrn: string, trace: WireTrace): WebhookMessage {
  return {
    notification_id: n.notification_id,
    notification_name: n.notification_name,
    notification_type: n.notification_type,
    topic_id: topicUrn,
    project_id: n.project_id,
    notify_user_list: n.notify_user_list,
    trace,
  };
}

export function idempotencyKey(traceId: string, notificationId: string): string {
  return `${traceId}:${notificationId}`;
}

export function signBody(secret: string, body: string | Buffer): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

export type SendOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** One POST; only a 2xx answer counts as delivered (redirects are not followed). */
export async function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SendOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    // Read the answer to the end so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}
