/**
 * ListTraces (spec §1.6) and the ingest extension: filters, paging, validation, isolation, data
 * trackers, retention. Traces are reported by a `service` key and read with the SDK core.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createCtsClient, expectCtsError, type CtsClient, type Trace } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const HOUR = 3_600_000;

interface ReportedTrace {
  [key: string]: unknown;
}

function reported(overrides: ReportedTrace = {}): ReportedTrace {
  return {
    time: Date.now() - 60_000,
    user: { name: 'alice', id: 'u-alice', domain: { id: 'd1', name: 'acme' }, access_key_id: 'AKALICE' },
    service_type: 'ECS',
    resource_type: 'ecs',
    resource_id: 'vm-1',
    resource_name: 'web-1',
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    source_ip: '10.0.0.1',
    code: 200,
    ...overrides,
  };
}

describe('traces: ingest and list', () => {
  let svc: TestService;
  let cts: CtsClient;
  let reporter: IssuedCredential;

  async function ingest(traces: ReportedTrace[], key: IssuedCredential = reporter) {
    return signedFetch(svc.url, key, { path: `/v3/${key.project_id}/traces`, body: { traces } });
  }

  async function ingestOk(traces: ReportedTrace[]): Promise<Array<string | null>> {
    const res = await ingest(traces);
    assert.equal(res.status, 201, res.text);
    return (res.json as { trace_ids: Array<string | null> }).trace_ids;
  }

  async function list(query: Record<string, unknown> = {}): Promise<Trace[]> {
    const res = await cts.listTraces({ trace_type: 'system', limit: 200, from: Date.now() - 2 * HOUR, ...query });
    return res.traces;
  }

  before(async () => {
    svc = await startTestService();
    cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: svc.credential.project_id,
    });
    reporter = await svc.service.runtime.identity.createCredential({
      projectId: svc.credential.project_id,
      domainId: svc.credential.domain_id,
      user: 'ecs-service',
      role: 'service',
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
  });
  after(() => svc.close());

  test('ingest stores traces with server-assigned ids and record times; list returns them newest first', async () => {
    const t0 = Date.now() - 10 * 60_000;
    const ids = await ingestOk([
      reported({ time: t0, trace_name: 'createServer', request: { name: 'web-1', admin_password: 'hunter2' } }),
      reported({ time: t0 + 1000, trace_name: 'deleteServer', response: '{"token":"abc","ok":true}' }),
    ]);
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(String(id), /^[0-9a-f-]{36}$/);
    const found = await list({ service_type: 'ECS' });
    assert.deepEqual(
      found.map((t) => t.trace_id),
      [ids[1], ids[0]],
    );
    const [deleted, created] = found;
    assert.equal(created?.time, t0);
    assert.ok((created?.record_time as number) >= Date.now() - 60_000);
    assert.equal(created?.code, '200', 'a numeric code is stored as a string');
    assert.deepEqual(JSON.parse(created?.request as string), { name: 'web-1', admin_password: '******' });
    assert.deepEqual(JSON.parse(deleted?.response as string), { token: '******', ok: true });
    assert.equal(created?.enterprise_project_id, '0');
  });

  test('every filter narrows the result (each first proves there was something to exclude)', async () => {
    const base = Date.now() - 30 * 60_000;
    await ingestOk([
      reported({ time: base, service_type: 'VPC', resource_type: 'vpc', resource_id: 'vpc-1', resource_name: 'Net A' }),
      reported({
        time: base + 1,
        service_type: 'VPC',
        resource_type: 'eip',
        resource_id: 'eip-1',
        resource_name: 'ip',
      }),
      reported({
        time: base + 2,
        service_type: 'VPC',
        resource_type: 'vpc',
        resource_id: 'vpc-2',
        resource_name: 'net a',
        trace_name: 'deleteVpc',
        trace_rating: 'warning',
        user: { name: 'bob', access_key_id: 'AKBOB' },
        enterprise_project_id: 'ep-7',
      }),
    ]);
    const vpc = await list({ service_type: 'VPC' });
    assert.equal(vpc.length, 3);
    const cases: Array<[string, string, number]> = [
      ['resource_type', 'eip', 1],
      ['resource_id', 'vpc-2', 1],
      ['resource_name', 'Net A', 1], // case-sensitive: "net a" is another resource
      ['trace_name', 'deleteVpc', 1],
      ['trace_rating', 'warning', 1],
      ['user', 'bob', 1],
      ['access_key_id', 'AKBOB', 1],
      ['enterprise_project_id', 'ep-7', 1],
    ];
    for (const [filter, value, expected] of cases) {
      const narrowed = await list({ service_type: 'VPC', [filter]: value });
      assert.ok(narrowed.length < vpc.length, `${filter} excluded something`);
      assert.equal(narrowed.length, expected, filter);
    }
    const combined = await list({ service_type: 'VPC', resource_type: 'vpc', user: 'alice', trace_rating: 'normal' });
    assert.deepEqual(
      combined.map((t) => t.resource_id),
      ['vpc-1'],
    );
    // trace_id alone overrides every other filter.
    const target = vpc[0]!;
    const byId = await list({ trace_id: target.trace_id as string, service_type: 'NOPE' });
    assert.deepEqual(
      byId.map((t) => t.trace_id),
      [target.trace_id],
    );
    // from/to bound the event time.
    const window = await list({ service_type: 'VPC', from: base, to: base + 2 });
    assert.deepEqual(
      window.map((t) => t.resource_id),
      ['eip-1'],
      'both bounds are exclusive',
    );
  });

  test('paging over 1,000 traces sharing milliseconds returns each exactly once, newest first', async () => {
    const at = Date.now() - 90 * 60_000;
    const ids: string[] = [];
    for (let call = 0; call < 10; call++) {
      // Ten traces per millisecond: ordering must not depend on time alone.
      const batch = Array.from({ length: 100 }, (_, i) =>
        reported({ time: at + Math.floor((call * 100 + i) / 10), service_type: 'PAGE', resource_id: `r${call}-${i}` }),
      );
      ids.push(...((await ingestOk(batch)) as string[]));
    }
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await cts.listTraces({
        trace_type: 'system',
        service_type: 'PAGE',
        limit: 70,
        from: at - 1,
        to: Date.now(),
        ...(marker ? { next: marker } : {}),
      });
      const meta = page['meta_data'] as { count: number; marker: string | null };
      assert.equal(meta.count, page.traces.length);
      seen.push(...page.traces.map((t) => t.trace_id as string));
      marker = meta.marker ?? undefined;
      pages++;
    } while (marker);
    assert.equal(pages, Math.ceil(1000 / 70));
    assert.equal(seen.length, 1000);
    assert.equal(new Set(seen).size, 1000, 'no duplicates');
    assert.deepEqual(new Set(seen), new Set(ids), 'no gaps');
    const times = await list({ service_type: 'PAGE', limit: 200, from: at - 1 });
    for (let i = 1; i < times.length; i++) {
      assert.ok((times[i - 1]!.time as number) >= (times[i]!.time as number), 'newest first');
    }
  });

  test('list defaults: the last hour, 10 traces, marker null on the last page', async () => {
    const res = await cts.listTraces({ trace_type: 'system', service_type: 'PAGE' });
    assert.equal(res.traces.length, 0, 'the paging traces are 90 minutes old');
    await ingestOk(Array.from({ length: 12 }, () => reported({ service_type: 'RECENT' })));
    const recent = await cts.listTraces({ trace_type: 'system' });
    assert.equal(recent.traces.length, 10);
    assert.notEqual((recent['meta_data'] as { marker: unknown }).marker, null);
    const few = await cts.listTraces({ trace_type: 'system', service_type: 'ECS' });
    assert.equal((few['meta_data'] as { marker: unknown }).marker, null);
  });

  test('bad list parameters are 400 CTS errors', async () => {
    await expectCtsError(cts.listTraces({ trace_type: 'system', limit: 0 }), 400, 'CTS.9400');
    await expectCtsError(cts.listTraces({ trace_type: 'system', limit: 201 }), 400, 'CTS.9400');
    await expectCtsError(cts.listTraces({ trace_type: 'other' }), 400, 'CTS.9400');
    await expectCtsError(cts.listTraces({ trace_type: 'system', from: 2000, to: 1000 }), 400, 'CTS.9400');
    await expectCtsError(cts.listTraces({ trace_type: 'system', trace_rating: 'fatal' }), 400, 'CTS.9400');
    await expectCtsError(cts.listTraces({ trace_type: 'system', next: 'not-a-trace' }), 400, 'CTS.9400');
    const raw = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${svc.credential.project_id}/traces`,
      query: { limit: 'ten' },
    });
    assert.equal(raw.status, 400);
  });

  test('ingest validation rejects the whole call and names the bad item', async () => {
    const before = (await list({ service_type: 'BAD' })).length;
    const cases: Array<[ReportedTrace[], RegExp]> = [
      [
        [reported({ service_type: 'BAD' }), reported({ service_type: 'BAD', trace_name: '1bad' })],
        /traces\.1\.trace_name/,
      ],
      [[reported({ service_type: 'BAD', trace_rating: 'fatal' })], /traces\.0\.trace_rating/],
      [[reported({ service_type: 'BAD', trace_type: 'Other' })], /traces\.0\.trace_type/],
      [[{ ...reported({ service_type: 'BAD' }), time: undefined }], /time/],
      [[reported({ service_type: 'BAD', trace_name: 'x'.repeat(65) })], /trace_name/],
      [[reported({ service_type: 'BAD', trace_type: 'ObsAPI', resource_name: undefined })], /traces\[0\]/],
    ];
    for (const [traces, message] of cases) {
      const res = await ingest(traces);
      assert.equal(res.status, 400, res.text);
      assert.equal((res.json as { error_code: string }).error_code, 'CTS.0003');
      assert.match((res.json as { error_msg: string }).error_msg, message);
    }
    const tooMany = await ingest(Array.from({ length: 101 }, () => reported({ service_type: 'BAD' })));
    assert.equal(tooMany.status, 400);
    const tooBig = await ingest(
      [reported({ service_type: 'BAD', request: 'x'.repeat(60_000) })].concat(
        Array.from({ length: 20 }, () => reported({ service_type: 'BAD', request: 'y'.repeat(60_000) })),
      ),
    );
    assert.equal(tooBig.status, 413);
    assert.equal((await list({ service_type: 'BAD' })).length, before, 'nothing stored');
  });

  test('only keys with the service role may ingest', async () => {
    const res = await ingest([reported()], svc.credential);
    assert.equal(res.status, 403);
    assert.equal((res.json as { error_code: string }).error_code, 'CTS.0013');
  });

  test("another project never sees this project's traces", async () => {
    const other = await svc.service.runtime.identity.createCredential({
      projectId: 'ffffffffffffffffffffffffffffffff',
      domainId: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',
      user: 'eve',
    });
    const eve = createCtsClient({
      endpoint: svc.url,
      accessKeyId: other.access_key_id,
      secretAccessKey: other.secret_access_key,
      projectId: other.project_id,
    });
    await eve.createTracker({ tracker_type: 'system', tracker_name: 'system' });
    const mine = await list({ service_type: 'ECS' });
    assert.ok(mine.length > 0);
    const theirs = await eve.listTraces({ trace_type: 'system', limit: 200, from: Date.now() - 2 * HOUR });
    assert.deepEqual(
      theirs.traces.map((t) => t.trace_name),
      ['createTracker'],
      'only its own createTracker',
    );
    const byId = await eve.listTraces({ trace_type: 'system', trace_id: mine[0]!.trace_id as string });
    assert.deepEqual(byId.traces, []);
    await expectCtsError(eve.listTraces({ trace_type: 'system', next: mine[0]!.trace_id as string }), 400, 'CTS.9400');
  });

  test('data traces are recorded by each enabled data tracker watching the bucket for that operation', async () => {
    await mkdir(path.join(svc.dataDir, 'buckets', 'photos'), { recursive: true });
    await cts.createTracker({
      tracker_type: 'data',
      tracker_name: 'photo-writes',
      data_bucket: { data_bucket_name: 'photos', data_event: ['WRITE'] },
    });
    await cts.createTracker({
      tracker_type: 'data',
      tracker_name: 'photo-all',
      data_bucket: { data_bucket_name: 'photos', data_event: ['READ'] },
    });
    const obs = { service_type: 'OBS', resource_type: 'object', trace_type: 'ObsAPI' };
    const ids = await ingestOk([
      reported({ ...obs, trace_name: 'PUT.OBJECT', resource_name: 'photos/cat.jpg', read_only: false }),
      reported({ ...obs, trace_name: 'GET.OBJECT', resource_name: 'photos/cat.jpg', read_only: true }),
      reported({ ...obs, trace_name: 'GET.OBJECT', resource_name: 'other/x', read_only: true }),
    ]);
    assert.equal(ids[2], null, 'no tracker watches bucket "other"');
    const writes = await list({ trace_type: 'data', tracker_name: 'photo-writes' });
    assert.deepEqual(
      writes.map((t) => t.trace_name),
      ['PUT.OBJECT'],
    );
    const reads = await list({ trace_type: 'data', tracker_name: 'photo-all' });
    assert.deepEqual(
      reads.map((t) => t.trace_name),
      ['GET.OBJECT'],
    );
    assert.equal((await list({ trace_type: 'data' })).length, 2, 'all data trackers');
    assert.ok(!(await list()).some((t) => t.trace_type === 'ObsAPI'), 'data traces are not management traces');
  });

  test('management traces are not recorded while the system tracker is disabled', async () => {
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'disabled' });
    const ids = await ingestOk([reported({ service_type: 'OFF' })]);
    assert.deepEqual(ids, [null]);
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    assert.deepEqual(await list({ service_type: 'OFF' }), []);
  });
});

describe('retention', () => {
  test('traces older than the window are purged, except those a consumer has not passed yet', async () => {
    const svc = await startTestService({ config: { retentionDays: 1 / (24 * 3600) } }); // one second
    try {
      const runtime = svc.service.runtime;
      const reporter = await runtime.identity.createCredential({
        projectId: svc.credential.project_id,
        domainId: svc.credential.domain_id,
        user: 'svc',
        role: 'service',
      });
      const cts = createCtsClient({
        endpoint: svc.url,
        accessKeyId: svc.credential.access_key_id,
        secretAccessKey: svc.credential.secret_access_key,
        projectId: svc.credential.project_id,
      });
      await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
      const post = (n: number) =>
        signedFetch(svc.url, reporter, {
          path: `/v3/${reporter.project_id}/traces`,
          body: { traces: Array.from({ length: n }, () => reported({ time: Date.now() })) },
        });
      assert.equal((await post(5)).status, 201);
      // A consumer (a delivery worker) has handled only the first two traces.
      await runtime.store.setCursor('delivery:test', 2);
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual((await cts.listTraces({ trace_type: 'system', from: 0 })).traces, [], 'outside the window');
      assert.equal(await runtime.traces.purgeExpired(), 2, 'only what the consumer passed');
      await runtime.store.setCursor('delivery:test', 1_000_000);
      // SQLite keeps the newest trace: its seq is a rowid, and an emptied table would hand out
      // seqs again that cursors have passed. PostgreSQL's sequence never goes back.
      const keepsNewest = runtime.store.dialect === 'sqlite' ? 1 : 0;
      assert.equal(await runtime.traces.purgeExpired(), 4 - keepsNewest);
      assert.equal(await runtime.traces.purgeExpired(), 0);
    } finally {
      await svc.close();
    }
  });
});
