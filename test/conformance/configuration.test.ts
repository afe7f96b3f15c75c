/**
 * GET/PUT /v3/{project_id}/configuration (spec §1.10) through a real server with the SDK core as
 * client: the defaults, the round trip, full replace, validation, the self-audit trace of PUT,
 * persistence, and one project's configuration never touching another's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError, type CtsClient } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const DEFAULTS = { is_sync_global_trace: false, is_support_read_only: false, support_read_only_services: [] };

describe('configuration with the SDK core as client', () => {
  let svc: TestService;
  let cts: CtsClient;

  const configuration = async (client = cts) => {
    const { httpStatusCode, ...body } = await client.showConfiguration();
    assert.equal(httpStatusCode, 200);
    return body;
  };

  before(async () => {
    svc = await startTestService();
    cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: svc.credential.project_id,
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
  });
  after(() => svc.close());

  test('a project that never set one reads the defaults', async () => {
    assert.deepEqual(await configuration(), DEFAULTS);
  });

  test('PUT answers 204 with no body, GET returns what was put; PUT replaces the whole configuration', async () => {
    const body = {
      is_sync_global_trace: true,
      is_support_read_only: false,
      support_read_only_services: ['ECS', 'OBS'],
    };
    const res = await signedFetch(svc.url, svc.credential, {
      method: 'PUT',
      path: `/v3/${svc.credential.project_id}/configuration`,
      body,
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.deepEqual(await configuration(), body);
    const next = await cts.updateConfiguration({ is_sync_global_trace: false, is_support_read_only: true });
    assert.equal(next.httpStatusCode, 204);
    assert.deepEqual(await configuration(), {
      is_sync_global_trace: false,
      is_support_read_only: true,
      support_read_only_services: [],
    });
  });

  test('PUT leaves an updateConfiguration trace (a refused one a warning); GET leaves none', async () => {
    const listed = async () =>
      (await cts.listTraces({ trace_type: 'system', limit: 200, resource_type: 'configuration' })).traces;
    const before = await listed();
    await cts.updateConfiguration({ is_sync_global_trace: true, is_support_read_only: true });
    await cts.showConfiguration();
    const after = await listed();
    assert.equal(after.length, before.length + 1);
    const trace = after[0]!;
    assert.equal(trace.trace_name, 'updateConfiguration');
    assert.equal(trace.service_type, 'CTS');
    assert.equal(trace.code, '204');
    assert.equal(trace.resource_id, svc.credential.project_id);
    assert.deepEqual(JSON.parse(trace.request as string), { is_sync_global_trace: true, is_support_read_only: true });
    await expectCtsError(cts.updateConfiguration({ is_sync_global_trace: true }), 400, 'CTS.0003');
    const [failed] = await listed();
    assert.equal(failed?.trace_rating, 'warning');
    assert.equal(failed?.code, '400');
  });

  test('validation: both flags required booleans, services a list of distinct service types (≤ 100)', async () => {
    const before = await configuration();
    const invalid: object[] = [
      {},
      { is_sync_global_trace: true },
      { is_support_read_only: true },
      { is_sync_global_trace: 'true', is_support_read_only: false },
      { is_sync_global_trace: true, is_support_read_only: null },
      { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: 'ECS' },
      { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: [1] },
      { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: ['ECS', 'ECS'] },
      { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: ['not a service'] },
      {
        is_sync_global_trace: true,
        is_support_read_only: false,
        support_read_only_services: Array.from({ length: 101 }, (_, i) => `S${i}`),
      },
    ];
    for (const body of invalid) {
      await expectCtsError(cts.updateConfiguration(body as Record<string, unknown>), 400, 'CTS.0003');
    }
    const raw = await signedFetch(svc.url, svc.credential, {
      method: 'PUT',
      path: `/v3/${svc.credential.project_id}/configuration`,
      body: '[true]',
    });
    assert.equal(raw.status, 400);
    assert.deepEqual(await configuration(), before, 'no refused PUT changed anything');
    // Unknown fields are ignored, as on the tracker API.
    await cts.updateConfiguration({ is_sync_global_trace: false, is_support_read_only: false, extra: 1 });
    assert.deepEqual(await configuration(), DEFAULTS);
  });

  test("a project's configuration is its own, and survives a restart", async () => {
    await cts.updateConfiguration({
      is_sync_global_trace: true,
      is_support_read_only: false,
      support_read_only_services: ['CTS'],
    });
    const other = await svc.service.runtime.identity.createCredential({
      projectId: '9a'.repeat(16),
      domainId: '9b'.repeat(16),
      user: 'olga',
    });
    const otherCts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: other.access_key_id,
      secretAccessKey: other.secret_access_key,
      projectId: other.project_id,
    });
    assert.deepEqual(await configuration(otherCts), DEFAULTS);
    await otherCts.updateConfiguration({ is_sync_global_trace: false, is_support_read_only: true });
    await svc.stop();
    const restarted = await startTestService({ dataDir: svc.dataDir, credential: svc.credential });
    try {
      const client = createCtsClient({
        endpoint: restarted.url,
        accessKeyId: svc.credential.access_key_id,
        secretAccessKey: svc.credential.secret_access_key,
        projectId: svc.credential.project_id,
      });
      assert.deepEqual(await configuration(client), {
        is_sync_global_trace: true,
        is_support_read_only: false,
        support_read_only_services: ['CTS'],
      });
    } finally {
      await restarted.close();
    }
  });
});
