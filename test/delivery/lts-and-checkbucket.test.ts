/** The LTS dump (NDJSON per topic) and CheckObsBuckets (real probes), through a real server. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { createCtsClient, expectCtsError } from '../support/cts-client.js';
import { startTestService } from '../support/service.js';

test('traces of trackers with is_lts_enabled go to an NDJSON file per topic and to an HTTP endpoint', async () => {
  const received: string[] = [];
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/ingest`;
  const svc = await startTestService({ config: { flushIntervalMs: 1000, ltsHttpEndpoint: endpoint } });
  try {
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: svc.credential.project_id,
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system', is_lts_enabled: true });
    for (let i = 0; i < 3; i++) await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system' });
    const file = path.join(svc.dataDir, 'lts', 'CTS', 'system-trace', 'current.ndjson');
    let lines: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && lines.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const text = await readFile(file, 'utf8').catch(() => '');
      lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    }
    assert.deepEqual(
      lines.map((l) => l['trace_name']),
      ['createTracker', 'updateTracker', 'updateTracker', 'updateTracker'],
    );
    assert.ok(lines.every((l) => l['service_type'] === 'CTS'));
    assert.equal(new Set(lines.map((l) => l['trace_id'])).size, 4, 'each trace once');
    assert.equal(typeof lines[0]!['user'], 'string', 'stored shape: user JSON-encoded');
    assert.equal(received.join('').split('\n').filter(Boolean).length, 4, 'the HTTP endpoint got the same lines');
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /opencts_lts_forwarded_total\{topic="system-trace"\} 4/);
  } finally {
    await svc.close();
    sink.close();
  }
});

test('CheckObsBuckets answers from real probes of the object store', async () => {
  const svc = await startTestService();
  try {
    await mkdir(path.join(svc.dataDir, 'buckets', 'good-bucket'), { recursive: true });
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: svc.credential.project_id,
    });
    const res = await cts.checkObsBuckets({
      domain_id: svc.credential.domain_id,
      body: {
        buckets: [
          { bucket_name: 'good-bucket', bucket_location: 'local-1' },
          { bucket_name: 'missing-bucket', bucket_location: 'local-1' },
          { bucket_name: 'Bad_Name', bucket_location: 'local-1' },
          { bucket_name: 'good-bucket', bucket_location: 'elsewhere-9' },
        ],
      },
    });
    const results = (
      res['buckets'] as Array<{
        check_bucket_response: { success: boolean; response_code: number; error_code?: string };
      }>
    ).map((b) => b.check_bucket_response);
    assert.deepEqual(
      results.map((r) => [r.success, r.response_code, r.error_code]),
      [
        [true, 200, undefined],
        [false, 404, 'CTS.0211'],
        [false, 400, 'CTS.0231'],
        [false, 400, 'CTS.0001'],
      ],
    );
    // The probe leaves nothing behind.
    const left = await svc.service.runtime.objects.listObjects('good-bucket', '');
    assert.deepEqual(left, []);
    // Domain-scoped: another domain's id in the path is refused.
    await expectCtsError(
      cts.checkObsBuckets({
        domain_id: 'ffffffffffffffffffffffffffffffff',
        body: { buckets: [{ bucket_name: 'good-bucket', bucket_location: 'local-1' }] },
      }),
      403,
      'CTS.0002',
    );
  } finally {
    await svc.close();
  }
});
