/**
 * The stable topic commands: `opencts topics create --data-dir DIR --project-id P --urn URN --url URL`
 * (scripts outside the repository use exactly this), `topics list|delete`, `--json` like the other
 * commands; a topic made here is what a notification created through the API sends to.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { createCtsClient, expectCtsError } from '../support/cts-client.js';
import { makeTempDir, startTestService, type TestService } from '../support/service.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const PROJECT = '0123456789abcdef0123456789abcdef';

describe('opencts topics', () => {
  let svc: TestService;
  let hook: WebhookReceiver;
  const urn = `urn:smn:local-1:${PROJECT}:cli_topic`;
  let secret: string;

  before(async () => {
    svc = await startTestService();
    hook = await startWebhookReceiver();
  });
  after(async () => {
    await svc.close();
    await hook.close();
  });

  const topics = (...args: string[]) => runCli(['topics', ...args, '--data-dir', svc.dataDir]);

  test('create --json prints the topic with its secret once; list --json never shows it', async () => {
    const created = await topics('create', '--project-id', PROJECT, '--urn', urn, '--url', hook.url, '--json');
    assert.equal(created.code, 0, created.stderr);
    const body = JSON.parse(created.stdout) as { urn: string; url: string; secret: string; project_id: string };
    assert.equal(body.urn, urn);
    assert.equal(body.url, hook.url);
    assert.equal(body.project_id, PROJECT);
    assert.match(body.secret, /^[A-Za-z0-9_-]{43}$/);
    secret = body.secret;
    const listed = await topics('list', '--project-id', PROJECT, '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout) as Array<{ urn: string; url: string }>;
    assert.deepEqual(
      list.map((t) => [t.urn, t.url]),
      [[urn, hook.url]],
    );
    assert.ok(!listed.stdout.includes(secret));
    const table = await topics('list', '--project-id', PROJECT);
    assert.match(table.stdout, /^urn\s+url\s+created/m);
    assert.ok(table.stdout.includes(urn));
  });

  test('a notification created through the API sends to a topic made by the CLI, signed with its secret', async () => {
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: PROJECT,
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
    const n = await cts.createNotification({ notification_name: 'fromCli', operation_type: 'complete', topic_id: urn });
    assert.equal(n.status, 'enabled');
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    await hook.waitFor((ms) => ms.some((m) => m.body.includes('"updateTracker"')));
    const m = hook.messages.find((x) => x.body.includes('"updateTracker"'))!;
    assert.equal(
      m.headers['x-opencts-signature'],
      `sha256=${createHmac('sha256', secret).update(m.body).digest('hex')}`,
    );
    // Deleting a topic an enabled notification uses is refused; the message names the notification.
    const refused = await topics('delete', '--project-id', PROJECT, '--urn', urn);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /fromCli/);
    await cts.deleteNotification({ notification_id: n.notification_id! });
    const deleted = await topics('delete', '--project-id', PROJECT, '--urn', urn, '--json');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((JSON.parse(deleted.stdout) as { urn: string }).urn, urn);
    assert.deepEqual(JSON.parse((await topics('list', '--project-id', PROJECT, '--json')).stdout), []);
    await expectCtsError(
      cts.createNotification({ notification_name: 'afterDelete', operation_type: 'complete', topic_id: urn }),
      400,
      'CTS.0402',
    );
  });

  test('refusals: malformed URN, another project in the URN, bad URL, unknown project, unknown topic, missing flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', '--project-id', PROJECT, '--urn', 'urn:smn:x', '--url', hook.url], /urn must be/],
      [
        ['create', '--project-id', PROJECT, '--urn', `urn:smn:local-1:${'f'.repeat(32)}:t`, '--url', hook.url],
        /must name project/,
      ],
      [['create', '--project-id', PROJECT, '--urn', `urn:smn:local-1:${PROJECT}:t`, '--url', 'ftp://x/'], /url must/],
      [
        ['create', '--project-id', 'f'.repeat(32), '--urn', `urn:smn:local-1:${'f'.repeat(32)}:t`, '--url', hook.url],
        /does not exist/,
      ],
      [['delete', '--project-id', PROJECT, '--urn', `urn:smn:local-1:${PROJECT}:never`], /topic does not exist/],
      [['create', '--project-id', PROJECT, '--urn', `urn:smn:local-1:${PROJECT}:t`], /required option '--url/],
    ];
    for (const [args, message] of cases) {
      const res = await topics(...args);
      assert.equal(res.code, 1, args.join(' '));
      assert.match(res.stderr, message, args.join(' '));
    }
  });

  test('a FunctionGraph URN is accepted and makes `fun` notifications', async () => {
    const fss = `urn:fss:local-1:${PROJECT}:function:default:handler`;
    const created = await topics('create', '--project-id', PROJECT, '--urn', fss, '--url', hook.url);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^secret \S{43}$/m);
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: PROJECT,
    });
    const n = await cts.createNotification({
      notification_name: 'toFunction',
      operation_type: 'complete',
      topic_id: fss,
    });
    assert.equal(n.notification_type, 'fun');
  });
});

test('topics create on a data dir without that project fails without creating anything', async () => {
  const dir = await makeTempDir();
  try {
    const res = await runCli([
      'topics',
      'create',
      '--data-dir',
      dir,
      '--project-id',
      PROJECT,
      '--urn',
      `urn:smn:local-1:${PROJECT}:t`,
      '--url',
      'http://127.0.0.1:9/',
    ]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
