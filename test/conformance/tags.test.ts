/**
 * Tags on trackers (spec §1.9) through a real server with the SDK core as client: batch create
 * and delete (DELETE with a JSON body), the single-tag, list, per-resource-type and
 * resource-instances filter/count forms, the key/value rules and limits, the self-audit trace of
 * every write, and tags going with their tracker.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createCtsClient,
  expectCtsError,
  type CtsClient,
  type ResourceFilterBody,
  type Trace,
} from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const RT = 'cts-tracker';

describe('tags on trackers with the SDK core as client', () => {
  let svc: TestService;
  let cts: CtsClient;
  let systemId: string;
  let photosId: string;
  let archiveId: string;

  const tagsOf = async (id: string) => (await cts.listResourceTags({ resource_type: RT, resource_id: id })).tags;
  const create = (id: string, tags: Array<{ key: string; value?: string }>) =>
    cts.batchCreateResourceTags({ resource_type: RT, resource_id: id, body: { tags } });
  const remove = (id: string, tags: Array<{ key: string; value?: string }>) =>
    cts.batchDeleteResourceTags({ resource_type: RT, resource_id: id, body: { tags } });

  async function traces(traceName: string): Promise<Trace[]> {
    const res = await cts.listTraces({ trace_type: 'system', limit: 200, trace_name: traceName });
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
    for (const b of ['photos', 'archive']) await mkdir(path.join(svc.dataDir, 'buckets', b), { recursive: true });
    systemId = (await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' })).id as string;
    const data = (name: string) => ({
      tracker_type: 'data',
      tracker_name: name,
      data_bucket: { data_bucket_name: name, data_event: ['READ'] },
    });
    photosId = (await cts.createTracker(data('photos'))).id as string;
    archiveId = (await cts.createTracker(data('archive'))).id as string;
  });
  after(() => svc.close());

  test('batch create answers 200 with no body; the tags are listed sorted by key; a key takes a new value', async () => {
    const res = await create(systemId, [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'audit' },
      { key: 'flag' },
    ]);
    assert.equal(res.httpStatusCode, 200);
    const raw = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${svc.credential.project_id}/${RT}/${systemId}/tags`,
    });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, {
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'flag', value: '' },
        { key: 'team', value: 'audit' },
      ],
    });
    await create(systemId, [{ key: 'env', value: 'staging' }]);
    assert.deepEqual(await tagsOf(systemId), [
      { key: 'env', value: 'staging' },
      { key: 'flag', value: '' },
      { key: 'team', value: 'audit' },
    ]);
  });

  test('the exact bytes of a batch create/delete answer: 200 empty, 204 empty', async () => {
    const pid = svc.credential.project_id;
    const created = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${pid}/${RT}/${archiveId}/tags/create`,
      body: { tags: [{ key: 'tmp', value: 'x' }] },
    });
    assert.equal(created.status, 200);
    assert.equal(created.text, '');
    const deleted = await signedFetch(svc.url, svc.credential, {
      method: 'DELETE',
      path: `/v3/${pid}/${RT}/${archiveId}/tags/delete`,
      body: { tags: [{ key: 'tmp' }] },
    });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.deepEqual(await tagsOf(archiveId), []);
  });

  test('every tag write leaves its CTS trace: resource type tag, the tracker as resource, the status as code', async () => {
    const before = (await traces('batchCreateResourceTags')).length;
    const res = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${svc.credential.project_id}/${RT}/${photosId}/tags/create`,
      body: { tags: [{ key: 'owner', value: 'ops' }] },
    });
    assert.equal(res.status, 200);
    const created = await traces('batchCreateResourceTags');
    assert.equal(created.length, before + 1);
    const trace = created[0]!;
    assert.equal(trace.service_type, 'CTS');
    assert.equal(trace.resource_type, 'tag');
    assert.equal(trace.resource_id, photosId);
    assert.equal(trace.resource_name, 'photos');
    assert.equal(trace.code, '200');
    assert.equal(trace.trace_rating, 'normal');
    assert.equal(trace.request_id, res.headers.get('x-request-id'));
    assert.deepEqual(JSON.parse(trace.request as string), { tags: [{ key: 'owner', value: 'ops' }] });

    await remove(photosId, [{ key: 'owner' }]);
    const [deleted] = await traces('batchDeleteResourceTags');
    assert.equal(deleted?.code, '204');
    assert.equal(deleted?.resource_id, photosId);
    await cts.createResourceTag({
      resource_type: RT,
      resource_id: photosId,
      body: { tag: { key: 'owner', value: 'ops' } },
    });
    const [single] = await traces('createResourceTag');
    assert.equal(single?.code, '204');
    assert.equal(single?.resource_id, photosId);

    // A refused write is recorded too, as a warning with its CTS error.
    await expectCtsError(create(photosId, [{ key: '_sys_x', value: 'v' }]), 400, 'CTS.0003');
    const [failed] = await traces('batchCreateResourceTags');
    assert.equal(failed?.trace_rating, 'warning');
    assert.equal(failed?.code, '400');
    assert.match(String(failed?.response), /CTS\.0003/);
  });

  test('the single-tag form adds one tag (204) and rejects a body without tag', async () => {
    const res = await cts.createResourceTag({
      resource_type: RT,
      resource_id: archiveId,
      body: { tag: { key: 'tier', value: 'cold' } },
    });
    assert.equal(res.httpStatusCode, 204);
    assert.deepEqual(await tagsOf(archiveId), [{ key: 'tier', value: 'cold' }]);
    await expectCtsError(
      cts.createResourceTag({ resource_type: RT, resource_id: archiveId, body: {} as never }),
      400,
      'CTS.0003',
    );
    await expectCtsError(
      cts.createResourceTag({ resource_type: RT, resource_id: archiveId, body: { tag: { key: 'a b ' } } }),
      400,
      'CTS.0003',
    );
  });

  test('batch delete: by key whatever the value, by key and value only when it matches, unknown tags ignored', async () => {
    await create(archiveId, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
    ]);
    const res = await remove(archiveId, [{ key: 'a' }, { key: 'b', value: 'not-2' }, { key: 'zzz', value: 'q' }]);
    assert.equal(res.httpStatusCode, 204);
    assert.deepEqual(await tagsOf(archiveId), [
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
      { key: 'tier', value: 'cold' },
    ]);
    await remove(archiveId, [{ key: 'b', value: '2' }, { key: 'c' }, { key: 'tier' }]);
    assert.deepEqual(await tagsOf(archiveId), []);
    // Retried: nothing left to delete, still 204.
    assert.equal((await remove(archiveId, [{ key: 'c' }])).httpStatusCode, 204);
  });

  test('key and value rules: lengths in characters, the documented characters, spaces, _sys_, duplicates', async () => {
    const valid = [
      { key: 'ä'.repeat(128), value: 'ö'.repeat(255) },
      { key: '键 1_.:=+-@', value: 'v/a_l.u:e=+-@ 2' },
    ];
    assert.equal((await create(archiveId, valid)).httpStatusCode, 200);
    assert.deepEqual(
      (await tagsOf(archiveId)).map((t) => t.key),
      valid.map((t) => t.key).sort(),
    );
    const invalid: Array<[string, { key: string; value?: string }]> = [
      ['empty key', { key: '', value: 'v' }],
      ['key of 129 characters', { key: 'k'.repeat(129), value: 'v' }],
      ['value of 256 characters', { key: 'k', value: 'v'.repeat(256) }],
      ['slash in a key', { key: 'a/b', value: 'v' }],
      ['asterisk in a key', { key: 'a*b', value: 'v' }],
      ['comma in a value', { key: 'k', value: 'a,b' }],
      ['control character', { key: 'k\u0001', value: 'v' }],
      ['leading space in a key', { key: ' k', value: 'v' }],
      ['trailing space in a value', { key: 'k', value: 'v ' }],
      ['_sys_ prefix', { key: '_sys_owner', value: 'v' }],
    ];
    for (const [what, tag] of invalid) {
      const err = await expectCtsError(create(photosId, [tag]), 400, 'CTS.0003');
      assert.ok(err.errorMsg, what);
    }
    await expectCtsError(
      create(photosId, [
        { key: 'dup', value: '1' },
        { key: 'dup', value: '2' },
      ]),
      400,
      'CTS.0003',
    );
    await expectCtsError(remove(photosId, [{ key: '' }]), 400, 'CTS.0003');
    assert.deepEqual(await tagsOf(photosId), [{ key: 'owner', value: 'ops' }], 'no refused write changed anything');
    await remove(
      archiveId,
      valid.map((t) => ({ key: t.key })),
    );
  });

  test('limits: 20 tags per tracker (the 21st is CTS.0407), at most 20 in one request (CTS.0003)', async () => {
    const tags = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${String(from + i).padStart(2, '0')}`, value: 'v' }));
    assert.equal((await create(archiveId, tags(0, 20))).httpStatusCode, 200);
    assert.equal((await tagsOf(archiveId)).length, 20);
    // Changing the value of an existing key is not a new tag.
    assert.equal((await create(archiveId, [{ key: 'k00', value: 'w' }])).httpStatusCode, 200);
    await expectCtsError(create(archiveId, tags(20, 1)), 400, 'CTS.0407');
    await expectCtsError(create(photosId, tags(0, 21)), 400, 'CTS.0003');
    assert.equal((await tagsOf(archiveId)).length, 20);
    await remove(
      archiveId,
      tags(0, 20).map(({ key }) => ({ key })),
    );
  });

  test('a resource type other than cts-tracker is 404 CTS.9404; an unknown or foreign tracker id 404 CTS.0214', async () => {
    // Only cts-tracker has tags: another resource type is an unknown path.
    await expectCtsError(
      cts.batchCreateResourceTags({ resource_type: 'ecs', resource_id: photosId, body: { tags: [] } }),
      404,
      'CTS.9404',
    );
    await expectCtsError(cts.listTags({ resource_type: 'tracker' }), 404, 'CTS.9404');
    await expectCtsError(cts.listFilterResources({ resource_type: 'cts', body: {} }), 404, 'CTS.9404');
    const unknown = '01900000-0000-7000-8000-000000000000';
    await expectCtsError(create(unknown, [{ key: 'k', value: 'v' }]), 404, 'CTS.0214');
    await expectCtsError(remove(unknown, [{ key: 'k' }]), 404, 'CTS.0214');
    await expectCtsError(cts.listResourceTags({ resource_type: RT, resource_id: unknown }), 404, 'CTS.0214');

    // Another project's tracker is as unknown as one that never existed.
    const other = await svc.service.runtime.identity.createCredential({
      projectId: 'ab'.repeat(16),
      domainId: 'cd'.repeat(16),
      user: 'mallory',
    });
    const otherCts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: other.access_key_id,
      secretAccessKey: other.secret_access_key,
      projectId: other.project_id,
    });
    await expectCtsError(
      otherCts.batchCreateResourceTags({ resource_type: RT, resource_id: photosId, body: { tags: [{ key: 'x' }] } }),
      404,
      'CTS.0214',
    );
    await expectCtsError(otherCts.listResourceTags({ resource_type: RT, resource_id: systemId }), 404, 'CTS.0214');
    assert.deepEqual((await otherCts.listTags({ resource_type: RT })).tags, []);
    assert.deepEqual((await otherCts.listFilterResources({ resource_type: RT, body: {} })).resources, []);
  });

  test('list per resource type: every key with its values, paged by key with next_marker', async () => {
    await create(archiveId, [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'storage' },
    ]);
    const all = await cts.listTags({ resource_type: RT });
    assert.deepEqual(all.tags, [
      { key: 'env', values: ['prod', 'staging'] },
      { key: 'flag', values: [''] },
      { key: 'owner', values: ['ops'] },
      { key: 'team', values: ['audit', 'storage'] },
    ]);
    assert.equal(all.page_info.next_marker, null);
    const keys: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await cts.listTags({ resource_type: RT, limit: 3, ...(marker ? { marker } : {}) });
      keys.push(...res.tags.map((t) => t.key));
      assert.ok(res.tags.length <= 3);
      if (res.page_info.next_marker === null) break;
      marker = res.page_info.next_marker;
    }
    assert.deepEqual(keys, ['env', 'flag', 'owner', 'team']);
    await expectCtsError(cts.listTags({ resource_type: RT, limit: 0 }), 400, 'CTS.9400');
    await expectCtsError(cts.listTags({ resource_type: RT, limit: 201 }), 400, 'CTS.9400');
  });

  test('resource-instances filter and count: keys AND, values OR, any value, no tag, resource_name, paging', async () => {
    // system: env=staging flag= team=audit; photos: owner=ops; archive: env=prod team=storage
    const filter = async (body: ResourceFilterBody, paging: { limit?: number; offset?: number } = {}) =>
      cts.listFilterResources({ resource_type: RT, ...paging, body });
    const names = (res: { resources: Array<{ resource_name: string }> }) => res.resources.map((r) => r.resource_name);

    const everything = await filter({});
    assert.deepEqual(names(everything), ['system', 'photos', 'archive']);
    assert.equal(everything.total_count, 3);
    const sys = everything.resources[0]!;
    assert.equal(sys.resource_id, systemId);
    assert.equal(sys.resource_detail, '');
    assert.deepEqual(sys.tags, [
      { key: 'env', value: 'staging' },
      { key: 'flag', value: '' },
      { key: 'team', value: 'audit' },
    ]);
    assert.deepEqual(names(await filter({ tags: [{ key: 'env', values: ['prod'] }] })), ['archive']);
    assert.deepEqual(names(await filter({ tags: [{ key: 'env', values: ['prod', 'staging'] }] })), [
      'system',
      'archive',
    ]);
    assert.deepEqual(names(await filter({ tags: [{ key: 'env', values: [] }] })), ['system', 'archive']);
    assert.deepEqual(names(await filter({ tags: [{ key: 'env' }, { key: 'team', values: ['audit'] }] })), ['system']);
    assert.deepEqual(names(await filter({ tags: [{ key: 'nope' }] })), []);
    assert.deepEqual(names(await filter({ matches: [{ key: 'resource_name', value: 'hiv' }] })), ['archive']);
    assert.deepEqual(
      names(await filter({ tags: [{ key: 'env' }], matches: [{ key: 'resource_name', value: 'sys' }] })),
      ['system'],
    );
    await remove(photosId, [{ key: 'owner' }]);
    assert.deepEqual(names(await filter({ without_any_tag: true, tags: [{ key: 'env' }] })), ['photos']);

    const page = await filter({}, { limit: 1, offset: 1 });
    assert.deepEqual(names(page), ['photos']);
    assert.equal(page.total_count, 3);
    // terraform sends limit and offset in the body.
    assert.deepEqual(names(await filter({ limit: 2, offset: 1 })), ['photos', 'archive']);
    assert.deepEqual(names(await filter({}, { offset: 5 })), []);

    const count = await cts.countFilterResources({ resource_type: RT, body: { tags: [{ key: 'env' }] } });
    assert.equal(count.httpStatusCode, 200);
    assert.equal(count.total_count, 2);
    assert.equal(
      (await cts.countFilterResources({ resource_type: RT, body: { without_any_tag: true } })).total_count,
      1,
    );

    const tooMany = Array.from({ length: 21 }, (_, i) => ({ key: `k${i}` }));
    await expectCtsError(filter({ tags: tooMany }), 400, 'CTS.0003');
    await expectCtsError(
      filter({ tags: [{ key: 'k', values: Array.from({ length: 21 }, (_, i) => `v${i}`) }] }),
      400,
      'CTS.0003',
    );
    await expectCtsError(filter({ tags: [{ key: 'k' }, { key: 'k' }] }), 400, 'CTS.0003');
    await expectCtsError(filter({ tags: [{ key: 'k', values: ['a', 'a'] }] }), 400, 'CTS.0003');
    await expectCtsError(filter({ matches: [{ key: 'tracker_type', value: 'data' }] }), 400, 'CTS.0003');
    await expectCtsError(filter({}, { limit: 0 }), 400, 'CTS.9400');
    await expectCtsError(filter({}, { limit: 1001 }), 400, 'CTS.9400');
    await expectCtsError(filter({}, { offset: -1 }), 400, 'CTS.9400');
    await expectCtsError(
      cts.countFilterResources({ resource_type: RT, body: { without_any_tag: 'yes' } as never }),
      400,
      'CTS.0003',
    );
  });

  test('deleting a tracker deletes its tags; a new tracker of the same name starts without any', async () => {
    assert.ok((await tagsOf(archiveId)).length > 0);
    await cts.deleteTracker({ tracker_name: 'archive', tracker_type: 'data' });
    await expectCtsError(cts.listResourceTags({ resource_type: RT, resource_id: archiveId }), 404, 'CTS.0214');
    const again = await cts.createTracker({
      tracker_type: 'data',
      tracker_name: 'archive',
      data_bucket: { data_bucket_name: 'archive', data_event: ['READ'] },
    });
    assert.notEqual(again.id, archiveId);
    assert.deepEqual(await tagsOf(again.id as string), []);
    const keys = (await cts.listTags({ resource_type: RT })).tags;
    assert.deepEqual(keys, [
      { key: 'env', values: ['staging'] },
      { key: 'flag', values: [''] },
      { key: 'team', values: ['audit'] },
    ]);
    archiveId = again.id as string;
  });

  test('tag writes are recorded only while the system tracker records, as tracker writes are', async () => {
    const count = async () => (await traces('batchCreateResourceTags')).length;
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'disabled' });
    const before = await count();
    await create(photosId, [{ key: 'quiet', value: 'yes' }]);
    assert.equal(await count(), before, 'no trace while recording is off');
    await cts.updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' });
    await remove(photosId, [{ key: 'quiet' }]);
    await create(photosId, [{ key: 'loud', value: 'yes' }]);
    assert.equal(await count(), before + 1);
    await remove(photosId, [{ key: 'loud' }]);
  });

  test('tags survive a restart', async () => {
    await svc.stop();
    const restarted = await startTestService({ dataDir: svc.dataDir, credential: svc.credential });
    try {
      const client = createCtsClient({
        endpoint: restarted.url,
        accessKeyId: svc.credential.access_key_id,
        secretAccessKey: svc.credential.secret_access_key,
        projectId: svc.credential.project_id,
      });
      assert.deepEqual((await client.listResourceTags({ resource_type: RT, resource_id: systemId })).tags, [
        { key: 'env', value: 'staging' },
        { key: 'flag', value: '' },
        { key: 'team', value: 'audit' },
      ]);
    } finally {
      await restarted.close();
    }
  });
});
