/**
 * Two notifiers on one store (as two instances on one PostgreSQL database would be): each
 * notification is pumped by the holder of its lease only, so every matching trace reaches the
 * webhook once, not once per instance; when the holder stops, the other takes over from the cursor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Notifier } from '../../src/notify/notifier.js';
import { createCtsClient, type CtsClient } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const idempotencyKeys = (hook: WebhookReceiver) => hook.messages.map((m) => String(m.headers['idempotency-key']));

async function waitFor(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('notifiers of several instances share the work through leases', () => {
  let svc: TestService;
  let cts: CtsClient;
  let hook: WebhookReceiver;
  let second: Notifier;

  before(async () => {
    svc = await startTestService();
    const pid = svc.credential.project_id;
    cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    hook = await startWebhookReceiver();
    // A second instance's notifier on the same store, under another holder name.
    second = new Notifier({
      store: svc.service.runtime.store,
      logger: pino({ level: 'silent' }),
      retryBaseMs: 10,
      instanceId: 'second-instance',
    });
    second.start();
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
    const urn = `urn:smn:local-1:${pid}:leased`;
    const topic = await signedFetch(svc.url, svc.credential, {
      path: `/opencts/v1/${pid}/topics`,
      body: { urn, url: hook.url },
    });
    assert.equal(topic.status, 201, topic.text);
    await cts.createNotification({
      notification_name: 'everything',
      operation_type: 'complete',
      topic_id: urn,
    });
  });
  after(async () => {
    await second.stop();
    await svc.close();
    await hook.close();
  });

  test('each matching trace is sent once, not once per notifier', async () => {
    const before = hook.messages.length;
    for (let i = 0; i < 20; i++) {
      await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', is_lts_enabled: i % 2 === 0 });
    }
    await waitFor(() => hook.messages.length >= before + 20, '20 messages');
    await sleep(1500); // both notifiers poll every second: a second copy would arrive by now
    const keys = idempotencyKeys(hook);
    assert.equal(new Set(keys).size, keys.length, `duplicates: ${keys.length - new Set(keys).size}`);
  });

  test('when the lease holder stops, the other notifier takes over from the cursor', async () => {
    // Whichever holds the lease, stopping the service's own notifier releases its leases; the
    // second one (if it did not hold it already) takes over at its next poll.
    await svc.service.notifier.stop();
    const before = hook.messages.length;
    for (let i = 0; i < 5; i++) {
      await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', is_lts_enabled: i % 2 === 0 });
    }
    await waitFor(() => hook.messages.length >= before + 5, '5 messages after the takeover');
    const keys = idempotencyKeys(hook);
    assert.equal(new Set(keys).size, keys.length);
  });
});
