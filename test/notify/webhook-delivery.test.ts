/**
 * Notification delivery to a real local webhook (node:http): matching by operations and filter,
 * the HMAC-SHA256 signature (verified here independently of the server's code), the idempotency
 * key, and the dead-letter list after 5 failed attempts with its retry through the API and CLI.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../support/cli.js';
import { createCtsClient, type CtsClient } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startWebhookReceiver, type ReceivedMessage, type WebhookReceiver } from '../support/webhook-receiver.js';

interface Message {
  notification_id: string;
  notification_name: string;
  notification_type: string;
  topic_id: string;
  project_id: string;
  notify_user_list: Array<{ user_group: string; user_list: string[] }>;
  trace: Record<string, unknown> & { trace_id: string; trace_name: string; trace_rating: string };
}

const parse = (m: ReceivedMessage) => JSON.parse(m.body) as Message;

/** What a receiver does: HMAC-SHA256 of the raw body with the topic secret, compared in constant time. */
function signatureValid(m: ReceivedMessage, secret: string): boolean {
  const header = String(m.headers['x-opencts-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(m.body).digest('hex')}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

describe('notification delivery to webhooks', () => {
  let svc: TestService;
  let cts: CtsClient;
  let pid: string;
  let ok: WebhookReceiver;
  let failing: WebhookReceiver;
  const secrets = new Map<string, string>();

  async function topic(name: string, url: string): Promise<string> {
    const urn = `urn:smn:local-1:${pid}:${name}`;
    const res = await signedFetch(svc.url, svc.credential, { path: `/opencts/v1/${pid}/topics`, body: { urn, url } });
    assert.equal(res.status, 201, res.text);
    secrets.set(urn, (res.json as { secret: string }).secret);
    return urn;
  }

  before(async () => {
    svc = await startTestService({ config: { notifyRetryBaseMs: 10 } });
    pid = svc.credential.project_id;
    cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    ok = await startWebhookReceiver();
    failing = await startWebhookReceiver();
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
  });
  after(async () => {
    await svc.close();
    await ok.close();
    await failing.close();
  });

  test('matching traces reach the webhook signed, with the idempotency key, the trace and the user list', async () => {
    const urn = await topic('ops', ok.url);
    const n = await cts.createNotification({
      notification_name: 'trackerChanges',
      operation_type: 'customized',
      operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['createTracker', 'deleteTracker'] }],
      notify_user_list: [{ user_group: 'admin', user_list: ['ops1'] }],
      topic_id: urn,
    });
    const warnings = await cts.createNotification({
      notification_name: 'refusedWrites',
      operation_type: 'complete',
      filter: { condition: 'AND', is_support_filter: true, rule: ['trace_rating = warning', 'code != 404'] },
      topic_id: urn,
    });
    const start = ok.messages.length;
    // Matches trackerChanges: createTracker (201), then deleteTracker (204).
    await cts
      .createTracker({
        tracker_type: 'data',
        tracker_name: 'photos',
        data_bucket: { data_bucket_name: 'nowhere', data_event: ['READ'] },
      })
      .catch(() => undefined);
    // The bucket does not exist: a refused createTracker (400, warning) matches refusedWrites and trackerChanges.
    // updateTracker of the system tracker matches neither.
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    const traces = (await cts.listTraces({ trace_type: 'system', limit: 50 })).traces;
    const refused = traces.find((t) => t.trace_name === 'createTracker' && t.code === '400');
    const update = traces.find((t) => t.trace_name === 'updateTracker');
    assert.ok(refused && update, 'the traces were recorded');
    await ok.waitFor((ms) => ms.slice(start).filter((m) => parse(m).trace.trace_id === refused.trace_id).length >= 2);
    await sleep(300); // anything else that would (wrongly) arrive has time to
    const received = ok.messages.slice(start);
    for (const m of received) {
      const body = parse(m);
      assert.ok(signatureValid(m, secrets.get(urn)!), 'the signature verifies with the topic secret');
      assert.equal(m.headers['idempotency-key'], `${body.trace.trace_id}:${body.notification_id}`);
      assert.equal(m.headers['x-opencts-topic-urn'], urn);
      assert.equal(m.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(body.topic_id, urn);
      assert.equal(body.project_id, pid);
    }
    const byNotification = (id: string) => received.map(parse).filter((b) => b.notification_id === id);
    const changes = byNotification(n.notification_id!);
    assert.deepEqual(
      changes.map((b) => [b.trace.trace_id, b.notification_name]),
      [[refused.trace_id, 'trackerChanges']],
    );
    assert.deepEqual(changes[0]!.notify_user_list, [{ user_group: 'admin', user_list: ['ops1'] }]);
    // The trace in its wire shape (§2.1): the stored-only fields are not there, code is a string.
    assert.equal(changes[0]!.trace['code'], '400');
    assert.equal(changes[0]!.trace['service_type'], 'CTS');
    assert.equal('tracker_name' in changes[0]!.trace, false);
    assert.deepEqual(
      byNotification(warnings.notification_id!).map((b) => b.trace.trace_id),
      [refused.trace_id],
    );
    assert.ok(!received.some((m) => parse(m).trace.trace_id === update.trace_id), 'updateTracker matched nothing');
    // A disabled notification sends nothing.
    await cts.updateNotification({
      notification_id: warnings.notification_id!,
      notification_name: 'refusedWrites',
      operation_type: 'complete',
      status: 'disabled',
      topic_id: urn,
    });
    const mark = ok.messages.length;
    await cts
      .createTracker({
        tracker_type: 'data',
        tracker_name: 'photos2',
        data_bucket: { data_bucket_name: 'nowhere', data_event: ['READ'] },
      })
      .catch(() => undefined);
    await ok.waitFor((ms) => ms.length > mark);
    await sleep(300);
    assert.deepEqual(
      ok.messages.slice(mark).map((m) => parse(m).notification_name),
      ['trackerChanges'],
    );
  });

  test('a webhook failing 5 times in a row sends the message to the dead-letter list; later messages still flow; retry delivers it', async () => {
    failing.answer(500);
    const urn = await topic('broken', failing.url);
    const n = await cts.createNotification({
      notification_name: 'toBroken',
      operation_type: 'complete',
      topic_id: urn,
    });
    const listFailures = async () => {
      const res = await signedFetch(svc.url, svc.credential, { path: `/opencts/v1/${pid}/notifications/failures` });
      assert.equal(res.status, 200, res.text);
      return (
        res.json as { failures: Array<Record<string, unknown> & { id: string; trace_id: string; attempts: number }> }
      ).failures;
    };
    // One trace: createNotification of another notification (recorded after toBroken's cursor).
    const probe = await cts.createNotification({ notification_name: 'probe', operation_type: 'complete' });
    const probeTrace = (
      await cts.listTraces({ trace_type: 'system', trace_name: 'createNotification', limit: 10 })
    ).traces.find((t) => t.resource_id === probe.notification_id)!;
    const key = `${probeTrace.trace_id}:${n.notification_id}`;
    await failing.waitFor((ms) => ms.filter((m) => m.headers['idempotency-key'] === key).length >= 5);
    let failures: Awaited<ReturnType<typeof listFailures>> = [];
    // toBroken's own createNotification trace dead-letters first (a notification reports from its creation on).
    for (let i = 0; i < 100 && !failures.some((f) => f.trace_id === probeTrace.trace_id); i++) {
      failures = await listFailures();
      await sleep(50);
    }
    const letter = failures.find((f) => f.trace_id === probeTrace.trace_id);
    assert.ok(letter, JSON.stringify(failures));
    assert.equal(letter.attempts, 5);
    assert.equal(letter['last_error'], 'HTTP 500');
    assert.equal(letter['notification_id'], n.notification_id);
    assert.equal(failing.messages.filter((m) => m.headers['idempotency-key'] === key).length, 5, 'exactly 5 attempts');
    // The CLI lists the same dead letter.
    const cli = await runCli(['notifications', 'failures', '--data-dir', svc.dataDir, '--project-id', pid, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok((JSON.parse(cli.stdout) as Array<{ id: string }>).some((f) => f.id === letter.id));
    const human = await runCli(['notifications', 'failures', '--data-dir', svc.dataDir, '--project-id', pid]);
    assert.match(human.stdout, /toBroken/);

    // The webhook recovers: later traces flow (the cursor moved past the dead letter) ...
    failing.answer(200);
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    await failing.waitFor((ms) => ms.some((m) => m.status === 200 && parse(m).trace.trace_name === 'updateTracker'));
    assert.ok(
      !failing.messages.some((m) => m.status === 200 && m.headers['idempotency-key'] === key),
      'not resent by itself',
    );
    // ... and the retry (through the API) sends the dead letter again with the same key.
    const retry = await signedFetch(svc.url, svc.credential, {
      path: `/opencts/v1/${pid}/notifications/failures/retry`,
      body: { ids: [letter.id] },
    });
    assert.equal(retry.status, 200, retry.text);
    assert.deepEqual((retry.json as { retried: string[] }).retried, [letter.id]);
    await failing.waitFor((ms) => ms.some((m) => m.status === 200 && m.headers['idempotency-key'] === key));
    const resent = failing.messages.find((m) => m.status === 200 && m.headers['idempotency-key'] === key)!;
    assert.ok(signatureValid(resent, secrets.get(urn)!));
    for (let i = 0; i < 100 && (await listFailures()).some((f) => f.id === letter.id); i++) await sleep(50);
    assert.ok(!(await listFailures()).some((f) => f.id === letter.id), 'a delivered retry leaves the list');
    const unknown = await signedFetch(svc.url, svc.credential, {
      path: `/opencts/v1/${pid}/notifications/failures/retry`,
      body: { ids: ['01900000-0000-7000-8000-000000000000'] },
    });
    assert.equal(unknown.status, 404);
    // No body at all means every dead letter of the project (here: toBroken's first one is left).
    const left = (await listFailures()).map((f) => f.id).sort();
    assert.equal(left.length, 1);
    const all = await signedFetch(svc.url, svc.credential, {
      method: 'POST',
      path: `/opencts/v1/${pid}/notifications/failures/retry`,
    });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual((all.json as { retried: string[] }).retried.sort(), left);
  });

  test('retry through the CLI: a dead letter is sent again by the running server', async () => {
    failing.answer(503);
    const urn = await topic('broken2', failing.url);
    const n = await cts.createNotification({
      notification_name: 'toBroken2',
      operation_type: 'complete',
      topic_id: urn,
    });
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    const listed = async () => {
      const cli = await runCli(['notifications', 'failures', '--data-dir', svc.dataDir, '--project-id', pid, '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      return (JSON.parse(cli.stdout) as Array<{ id: string; notification_id: string; last_error: string }>).filter(
        (f) => f.notification_id === n.notification_id,
      );
    };
    // Two messages: the notification's own createNotification trace and the updateTracker one.
    let letters = await listed();
    for (let i = 0; i < 50 && letters.length < 2; i++) {
      await sleep(100);
      letters = await listed();
    }
    assert.equal(letters.length, 2);
    assert.equal(letters[0]!.last_error, 'HTTP 503');
    failing.answer(200);
    const retried = await runCli(['notifications', 'retry', '--data-dir', svc.dataDir, '--project-id', pid, '--json']);
    assert.equal(retried.code, 0, retried.stderr);
    const ids = (JSON.parse(retried.stdout) as { retried: string[] }).retried;
    for (const l of letters) assert.ok(ids.includes(l.id), 'retry without --id retries every failure');
    // Picked up by the server's poll (another process wrote the request).
    for (let i = 0; i < 100 && (await listed()).length > 0; i++) await sleep(100);
    assert.deepEqual(await listed(), []);
    assert.ok(failing.messages.some((m) => m.status === 200 && parse(m).notification_id === n.notification_id));
  });
});
