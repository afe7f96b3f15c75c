/**
 * Self-audit (issue 4 §2–§3): every write on the tracker API leaves exactly the expected trace of
 * service CTS, and recording follows the system tracker.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError, type CtsClient, type Trace } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

describe('self-audit of tracker operations', () => {
  let svc: TestService;
  let cts: CtsClient;

  async function traces(query: Record<string, string | number> = {}): Promise<Trace[]> {
    const res = await cts.listTraces({ trace_type: 'system', limit: 200, from: Date.now() - 3_600_000, ...query });
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
    for (const b of ['audit-src', 'audit-src2']) await mkdir(path.join(svc.dataDir, 'buckets', b), { recursive: true });
  });
  after(() => svc.close());

  test('nothing is recorded before the system tracker exists', async () => {
    await cts.createTracker({
      tracker_type: 'data',
      tracker_name: 'early',
      data_bucket: { data_bucket_name: 'audit-src', data_event: ['READ'] },
    });
    assert.deepEqual(await traces(), []);
  });

  test('creating the system tracker records its own createTracker with the caller, request and response', async () => {
    const res = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${svc.credential.project_id}/tracker`,
      body: { tracker_type: 'system', tracker_name: 'system' },
    });
    assert.equal(res.status, 201);
    const tracker = res.json as { id: string };
    const [trace, ...rest] = await traces();
    assert.equal(rest.length, 0);
    assert.ok(trace);
    assert.equal(trace.trace_name, 'createTracker');
    assert.equal(trace.trace_rating, 'normal');
    assert.equal(trace.trace_type, 'ApiCall');
    assert.equal(trace.service_type, 'CTS');
    assert.equal(trace.resource_type, 'tracker');
    assert.equal(trace.resource_id, tracker.id);
    assert.equal(trace.resource_name, 'system');
    assert.equal(trace.code, '201', 'code is a string on the wire');
    assert.equal(trace.api_version, 'v3');
    assert.equal(trace.source_ip, '127.0.0.1');
    assert.equal(trace.request_id, res.headers.get('x-request-id'));
    assert.equal(typeof trace.request, 'string');
    assert.deepEqual(JSON.parse(trace.request as string), { tracker_type: 'system', tracker_name: 'system' });
    assert.equal((JSON.parse(trace.response as string) as { id: string }).id, tracker.id);
    assert.ok(Number.isInteger(trace.time) && Number.isInteger(trace.record_time));
    assert.ok((trace.record_time as number) >= (trace.time as number));
    const user = trace.user as Record<string, unknown>;
    assert.equal(user['name'], 'alice');
    assert.equal(user['user_name'], 'alice');
    assert.equal(user['access_key_id'], svc.credential.access_key_id);
    assert.deepEqual(user['domain'], { id: svc.credential.domain_id, name: svc.credential.domain_id });
    assert.equal(user['principal_urn'], `iam::${svc.credential.domain_id}:user:alice`);
    for (const stored of ['event_type', 'project_id', 'domain_id', 'user_agent', 'tracker_name']) {
      assert.equal((trace as Record<string, unknown>)[stored], undefined, `${stored} is stored-only`);
    }
  });

  test('update and delete record updateTracker and deleteTracker; a failed call a warning trace', async () => {
    await cts.updateTracker({ tracker_type: 'data', tracker_name: 'early', is_lts_enabled: true });
    await cts.deleteTracker({ tracker_type: 'data', tracker_name: 'early' });
    await expectCtsError(cts.createTracker({ tracker_type: 'system', tracker_name: 'system' }), 400, 'CTS.0201');
    const [failed, deleted, updated] = await traces();
    assert.equal(updated?.trace_name, 'updateTracker');
    assert.equal(updated?.code, '200');
    assert.equal(updated?.resource_name, 'early');
    assert.equal(deleted?.trace_name, 'deleteTracker');
    assert.equal(deleted?.code, '204');
    assert.equal(deleted?.resource_name, 'early');
    assert.equal(failed?.trace_name, 'createTracker');
    assert.equal(failed?.trace_rating, 'warning');
    assert.equal(failed?.code, '400');
    assert.match(failed?.response as string, /CTS\.0201/);
    assert.match(failed?.message as string, /management tracker has been created/);
  });

  test('validation and authentication failures on a known project are recorded as warnings', async () => {
    await expectCtsError(cts.createTracker({ tracker_type: 'other', tracker_name: 'x' }), 400, 'CTS.0202');
    const forged = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: 'not-the-secret',
      projectId: svc.credential.project_id,
    });
    await expectCtsError(forged.deleteTracker({ tracker_name: 'system' }), 401, 'CTS.9401');
    const [authFailure, validation] = await traces();
    assert.equal(validation?.code, '400');
    assert.equal(validation?.trace_rating, 'warning');
    assert.match(validation?.response as string, /CTS\.0202/);
    assert.equal(authFailure?.trace_name, 'deleteTracker');
    assert.equal(authFailure?.code, '401');
    assert.equal(authFailure?.trace_rating, 'warning');
    assert.deepEqual(authFailure?.user, {}, 'an unauthenticated caller has no identity in the trace');
    assert.equal(authFailure?.source_ip, '127.0.0.1');
  });

  test('reads are not recorded', async () => {
    const count = (await traces()).length;
    await cts.listTrackers();
    await cts.listTraces({ trace_type: 'system' });
    assert.equal((await traces()).length, count);
  });

  test('disabling the system tracker records updateTracker, then recording stops until it is enabled', async () => {
    const before = (await traces()).length;
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'disabled' });
    await cts.createTracker({
      tracker_type: 'data',
      tracker_name: 'unrecorded',
      data_bucket: { data_bucket_name: 'audit-src2', data_event: ['READ'] },
    });
    await expectCtsError(cts.createTracker({ tracker_type: 'other', tracker_name: 'x' }), 400, 'CTS.0202');
    let list = await traces();
    assert.equal(list.length, before + 1);
    assert.equal(list[0]?.trace_name, 'updateTracker');
    assert.match(list[0]?.request as string, /disabled/);

    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    list = await traces();
    assert.equal(list.length, before + 2);
    assert.match(list[0]?.request as string, /enabled/);
  });

  test('deleting the system tracker records it and stops recording; old traces stay', async () => {
    const before = await traces();
    await cts.deleteTracker({ tracker_type: 'system', tracker_name: 'system' });
    await cts.deleteTracker({ tracker_type: 'data', tracker_name: 'unrecorded' });
    const list = await traces();
    assert.equal(list.length, before.length + 1);
    assert.equal(list[0]?.trace_name, 'deleteTracker');
    assert.deepEqual(list.slice(1), before, 'recorded traces are never changed by tracker operations');
  });
});
