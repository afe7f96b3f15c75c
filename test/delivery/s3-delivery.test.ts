/**
 * Delivery into a real S3-compatible store (s3rver): a server configured with
 * `--object-store s3://…` creates the bucket, writes trace files at the §5.1 layout and a signed
 * digest chain, and `opencts verify --source s3://bucket` checks it.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { startS3rver, S3RVER_CREDENTIALS } from '../support/s3rver.js';
import { startTestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const S3_ENV = {
  OPENCTS_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  OPENCTS_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
};

test('trace files and digests land in S3 at the CTS layout and verify from s3://', async () => {
  const s3 = await startS3rver();
  let svc: Awaited<ReturnType<typeof startTestService>> | undefined;
  try {
    svc = await startTestService({
      config: {
        objectStore: 's3://',
        s3Endpoint: s3.endpoint,
        s3AccessKeyId: S3RVER_CREDENTIALS.accessKeyId,
        s3SecretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
        flushIntervalMs: 1000,
        digestIntervalMs: 60_000,
      },
    });
    const admin = svc.credential;
    const created = await signedFetch(svc.url, admin, {
      path: `/v3/${admin.project_id}/tracker`,
      body: {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: 's3-trail', is_obs_created: true, file_prefix_name: 'pre' },
        is_support_validate: true,
      },
    });
    assert.equal(created.status, 201, created.text);
    for (let i = 0; i < 3; i++) {
      const res = await signedFetch(svc.url, admin, {
        method: 'PUT',
        path: `/v3/${admin.project_id}/tracker`,
        body: { tracker_type: 'system', tracker_name: 'system', is_lts_enabled: i % 2 === 0 },
      });
      assert.equal(res.status, 200);
    }
    const store = s3.makeStore();
    let files: Array<{ key: string }> = [];
    for (let i = 0; i < 60 && files.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      files = (await store.listObjects('s3-trail', 'CloudTraces/')).filter((o) => !o.key.includes('/Digest/'));
    }
    assert.ok(files.length > 0, 'trace files delivered to S3');
    const layout =
      /^CloudTraces\/local-1\/\d{4}\/\d{2}\/\d{2}\/system\/CTS\/pre_CloudTrace_local-1_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z_[0-9a-f]{16}\.json\.gz$/;
    for (const f of files) assert.match(f.key, layout);
    const names: string[] = [];
    for (const f of files) {
      const body = (await store.getObject('s3-trail', f.key)).body;
      const traces = JSON.parse(gunzipSync(body).toString('utf8')) as Array<{ trace_name: string; event_type: string }>;
      for (const t of traces) {
        assert.equal(t.event_type, 'system');
        names.push(t.trace_name);
      }
    }
    assert.deepEqual(names.sort(), ['createTracker', 'updateTracker', 'updateTracker', 'updateTracker']);

    // A digest for the period so far, written by the worker when the period ends: drive it directly.
    const { runtime } = svc.service;
    const { DeliveryWorker } = await import('../../src/delivery/delivery-worker.js');
    const { pino } = await import('pino');
    let clock = Date.now() + 61_000;
    const worker = new DeliveryWorker({
      store: runtime.store,
      objects: runtime.objects,
      keys: runtime.keys,
      region: runtime.config.region,
      flushIntervalMs: 3_600_000,
      digestIntervalMs: 60_000,
      logger: pino({ level: 'silent' }),
      now: () => clock,
    });
    await svc.service.delivery.stop(); // one worker at a time
    await worker.runOnce();
    clock += 60_000;
    await worker.runOnce();
    const digests = (await store.listObjects('s3-trail', 'CloudTraces/')).filter((o) => o.key.includes('/Digest/CTS/'));
    assert.ok(digests.length >= 1, 'a digest was written');
    const digest = await store.getObject('s3-trail', digests[0]!.key);
    assert.match(digest.metadata['signature'] ?? '', /^[0-9a-f]{512}$/, 'RSA-2048 signature in object metadata');
    assert.equal(digest.metadata['signature-algorithm'], 'SHA256withRSA');

    const verified = await runCli(
      [
        'verify',
        '--source',
        's3://s3-trail',
        '--tracker',
        'system',
        '--s3-endpoint',
        s3.endpoint,
        '--data-dir',
        svc.dataDir,
        '--to',
        String(clock),
      ],
      S3_ENV,
    );
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /(\d+)\/\1 digest files valid/);
    assert.match(verified.stdout, /(\d+)\/\1 trace files valid/);

    // Tampering with an object in S3 is caught.
    const victim = files[0]!.key;
    await store.putObject({
      bucket: 's3-trail',
      key: victim,
      body: Buffer.from('[]'),
      contentType: 'application/json',
    });
    const tampered = await runCli(
      [
        'verify',
        '--source',
        's3://s3-trail',
        '--tracker',
        'system',
        '--s3-endpoint',
        s3.endpoint,
        '--data-dir',
        svc.dataDir,
        '--to',
        String(clock),
      ],
      S3_ENV,
    );
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /file-modified/);
  } finally {
    // The s3rver child must go even when the service never started, or the test never ends.
    await svc?.close();
    await s3.stop();
  }
});
