/**
 * Legacy v1.0/v2.0 API (spec §1.11) through a real socket: the shapes and status codes of Open
 * Telekom Cloud's "out-of-date" tracker and trace endpoints, mapped onto the same trackers,
 * traces, rules and self-audit as v3.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch, type CallResult, type SignedCall } from '../support/signed-fetch.js';

interface LegacyTrace {
  trace_id: string;
  trace_name: string;
  trace_rating: string;
  trace_status?: string;
  trace_type: string;
  api_version?: string;
  resource_url?: string;
  resource_name?: string;
  code?: string;
}

interface TracePage {
  traces: LegacyTrace[];
  meta_data: { count: number; marker: string | null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('legacy v1.0/v2.0 API', () => {
  let svc: TestService;
  let pid: string;
  let reporter: IssuedCredential;
  let trackerId: string;

  const call = (c: SignedCall, key = svc.credential): Promise<CallResult> => signedFetch(svc.url, key, c);
  const errorCode = (res: CallResult) => (res.json as { error_code?: string } | undefined)?.error_code;
  async function expectError(res: CallResult, status: number, code: string): Promise<void> {
    assert.equal(res.status, status, res.text);
    assert.equal(errorCode(res), code, res.text);
  }
  async function showTracker(query: Record<string, string> = { tracker_name: 'system' }) {
    return call({ method: 'GET', path: `/v1.0/${pid}/tracker`, query });
  }
  async function listLegacy(version: string, tracker: string, query: Record<string, string | number> = {}) {
    const res = await call({ method: 'GET', path: `/${version}/${pid}/${tracker}/trace`, query });
    assert.equal(res.status, 200, res.text);
    return res.json as TracePage;
  }

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
    for (const bucket of ['legacy-bucket', 'legacy-other', 'legacy-data']) {
      await mkdir(path.join(svc.dataDir, 'buckets', bucket), { recursive: true });
    }
    reporter = await svc.service.runtime.identity.createCredential({
      projectId: pid,
      domainId: svc.credential.domain_id,
      user: 'obs-service',
      role: 'service',
    });
  });
  after(() => svc.close());

  test('POST /v1.0/{project_id}/tracker creates the system tracker: 201 with the OTC example shape', async () => {
    const res = await call({
      method: 'POST',
      path: `/v1.0/${pid}/tracker`,
      body: {
        bucket_name: 'legacy-bucket',
        file_prefix_name: 'yO8Q',
        lts: { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'system-trace' },
        log_file_validate: { is_support_validate: true },
        // Older gophertelekomcloud versions still send the v1 SMN settings: ignored.
        smn: { is_support_smn: false, is_send_all_key_operation: false },
      },
    });
    assert.equal(res.status, 201, res.text);
    const body = res.json as Record<string, unknown>;
    trackerId = String(body['id']);
    assert.match(trackerId, UUID);
    assert.equal(body['tracker_name'], 'system');
    assert.equal(body['tracker_type'], 'system');
    assert.equal(body['status'], 'enabled');
    assert.equal(body['project_id'], pid);
    assert.equal(body['domain_id'], svc.credential.domain_id);
    assert.ok(Number.isInteger(body['create_time']) && String(body['create_time']).length === 13);
    assert.deepEqual(body['lts'], { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'system-trace' });
    assert.deepEqual(body['log_file_validate'], { is_support_validate: true });
    const obs = body['obs_info'] as Record<string, unknown>;
    assert.equal(obs['bucket_name'], 'legacy-bucket');
    assert.equal(obs['file_prefix_name'], 'yO8Q');
    assert.ok(!('smn' in body));
  });

  test('the v1.0 tracker is the v3 system tracker (one model)', async () => {
    const res = await call({ method: 'GET', path: `/v3/${pid}/trackers`, query: { tracker_name: 'system' } });
    assert.equal(res.status, 200, res.text);
    const [tracker] = (res.json as { trackers: Array<Record<string, unknown>> }).trackers;
    assert.equal(tracker?.['id'], trackerId);
    assert.equal(tracker?.['is_support_validate'], true);
    assert.equal((tracker?.['obs_info'] as Record<string, unknown>)['bucket_name'], 'legacy-bucket');
    const again = await call({ method: 'POST', path: `/v1.0/${pid}/tracker`, body: { bucket_name: 'legacy-bucket' } });
    await expectError(again, 400, 'CTS.0201');
  });

  test('GET /v1.0/{project_id}/tracker answers one flat object, with or without ?tracker_name=system', async () => {
    for (const query of [{ tracker_name: 'system' }, {}] as Array<Record<string, string>>) {
      const res = await showTracker(query);
      assert.equal(res.status, 200, res.text);
      const body = res.json as Record<string, unknown>;
      assert.ok(!Array.isArray(body));
      assert.equal(body['id'], trackerId);
      assert.equal(body['tracker_name'], 'system');
      assert.equal(body['tracker_type'], 'system');
      assert.equal(body['bucket_name'], 'legacy-bucket');
      assert.equal(body['file_prefix_name'], 'yO8Q');
      assert.equal(body['status'], 'enabled');
      assert.equal(body['is_obs_created'], false);
      assert.equal(body['is_support_trace_files_encryption'], false);
      assert.deepEqual(body['log_file_validate'], { is_support_validate: true });
      assert.deepEqual(body['lts'], { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'system-trace' });
      assert.ok(!('obs_info' in body), 'v1.0 puts the bucket fields at the top level');
    }
    await expectError(await showTracker({ tracker_name: 'other' }), 404, 'CTS.0214');
  });

  test('PUT /v1.0/{project_id}/tracker/{tracker_name} merges: 200 with an empty body', async () => {
    const res = await call({
      method: 'PUT',
      path: `/v1.0/${pid}/tracker/system`,
      body: { file_prefix_name: 'renamed', status: 'disabled', lts: { is_lts_enabled: false } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '');
    const shown = (await showTracker()).json as Record<string, unknown>;
    assert.equal(shown['status'], 'disabled');
    assert.equal(shown['file_prefix_name'], 'renamed');
    assert.equal(shown['bucket_name'], 'legacy-bucket', 'omitted fields keep their values');
    assert.equal((shown['lts'] as { is_lts_enabled: boolean }).is_lts_enabled, false);

    const moved = await call({
      method: 'PUT',
      path: `/v1.0/${pid}/tracker/system`,
      body: { bucket_name: 'legacy-other', status: 'enabled', log_file_validate: { is_support_validate: false } },
    });
    assert.equal(moved.status, 200, moved.text);
    const after = (await showTracker()).json as Record<string, unknown>;
    assert.equal(after['bucket_name'], 'legacy-other');
    assert.equal(after['status'], 'enabled');
    assert.equal(after['is_support_validate'], false);
  });

  test('v1.0 tracker requests are checked by the v3 rules, with the same CTS errors', async () => {
    const put = (body: unknown, name = 'system') => call({ method: 'PUT', path: `/v1.0/${pid}/tracker/${name}`, body });
    await expectError(await put({ bucket_name: 'no-such-bucket' }), 400, 'CTS.0211');
    await expectError(await put({ bucket_name: 'Bad_Bucket' }), 400, 'CTS.0231');
    await expectError(await put({ file_prefix_name: 'bad prefix!' }), 400, 'CTS.0218');
    await expectError(await put({ status: 'paused' }), 400, 'CTS.0205');
    await expectError(await put({ status: 'enabled' }, 'nope'), 404, 'CTS.0214');
    await expectError(
      await put({ is_support_trace_files_encryption: true, kms_id: '13a4207c-7abe-4b68-8510-16b84c3b5504' }),
      400,
      'CTS.0220',
    );
    await expectError(await call({ method: 'POST', path: `/v1.0/${pid}/tracker`, body: {} }), 400, 'CTS.0231');
    await expectError(
      await call({ method: 'POST', path: `/v1.0/${pid}/tracker`, body: '{"bucket_name":' }),
      400,
      'CTS.0003',
    );
  });

  test('GET /v1.0 and /v2.0 /{tracker_name}/trace list the trail like v3, with trace_status', async () => {
    for (const version of ['v1.0', 'v2.0']) {
      const page = await listLegacy(version, 'system', { limit: 200 });
      const names = page.traces.map((t) => t.trace_name);
      assert.ok(names.includes('createTracker') && names.includes('updateTracker'), names.join(','));
      assert.equal(page.meta_data.count, page.traces.length);
      for (const trace of page.traces) {
        assert.equal(trace.trace_status, trace.trace_rating, 'gophertelekomcloud v2 reads trace_status');
        assert.equal(typeof trace.code, 'string');
      }
      const created = page.traces.find((t) => t.trace_name === 'createTracker' && t.code === '201');
      assert.equal(created?.api_version, 'v1.0', 'the self-audit trace names the API version called');
      assert.equal(created?.resource_url, `/v1.0/${pid}/tracker`);
    }
    // Same answer as v3 for the same query.
    const v3 = await call({
      method: 'GET',
      path: `/v3/${pid}/traces`,
      query: { trace_type: 'system', limit: 200, trace_name: 'updateTracker' },
    });
    const legacy = await listLegacy('v2.0', 'system', { limit: 200, trace_name: 'updateTracker' });
    assert.deepEqual(
      legacy.traces.map((t) => t.trace_id),
      (v3.json as TracePage).traces.map((t) => t.trace_id),
    );
  });

  test('legacy trace filters: trace_rating and its alias trace_status, limit and next', async () => {
    const warnings = await listLegacy('v2.0', 'system', { limit: 200, trace_status: 'warning' });
    assert.ok(warnings.traces.length > 0, 'the refused updates above left warning traces');
    assert.ok(warnings.traces.every((t) => t.trace_rating === 'warning'));
    const same = await listLegacy('v1.0', 'system', { limit: 200, trace_rating: 'warning' });
    assert.deepEqual(
      same.traces.map((t) => t.trace_id),
      warnings.traces.map((t) => t.trace_id),
    );
    const all = await listLegacy('v1.0', 'system', { limit: 200 });
    const first = await listLegacy('v1.0', 'system', { limit: 2 });
    assert.equal(first.meta_data.count, 2);
    assert.ok(first.meta_data.marker);
    const second = await listLegacy('v1.0', 'system', { limit: 2, next: first.meta_data.marker });
    assert.deepEqual(
      [...first.traces, ...second.traces].map((t) => t.trace_id),
      all.traces.slice(0, 4).map((t) => t.trace_id),
    );
    const bad = await call({ method: 'GET', path: `/v2.0/${pid}/system/trace`, query: { limit: 201 } });
    await expectError(bad, 400, 'CTS.9400');
  });

  test("a data tracker's name in the path lists that tracker's data traces", async () => {
    const created = await call({
      method: 'POST',
      path: `/v3/${pid}/tracker`,
      body: {
        tracker_type: 'data',
        tracker_name: 'legacy-dt',
        data_bucket: { data_bucket_name: 'legacy-data', data_event: ['WRITE'] },
      },
    });
    assert.equal(created.status, 201, created.text);
    const reported = await call(
      {
        method: 'POST',
        path: `/v3/${pid}/traces`,
        body: {
          traces: [
            {
              time: Date.now(),
              user: { name: 'alice' },
              service_type: 'OBS',
              resource_type: 'object',
              trace_name: 'PUT.OBJECT',
              trace_rating: 'normal',
              trace_type: 'ObsAPI',
              resource_name: 'legacy-data/report.csv',
              read_only: false,
            },
          ],
        },
      },
      reporter,
    );
    assert.equal(reported.status, 201, reported.text);
    const data = await listLegacy('v2.0', 'legacy-dt');
    assert.deepEqual(
      data.traces.map((t) => [t.trace_name, t.trace_type]),
      [['PUT.OBJECT', 'ObsAPI']],
    );
    const system = await listLegacy('v2.0', 'system', { limit: 200 });
    assert.ok(!system.traces.some((t) => t.trace_type === 'ObsAPI'), 'data traces stay out of the system trail');
    assert.deepEqual((await listLegacy('v1.0', 'no-such-tracker')).traces, []);
  });

  test('DELETE /v1.0/{project_id}/tracker?tracker_name=system: 204, then 404 CTS.0214; traces stay', async () => {
    const before = await listLegacy('v1.0', 'system', { limit: 200 });
    const res = await call({ method: 'DELETE', path: `/v1.0/${pid}/tracker`, query: { tracker_name: 'system' } });
    assert.equal(res.status, 204, res.text);
    await expectError(await showTracker(), 404, 'CTS.0214');
    const again = await call({ method: 'DELETE', path: `/v1.0/${pid}/tracker`, query: { tracker_name: 'system' } });
    await expectError(again, 404, 'CTS.0214');
    const v3 = await call({ method: 'GET', path: `/v3/${pid}/trackers` });
    assert.deepEqual(
      (v3.json as { trackers: Array<{ tracker_name: string }> }).trackers.map((t) => t.tracker_name),
      ['legacy-dt'],
      'a v1.0 delete removes only the system tracker',
    );
    const kept = await listLegacy('v1.0', 'system', { limit: 200 });
    const keptIds = new Set(kept.traces.map((t) => t.trace_id));
    assert.ok(
      before.traces.every((t) => keptIds.has(t.trace_id)),
      'deleting a tracker keeps its traces',
    );
  });

  test('DELETE without tracker_name removes the system tracker too (v1.0 knows no other)', async () => {
    const created = await call({
      method: 'POST',
      path: `/v1.0/${pid}/tracker`,
      body: { bucket_name: 'legacy-bucket' },
    });
    assert.equal(created.status, 201, created.text);
    const res = await call({ method: 'DELETE', path: `/v1.0/${pid}/tracker` });
    assert.equal(res.status, 204, res.text);
    await expectError(await showTracker(), 404, 'CTS.0214');
  });

  test("legacy calls are confined to the caller's project", async () => {
    const other = 'ffffffffffffffffffffffffffffffff';
    await expectError(await call({ method: 'GET', path: `/v1.0/${other}/tracker` }), 403, 'CTS.0012');
    await expectError(await call({ method: 'GET', path: `/v2.0/${other}/system/trace` }), 403, 'CTS.0012');
    const unsigned = await fetch(`${svc.url}/v1.0/${pid}/tracker`);
    assert.equal(unsigned.status, 401);
  });

  test('version discovery lists v1.0 and v2.0 beside v3', async () => {
    const res = await fetch(`${svc.url}/`);
    assert.equal(res.status, 200);
    const { versions } = (await res.json()) as { versions: Array<{ id: string; status: string }> };
    assert.deepEqual(
      versions.map((v) => [v.id, v.status]),
      [
        ['v1.0', 'DEPRECATED'],
        ['v2.0', 'DEPRECATED'],
        ['v3', 'CURRENT'],
      ],
    );
    const one = await fetch(`${svc.url}/v1.0`);
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { version: { id: string } }).version.id, 'v1.0');
  });
});
