/**
 * Tracker API conformance (spec §1.1–§1.5, seed document) through a real socket, with the
 * official Huawei Cloud SDK core as the client.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError, type CtsClient, type TrackerBody } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';

function clientFor(svc: TestService, credential = svc.credential): CtsClient {
  return createCtsClient({
    endpoint: svc.url,
    accessKeyId: credential.access_key_id,
    secretAccessKey: credential.secret_access_key,
    projectId: credential.project_id,
  });
}

async function makeBucket(svc: TestService, name: string): Promise<void> {
  await mkdir(path.join(svc.dataDir, 'buckets', name), { recursive: true });
}

/** The seed document's example request (cts_api_0321). */
const SEED_REQUEST = {
  tracker_type: 'system',
  tracker_name: 'system',
  obs_info: { is_obs_created: false, bucket_name: 'test-bucket', file_prefix_name: '11' },
  is_lts_enabled: true,
  is_support_validate: true,
};

function dataTracker(name: string, bucket: string, events = ['READ', 'WRITE']) {
  return { tracker_type: 'data', tracker_name: name, data_bucket: { data_bucket_name: bucket, data_event: events } };
}

function typeOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

describe('tracker API with the SDK core as client', () => {
  let svc: TestService;
  let cts: CtsClient;

  before(async () => {
    svc = await startTestService();
    cts = clientFor(svc);
    for (const b of ['test-bucket', 'src-bucket', 'src-two', 'dst-bucket']) await makeBucket(svc, b);
  });
  after(() => svc.close());

  test('the seed example creates the system tracker: 201 with the documented response shape', async () => {
    const created = await cts.createTracker(SEED_REQUEST);
    assert.equal(created.httpStatusCode, 201);
    const { httpStatusCode: _status, ...body } = created;
    // Every field of the seed's example response, with its documented type.
    const documented: Record<string, string> = {
      id: 'string',
      create_time: 'number',
      domain_id: 'string',
      obs_info: 'object',
      project_id: 'string',
      lts: 'object',
      is_support_validate: 'boolean',
      tracker_name: 'string',
      tracker_type: 'string',
      status: 'string',
    };
    for (const [field, type] of Object.entries(documented)) assert.equal(typeOf(body[field]), type, field);
    assert.match(String(body['id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(Number.isInteger(body['create_time']) && String(body['create_time']).length === 13);
    assert.equal(body['project_id'], svc.credential.project_id);
    assert.equal(body['domain_id'], svc.credential.domain_id);
    assert.equal(body['tracker_type'], 'system');
    assert.equal(body['tracker_name'], 'system');
    assert.equal(body['status'], 'enabled');
    assert.equal(body['is_support_validate'], true);
    assert.deepEqual(body['lts'], { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'system-trace' });
    const obs = body['obs_info'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(obs).sort(), [
      'bucket_lifecycle',
      'bucket_location',
      'bucket_name',
      'compress_type',
      'file_prefix_name',
      'is_authorized_bucket',
      'is_obs_created',
      'is_sort_by_service',
    ]);
    assert.equal(obs['bucket_name'], 'test-bucket');
    assert.equal(obs['file_prefix_name'], '11');
    assert.equal(obs['is_obs_created'], false);
    assert.equal(obs['compress_type'], 'gzip');
    assert.equal(obs['is_sort_by_service'], true);
    assert.equal(typeOf(obs['bucket_lifecycle']), 'number');
    assert.equal(typeOf(obs['is_authorized_bucket']), 'boolean');
    assert.equal(typeOf(obs['bucket_location']), 'string');
    // The other fields of the tracker object (spec §1.1) that terraform reads back.
    assert.deepEqual(body['management_event_selector'], { exclude_service: [] });
    assert.equal(body['is_support_trace_files_encryption'], false);
    assert.equal(body['is_organization_tracker'], false);
    assert.equal(body['detail'], undefined, 'detail only appears with status error');
  });

  test('a second system tracker is refused with CTS.0201', async () => {
    await expectCtsError(cts.createTracker(SEED_REQUEST), 400, 'CTS.0201');
  });

  test('a data tracker is created with its data bucket and defaults', async () => {
    const created = await cts.createTracker({
      ...dataTracker('data-1', 'src-bucket', ['WRITE']),
      obs_info: { bucket_name: 'dst-bucket', bucket_lifecycle: 30, compress_type: 'json' },
      agency_name: 'cts_admin_trust',
    });
    assert.equal(created.httpStatusCode, 201);
    assert.equal(created.tracker_type, 'data');
    assert.deepEqual(created['data_bucket'], {
      data_bucket_name: 'src-bucket',
      search_enabled: false,
      data_event: ['WRITE'],
    });
    assert.deepEqual(created['lts'], { is_lts_enabled: false, log_group_name: 'CTS', log_topic_name: 'data-1' });
    const obs = created['obs_info'] as Record<string, unknown>;
    assert.equal(obs['compress_type'], 'json');
    assert.equal(obs['bucket_lifecycle'], 30);
    assert.equal(obs['is_sort_by_service'], true);
    assert.equal(created['agency_name'], 'cts_admin_trust');
  });

  test('list filters match exactly and return [] when nothing matches', async () => {
    await cts.createTracker(dataTracker('data-10', 'src-two'));
    const all = await cts.listTrackers();
    assert.equal(all.httpStatusCode, 200);
    assert.deepEqual(all.trackers.map((t) => t.tracker_name).sort(), ['data-1', 'data-10', 'system']);
    for (const t of all.trackers) assert.equal(t.project_id, svc.credential.project_id);
    const one = await cts.listTrackers({ tracker_name: 'data-1' });
    assert.deepEqual(
      one.trackers.map((t) => t.tracker_name),
      ['data-1'],
      'data-10 must not match a filter of data-1',
    );
    const data = await cts.listTrackers({ tracker_type: 'data' });
    assert.deepEqual(data.trackers.map((t) => t.tracker_name).sort(), ['data-1', 'data-10']);
    const none = await cts.listTrackers({ tracker_name: 'nope' });
    assert.deepEqual(none.trackers, []);
    await expectCtsError(cts.listTrackers({ tracker_type: 'other' }), 400, 'CTS.0202');
  });

  test('update is a partial merge: 200 with an empty body, omitted fields keep their values', async () => {
    const updated = await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'disabled' });
    assert.equal(updated.httpStatusCode, 200);
    assert.deepEqual(Object.keys(updated), ['httpStatusCode'], 'no body');
    let [system] = (await cts.listTrackers({ tracker_name: 'system' })).trackers;
    assert.equal(system?.status, 'disabled');
    assert.equal((system?.obs_info as Record<string, unknown>)['bucket_name'], 'test-bucket');
    assert.equal(system?.is_support_validate, true);

    await cts.updateTracker({
      tracker_type: 'system',
      tracker_name: 'system',
      status: 'enabled',
      obs_info: { file_prefix_name: 'pre', compress_type: 'json' },
      // terraform's typo must be ignored, not rejected
      aegncy_name: 'cts_admin_trust',
    });
    [system] = (await cts.listTrackers({ tracker_name: 'system' })).trackers;
    assert.equal(system?.status, 'enabled');
    const obs = system?.obs_info as Record<string, unknown>;
    assert.equal(obs['file_prefix_name'], 'pre');
    assert.equal(obs['compress_type'], 'json');
    assert.equal(obs['bucket_name'], 'test-bucket');
  });

  test('update errors: unknown tracker 404 CTS.0214, bad status CTS.0205, data bucket immutable CTS.0212', async () => {
    await expectCtsError(cts.updateTracker({ tracker_type: 'data', tracker_name: 'ghost' }), 404, 'CTS.0214');
    await expectCtsError(
      cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'error' }),
      400,
      'CTS.0205',
    );
    await expectCtsError(
      cts.updateTracker({
        tracker_type: 'data',
        tracker_name: 'data-1',
        data_bucket: { data_bucket_name: 'src-two' },
      }),
      400,
      'CTS.0212',
    );
  });

  test('create errors: every validation code of the seed and spec §1.2', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['bad type', { tracker_type: 'other', tracker_name: 'x' }, 'CTS.0202'],
      ['missing type', { tracker_name: 'x' }, 'CTS.0202'],
      ['bad data name', dataTracker('-bad', 'src-bucket'), 'CTS.0203'],
      ['data name too long', dataTracker('a'.repeat(33), 'src-bucket'), 'CTS.0203'],
      ['system name', { tracker_type: 'system', tracker_name: 'main' }, 'CTS.0204'],
      ['data_bucket on system', { ...SEED_REQUEST, data_bucket: { data_bucket_name: 'src-bucket' } }, 'CTS.0206'],
      ['reserved data name', dataTracker('system-trace', 'src-bucket'), 'CTS.0207'],
      ['duplicate data name', dataTracker('data-1', 'src-two', ['READ']), 'CTS.0208'],
      ['same bucket and event', dataTracker('data-2', 'src-bucket', ['WRITE']), 'CTS.0209'],
      ['no data bucket', { tracker_type: 'data', tracker_name: 'data-3' }, 'CTS.0210'],
      ['data bucket missing', dataTracker('data-3', 'no-such-bucket'), 'CTS.0211'],
      [
        'transfer bucket missing',
        { ...dataTracker('data-3', 'src-bucket', ['READ']), obs_info: { bucket_name: 'no-such-bucket' } },
        'CTS.0211',
      ],
      [
        'same data and transfer bucket',
        { ...dataTracker('data-3', 'src-bucket', ['READ']), obs_info: { bucket_name: 'src-bucket' } },
        'CTS.0213',
      ],
      [
        'bucket to create exists',
        {
          ...dataTracker('data-3', 'src-bucket', ['READ']),
          obs_info: { bucket_name: 'dst-bucket', is_obs_created: true },
        },
        'CTS.0215',
      ],
      [
        'bad file prefix',
        {
          ...dataTracker('data-3', 'src-bucket', ['READ']),
          obs_info: { bucket_name: 'dst-bucket', file_prefix_name: 'a b' },
        },
        'CTS.0218',
      ],
      ['empty data_event', dataTracker('data-3', 'src-bucket', []), 'CTS.0219'],
      ['bad data_event', dataTracker('data-3', 'src-bucket', ['DELETE']), 'CTS.0225'],
      [
        'encryption without key',
        { tracker_type: 'data', tracker_name: 'x', is_support_trace_files_encryption: true },
        'CTS.0003',
      ],
      [
        'bad bucket name',
        { ...dataTracker('data-3', 'src-bucket', ['READ']), obs_info: { bucket_name: 'Bad_Bucket' } },
        'CTS.0231',
      ],
      [
        'bad compress type',
        { ...dataTracker('data-3', 'src-bucket', ['READ']), obs_info: { compress_type: 'zip' } },
        'CTS.0003',
      ],
      ['wrong field type', { ...dataTracker('data-3', 'src-bucket', ['READ']), is_lts_enabled: 'yes' }, 'CTS.0003'],
      ['bad agency', { ...dataTracker('data-3', 'src-bucket', ['READ']), agency_name: 'admin' }, 'CTS.0003'],
    ];
    for (const [what, body, code] of cases) {
      await expectCtsError(cts.createTracker(body as TrackerBody), 400, code).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
    }
    const after = await cts.listTrackers({ tracker_type: 'data' });
    assert.deepEqual(after.trackers.map((t) => t.tracker_name).sort(), ['data-1', 'data-10'], 'nothing was created');
  });

  test('system-only features that need KMS or Organizations answer CTS.0221/0220/0228', async () => {
    const other = await startTestService();
    try {
      const c = clientFor(other);
      const base = { tracker_type: 'system', tracker_name: 'system' };
      await expectCtsError(c.createTracker({ ...base, is_support_trace_files_encryption: true }), 400, 'CTS.0221');
      await expectCtsError(
        c.createTracker({ ...base, is_support_trace_files_encryption: true, kms_id: 'key-1' }),
        400,
        'CTS.0220',
      );
      await expectCtsError(c.createTracker({ ...base, is_organization_tracker: true }), 400, 'CTS.0228');
    } finally {
      await other.close();
    }
  });

  test('delete follows Huawei semantics: by name, all data trackers, and the system tracker only when asked', async () => {
    await expectCtsError(cts.deleteTracker({ tracker_name: 'ghost', tracker_type: 'data' }), 404, 'CTS.0214');
    const byName = await cts.deleteTracker({ tracker_name: 'data-10', tracker_type: 'data' });
    assert.equal(byName.httpStatusCode, 204);
    assert.deepEqual((await cts.listTrackers()).trackers.map((t) => t.tracker_name).sort(), ['data-1', 'system']);
    await cts.createTracker(dataTracker('data-20', 'src-two'));
    // No name, no type: every data tracker goes, the system tracker stays.
    assert.equal((await cts.deleteTracker()).httpStatusCode, 204);
    assert.deepEqual(
      (await cts.listTrackers()).trackers.map((t) => t.tracker_name),
      ['system'],
    );
    // Open Telekom Cloud's provider deletes the system tracker with the name alone.
    assert.equal((await cts.deleteTracker({ tracker_name: 'system' })).httpStatusCode, 204);
    assert.deepEqual((await cts.listTrackers()).trackers, []);
    await expectCtsError(cts.deleteTracker({ tracker_name: 'system', tracker_type: 'system' }), 404, 'CTS.0214');
    // The system tracker can be created again.
    assert.equal((await cts.createTracker(SEED_REQUEST)).httpStatusCode, 201);
  });

  test('is_obs_created creates the bucket folder; a failing creation answers CTS.0216', async () => {
    const created = await cts.createTracker({
      ...dataTracker('data-new-bucket', 'src-bucket', ['READ']),
      obs_info: { bucket_name: 'fresh-bucket', is_obs_created: true, bucket_lifecycle: 60 },
    });
    assert.equal((created['obs_info'] as Record<string, unknown>)['is_obs_created'], true);
    const other = await startTestService();
    try {
      // A file where the buckets folder should be makes every bucket creation fail.
      await writeFile(path.join(other.dataDir, 'buckets'), 'not a folder');
      await expectCtsError(
        clientFor(other).createTracker({
          tracker_type: 'system',
          tracker_name: 'system',
          obs_info: { bucket_name: 'new-bucket', is_obs_created: true },
        }),
        400,
        'CTS.0216',
      );
    } finally {
      await other.close();
    }
  });

  test('a failing lifecycle rule answers CTS.0217 and creates nothing', async () => {
    const other = await startTestService();
    try {
      await makeBucket(other, 'life-bucket');
      // A file where the bucket settings folder should be makes the lifecycle write fail.
      await writeFile(path.join(other.dataDir, 'buckets', '.opencts'), 'not a folder');
      const c = clientFor(other);
      await expectCtsError(
        c.createTracker({
          tracker_type: 'system',
          tracker_name: 'system',
          obs_info: { bucket_name: 'life-bucket', bucket_lifecycle: 30 },
        }),
        400,
        'CTS.0217',
      );
      assert.deepEqual((await c.listTrackers()).trackers, []);
    } finally {
      await other.close();
    }
  });

  test("another project's key gets 403 CTS.0012; an unknown key 401", async () => {
    const stranger = await svc.service.runtime.identity.createCredential({
      projectId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      domainId: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      user: 'mallory',
    });
    const wrongProject = createCtsClient({
      endpoint: svc.url,
      accessKeyId: stranger.access_key_id,
      secretAccessKey: stranger.secret_access_key,
      projectId: svc.credential.project_id,
    });
    await expectCtsError(wrongProject.listTrackers(), 403, 'CTS.0012');
    await expectCtsError(wrongProject.deleteTracker({ tracker_name: 'system' }), 403, 'CTS.0012');
    const unknown = createCtsClient({
      endpoint: svc.url,
      accessKeyId: 'AAAAAAAAAAAAAAAAAAAA',
      secretAccessKey: 'x'.repeat(40),
      projectId: svc.credential.project_id,
    });
    await expectCtsError(unknown.listTrackers(), 401, 'CTS.9401');
    assert.ok((await cts.listTrackers({ tracker_name: 'system' })).trackers.length === 1, 'system tracker untouched');
  });

  test('the data tracker quota is 100 (CTS.0200)', async () => {
    const other = await startTestService();
    try {
      const c = clientFor(other);
      for (let i = 0; i <= 100; i++) await makeBucket(other, `quota-${i}`);
      for (let i = 0; i < 100; i++) await c.createTracker(dataTracker(`q${i}`, `quota-${i}`));
      await expectCtsError(c.createTracker(dataTracker('q100', 'quota-100')), 400, 'CTS.0200');
      assert.equal((await c.listTrackers({ tracker_type: 'data' })).trackers.length, 100);
    } finally {
      await other.close();
    }
  });
});
