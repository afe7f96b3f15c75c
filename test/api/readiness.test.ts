/** GET /readyz reflects the store and the object store; the object-store probe is cached. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { OBJECT_STORE_PROBE_CACHE_MS } from '../../src/api/routes/operations.js';
import { startS3rver, S3RVER_CREDENTIALS } from '../support/s3rver.js';
import { startTestService, type TestService } from '../support/service.js';

async function readyz(url: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function untilStatus(url: string, status: number, withinMs: number) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const answer = await readyz(url);
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const s3Settings = (endpoint: string) => ({
  objectStore: 's3://',
  s3Endpoint: endpoint,
  s3AccessKeyId: S3RVER_CREDENTIALS.accessKeyId,
  s3SecretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
});

describe('readiness', () => {
  const services: TestService[] = [];
  after(async () => {
    for (const svc of services) await svc.close();
  });

  test('fs: a buckets folder that cannot be written makes /readyz 503 after the cached answer expires', async () => {
    const svc = await startTestService();
    services.push(svc);
    assert.deepEqual(await readyz(svc.url), { status: 200, body: { status: 'ready' } });

    // A file where the buckets folder belongs: no bucket can be created or written.
    const bucketsRoot = path.join(svc.dataDir, 'buckets');
    await writeFile(bucketsRoot, 'in the way');
    assert.equal((await readyz(svc.url)).status, 200, 'the last probe answer is reused for a few seconds');
    const down = await untilStatus(svc.url, 503, OBJECT_STORE_PROBE_CACHE_MS + 3000);
    assert.equal(down.status, 503);
    assert.equal(down.body['error_code'], 'CTS.9503');
    assert.match(down.body['error_msg']!, /object store \(fs\)/);
    assert.doesNotMatch(down.body['error_msg']!, /store,/);

    await rm(bucketsRoot);
    assert.equal((await untilStatus(svc.url, 200, OBJECT_STORE_PROBE_CACHE_MS + 3000)).status, 200);
  });

  test('s3: an endpoint that refuses connections, or accepts and never answers, is not ready', async () => {
    const refusing = net.createServer();
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    const refusedPort = (refusing.address() as net.AddressInfo).port;
    await new Promise((r) => refusing.close(r));
    const silent = net.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      for (const endpoint of [
        `http://127.0.0.1:${refusedPort}`,
        `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      ]) {
        const svc = await startTestService({ config: s3Settings(endpoint) });
        services.push(svc);
        const started = Date.now();
        const answer = await readyz(svc.url);
        assert.equal(answer.status, 503, endpoint);
        assert.equal(answer.body['error_code'], 'CTS.9503');
        assert.match(answer.body['error_msg']!, /object store \(s3\)/);
        assert.ok(Date.now() - started < 5000, 'the probe gives up after its deadline');
        await svc.close();
      }
    } finally {
      silent.close();
    }
  });

  test('s3: a reachable endpoint is ready, even with no bucket yet', async () => {
    const s3 = await startS3rver();
    try {
      const svc = await startTestService({ config: s3Settings(s3.endpoint) });
      services.push(svc);
      assert.deepEqual(await readyz(svc.url), { status: 200, body: { status: 'ready' } });
      await svc.close();
    } finally {
      await s3.stop();
    }
  });

  test('a closed store makes /readyz 503 naming the store', async () => {
    const svc = await startTestService();
    services.push(svc);
    await svc.service.runtime.store.close();
    const answer = await readyz(svc.url);
    assert.equal(answer.status, 503);
    assert.equal(answer.body['error_code'], 'CTS.9503');
    assert.match(answer.body['error_msg']!, /Not reachable: store\./);
  });
});
