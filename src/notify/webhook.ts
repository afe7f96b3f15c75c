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
import http from 'node:http';
import https from 'node:https';
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

/** Keep-alive connections to the webhooks, shared by every message (node:http costs less CPU than fetch). */
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

/** One POST; only a 2xx answer counts as delivered (redirects are not followed). */
export function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, error: 'invalid url' });
      return;
    }
    const secure = target.protocol === 'https:';
    const request = (secure ? https : http).request(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // Read the answer to the end so the connection can be reused.
        res.resume();
        res.on('end', () =>
          resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` }),
        );
        res.on('error', (err) => resolve({ ok: false, error: err.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: Error & { code?: string }) => resolve({ ok: false, error: err.code ?? err.message }));
    request.end(body);
  });
}
