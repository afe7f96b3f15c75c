/**
 * Provider-shaped conformance: the request sequences of the huaweicloud Terraform provider
 * (clients.md §2.1) replayed against a real server, with its bodies (keys sorted as Go marshals a
 * map, the data tracker's `aegncy_name` typo), golangsdk signing (X-Project-Id and Host unsigned)
 * and the status codes chnsz/golangsdk accepts (GET 200; POST/PUT 200/201/202; DELETE 200/202/204).
 * A step passes when the provider would take the answer and find what it reads back.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../support/cli.js';
import { ProviderClient, pathSearch, type ProviderResponse } from '../../support/provider-client.js';
import { startTestService, type TestService } from '../../support/service.js';

type Json = Record<string, unknown>;

/** Fields the provider's tracker Read sets from the list item (clients.md §2.1). */
const TRACKER_READ_FIELDS = [
  'id',
  'tracker_name',
  'tracker_type',
  'status',
  'create_time',
  'domain_id',
  'agency_name',
  'is_organization_tracker',
  'is_support_validate',
  'lts.is_lts_enabled',
  'lts.log_group_name',
  'lts.log_topic_name',
  'obs_info.bucket_name',
  'obs_info.file_prefix_name',
  'obs_info.is_sort_by_service',
  'obs_info.compress_type',
  'obs_info.is_authorized_bucket',
  'management_event_selector.exclude_service',
];

describe('huaweicloud provider (golangsdk requests, chnsz OK codes)', () => {
  let svc: TestService;
  let tf: ProviderClient;
  let pid: string;
  let webhook: http.Server;
  let webhookUrl: string;

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
    tf = new ProviderClient('huaweicloud', svc.url, svc.credential);
    for (const bucket of ['tf-system-bucket', 'tf-src', 'tf-dst']) {
      await mkdir(path.join(svc.dataDir, 'buckets', bucket), { recursive: true });
    }
    // The SMN topic's stand-in: a webhook that takes whatever notifications deliver.
    webhook = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await svc.close();
    await new Promise((resolve) => webhook.close(resolve));
  });

  /** `trackers[?project_id=='<pid>']|[0]`, the system tracker resource's lookup. */
  async function findSystemTracker(): Promise<Json | undefined> {
    const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/trackers`, query: [['tracker_name', 'system']] });
    const trackers = pathSearch(res.json, 'trackers') as Json[];
    return trackers.find((t) => t['project_id'] === pid);
  }

  function readAll(item: Json, fields: readonly string[]): void {
    for (const field of fields) assert.notEqual(pathSearch(item, field), undefined, `the provider reads ${field}`);
  }

  describe('huaweicloud_cts_tracker (system tracker)', () => {
    let trackerId = '';

    test('create: no system tracker in the list (project_id filter), then POST with the provider body', async () => {
      assert.equal(await findSystemTracker(), undefined);
      const res = await tf.expectOk({
        method: 'POST',
        path: `/v3/${pid}/tracker`,
        body: {
          tracker_name: 'system',
          tracker_type: 'system',
          is_lts_enabled: true,
          is_organization_tracker: false,
          is_support_validate: true,
          obs_info: {
            bucket_name: 'tf-system-bucket',
            file_prefix_name: 'tf',
            is_sort_by_service: true,
            compress_type: 'gzip',
          },
          agency_name: 'cts_admin_trust',
          management_event_selector: { exclude_service: ['KMS'] },
        },
      });
      trackerId = String(pathSearch(res.json, 'id') ?? '');
      assert.notEqual(trackerId, '', 'the provider needs a non-empty id');
    });

    test('create again finds the tracker through the project_id filter and switches to update', async () => {
      const found = await findSystemTracker();
      assert.equal(found?.['id'], trackerId);
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: { tracker_name: 'system', tracker_type: 'system', status: 'enabled', agency_name: 'cts_admin_trust' },
      });
    });

    test('tags: POST /v3/{project_id}/cts-tracker/{id}/tags/create', async () => {
      await tf.expectOk({
        method: 'POST',
        path: `/v3/${pid}/cts-tracker/${trackerId}/tags/create`,
        body: { tags: [{ key: 'owner', value: 'terraform' }] },
      });
    });

    test('read: every field the provider sets is in the list item', async () => {
      const item = await findSystemTracker();
      assert.ok(item);
      readAll(item, TRACKER_READ_FIELDS);
      assert.equal(item['agency_name'], 'cts_admin_trust');
      assert.equal(pathSearch(item, 'obs_info.bucket_name'), 'tf-system-bucket');
      assert.deepEqual(pathSearch(item, 'management_event_selector.exclude_service'), ['KMS']);
    });

    test('update: status first (a body of four keys), then the configuration', async () => {
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: { tracker_name: 'system', tracker_type: 'system', status: 'disabled', agency_name: 'cts_admin_trust' },
      });
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: {
          tracker_name: 'system',
          tracker_type: 'system',
          is_lts_enabled: false,
          is_organization_tracker: false,
          is_support_validate: false,
          obs_info: { bucket_name: 'tf-system-bucket', file_prefix_name: 'tf2', is_sort_by_service: false },
          agency_name: 'cts_admin_trust',
        },
      });
      const item = await findSystemTracker();
      assert.equal(item?.['status'], 'disabled', 'the configuration update kept the status');
      assert.equal(pathSearch(item, 'obs_info.file_prefix_name'), 'tf2');
      assert.equal(pathSearch(item, 'lts.is_lts_enabled'), false);
    });

    test('delete (default): disable, reset the configuration; the destroy check sees it disabled', async () => {
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: { tracker_name: 'system', tracker_type: 'system', status: 'disabled', agency_name: 'cts_admin_trust' },
      });
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: {
          tracker_name: 'system',
          tracker_type: 'system',
          obs_info: { bucket_name: '', file_prefix_name: '', is_sort_by_service: false, compress_type: 'json' },
          is_lts_enabled: false,
          is_support_validate: false,
          is_support_trace_files_encryption: false,
          kms_id: '',
          agency_name: 'cts_admin_trust',
        },
      });
      const item = await findSystemTracker();
      assert.equal(item?.['status'], 'disabled');
      assert.equal(pathSearch(item, 'obs_info.bucket_name'), '');
    });

    test('tags: DELETE /v3/{project_id}/cts-tracker/{id}/tags/delete with a JSON body', async () => {
      await tf.expectOk({
        method: 'DELETE',
        path: `/v3/${pid}/cts-tracker/${trackerId}/tags/delete`,
        body: { tags: [{ key: 'owner', value: 'terraform' }] },
      });
    });

    test('delete with delete_tracker=true: DELETE ?tracker_name=system&tracker_type=system; again is "gone"', async () => {
      await tf.expectOk({
        method: 'DELETE',
        path: `/v3/${pid}/trackers`,
        query: [
          ['tracker_name', 'system'],
          ['tracker_type', 'system'],
        ],
      });
      assert.equal(await findSystemTracker(), undefined);
      const again = await tf.request({
        method: 'DELETE',
        path: `/v3/${pid}/trackers`,
        query: [
          ['tracker_name', 'system'],
          ['tracker_type', 'system'],
        ],
      });
      // 404, or 403 CTS.0013, is what the provider reads as "already deleted".
      const code = pathSearch(again.json, 'error_code');
      assert.ok(again.status === 404 || (again.status === 403 && code === 'CTS.0013'), again.text);
    });
  });

  describe('huaweicloud_cts_data_tracker', () => {
    const dataBody = (name: string) => ({
      tracker_type: 'data',
      tracker_name: name,
      is_lts_enabled: true,
      is_support_validate: false,
      data_bucket: { data_bucket_name: 'tf-src', data_event: ['READ', 'WRITE'] },
      obs_info: {
        bucket_name: 'tf-dst',
        file_prefix_name: 'cloudTrace',
        is_sort_by_service: true,
        compress_type: 'gzip',
        bucket_lifecycle: 30,
      },
      agency_name: 'cts_admin_trust',
    });
    const read = async (name: string) => {
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/trackers`,
        query: [
          ['tracker_name', name],
          ['tracker_type', 'data'],
        ],
      });
      return (pathSearch(res.json, 'trackers') as Json[])[0];
    };

    test('create: POST with the provider body; the response has an id', async () => {
      const res = await tf.expectOk({ method: 'POST', path: `/v3/${pid}/tracker`, body: dataBody('tf-data') });
      assert.ok(pathSearch(res.json, 'id'));
    });

    test('read: ?tracker_name&tracker_type=data matches exactly, and trackers|[0] has what the provider reads', async () => {
      // A second tracker whose name starts the same: a prefix match would make [0] the wrong one.
      const other = dataBody('tf-data-2');
      other.data_bucket.data_event = ['READ'];
      other.data_bucket.data_bucket_name = 'tf-dst';
      other.obs_info.bucket_name = 'tf-src';
      await tf.expectOk({ method: 'POST', path: `/v3/${pid}/tracker`, body: other });
      const item = await read('tf-data');
      assert.ok(item);
      assert.equal(item['tracker_name'], 'tf-data');
      readAll(item, [
        'id',
        'tracker_name',
        'tracker_type',
        'status',
        'create_time',
        'domain_id',
        'agency_name',
        'is_support_validate',
        'lts.is_lts_enabled',
        'data_bucket.data_bucket_name',
        'data_bucket.data_event',
        'obs_info.bucket_name',
        'obs_info.file_prefix_name',
        'obs_info.bucket_lifecycle',
        'obs_info.compress_type',
      ]);
      assert.deepEqual(pathSearch(item, 'data_bucket.data_event'), ['READ', 'WRITE']);
      assert.equal(pathSearch(item, 'obs_info.bucket_lifecycle'), 30);
    });

    test('update: PUT with the provider\'s typo key "aegncy_name" is accepted and applied', async () => {
      const { agency_name: _agency, ...body } = dataBody('tf-data');
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/tracker`,
        body: { ...body, is_lts_enabled: false, aegncy_name: 'cts_admin_trust', status: 'disabled' },
      });
      const item = await read('tf-data');
      assert.equal(item?.['status'], 'disabled');
      assert.equal(pathSearch(item, 'lts.is_lts_enabled'), false);
    });

    test('delete: DELETE ?tracker_name&tracker_type=data; the next read is empty (gone)', async () => {
      for (const name of ['tf-data', 'tf-data-2']) {
        await tf.expectOk({
          method: 'DELETE',
          path: `/v3/${pid}/trackers`,
          query: [
            ['tracker_name', name],
            ['tracker_type', 'data'],
          ],
        });
        assert.equal(await read(name), undefined);
      }
    });
  });

  describe('huaweicloud_cts_notification', () => {
    const name = 'tf_keyOps';
    const topicUrn = () => `urn:smn:${svc.service.runtime.config.region}:${pid}:tf_topic`;
    let notificationId = '';
    const body = (status?: string) => ({
      notification_name: name,
      operation_type: 'customized',
      operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['createTracker', 'deleteTracker'] }],
      notify_user_list: [{ user_group: 'admin', user_list: ['alice', 'bob'] }],
      topic_id: topicUrn(),
      filter: { condition: 'OR', is_support_filter: true, rule: ['code != 200', 'trace_rating = normal'] },
      agency_name: 'cts_admin_trust',
      ...(status === undefined ? {} : { notification_id: notificationId, status }),
    });
    const readBack = async (): Promise<Json | undefined> => {
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/notifications/smn`,
        query: [['notification_name', name]],
      });
      return (pathSearch(res.json, 'notifications') as Json[] | undefined)?.[0];
    };

    test('create: register the topic, POST the provider body, re-PUT when the status differs', async () => {
      const topic = await runCli([
        'topics',
        'create',
        '--data-dir',
        svc.dataDir,
        '--project-id',
        pid,
        '--urn',
        topicUrn(),
        '--url',
        webhookUrl,
      ]);
      assert.equal(topic.code, 0, topic.stderr);
      const res = await tf.expectOk({ method: 'POST', path: `/v3/${pid}/notifications`, body: body() });
      notificationId = String(pathSearch(res.json, 'notification_id') ?? '');
      assert.notEqual(notificationId, '');
      if (pathSearch(res.json, 'status') !== 'enabled') {
        await tf.expectOk({ method: 'PUT', path: `/v3/${pid}/notifications`, body: body('enabled') });
      }
    });

    test('read: notifications/smn?notification_name=NAME, [0] round-trips what was sent', async () => {
      const item = await readBack();
      assert.ok(item);
      assert.equal(item['notification_id'], notificationId);
      assert.equal(item['status'], 'enabled');
      assert.equal(item['topic_id'], topicUrn());
      assert.equal(item['agency_name'], 'cts_admin_trust');
      assert.deepEqual(item['operations'], body().operations);
      assert.deepEqual(item['notify_user_list'], body().notify_user_list);
      assert.equal(pathSearch(item, 'filter.condition'), 'OR');
      assert.deepEqual(pathSearch(item, 'filter.rule'), body().filter.rule);
      assert.ok(Number.isInteger(item['create_time']));
    });

    test('update: PUT with notification_id in the body (the full desired state)', async () => {
      await tf.expectOk({ method: 'PUT', path: `/v3/${pid}/notifications`, body: body('disabled') });
      assert.equal((await readBack())?.['status'], 'disabled');
    });

    test('delete: DELETE ?notification_id=ID; the next read is empty (gone)', async () => {
      await tf.expectOk({
        method: 'DELETE',
        path: `/v3/${pid}/notifications`,
        query: [['notification_id', notificationId]],
      });
      assert.equal(await readBack(), undefined);
    });
  });

  describe('data sources', () => {
    test('huaweicloud_cts_traces: MarkerPager over meta_data.marker/next collects every trace once', async () => {
      // Some traces to page through: the tracker changes above were recorded while a tracker existed.
      await tf.expectOk({
        method: 'POST',
        path: `/v3/${pid}/tracker`,
        body: { tracker_name: 'system', tracker_type: 'system', agency_name: 'cts_admin_trust' },
      });
      for (const status of ['disabled', 'enabled', 'disabled', 'enabled']) {
        await tf.expectOk({
          method: 'PUT',
          path: `/v3/${pid}/tracker`,
          body: { tracker_name: 'system', tracker_type: 'system', status, agency_name: 'cts_admin_trust' },
        });
      }
      // from/to: the provider's time strings, in seconds, times 1000.
      const nowSeconds = Math.ceil(Date.now() / 1000) + 1;
      const base: Array<[string, string]> = [
        ['trace_type', 'system'],
        ['from', String((nowSeconds - 3600) * 1000)],
        ['to', String(nowSeconds * 1000)],
        ['service_type', 'CTS'],
      ];
      const all = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/traces`, query: [...base, ['limit', '200']] });
      const expected = (pathSearch(all.json, 'traces') as Json[]).map((t) => t['trace_id']);
      assert.ok(expected.length >= 5, `only ${expected.length} traces`);
      const paged: unknown[] = [];
      let marker: unknown = null;
      let pages = 0;
      do {
        const query: Array<[string, string]> = [...base, ['limit', '2']];
        if (typeof marker === 'string') query.push(['next', marker]);
        const page: ProviderResponse = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/traces`, query });
        paged.push(...(pathSearch(page.json, 'traces') as Json[]).map((t) => t['trace_id']));
        marker = pathSearch(page.json, 'meta_data.marker');
        pages++;
      } while (typeof marker === 'string' && marker !== '' && pages < 100);
      assert.deepEqual(paged, expected);
    });

    test('huaweicloud_cts_check_bucket: POST /v3/{domain_id}/checkbucket', async () => {
      const region = svc.service.runtime.config.region;
      const res = await tf.expectOk({
        method: 'POST',
        path: `/v3/${svc.credential.domain_id}/checkbucket`,
        body: {
          buckets: [{ bucket_location: region, bucket_name: 'tf-dst', is_support_trace_files_encryption: false }],
        },
      });
      const [bucket] = pathSearch(res.json, 'buckets') as Json[];
      assert.equal(bucket?.['bucket_name'], 'tf-dst');
      assert.equal(pathSearch(bucket, 'check_bucket_response.success'), true);
      assert.equal(pathSearch(bucket, 'check_bucket_response.response_code'), 200);
    });

    test('huaweicloud_cts_quotas: GET /v3/{project_id}/quotas', async () => {
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/quotas` });
      const types = (pathSearch(res.json, 'resources') as Json[]).map((r) => r['type']);
      assert.deepEqual([...types].sort(), ['data_tracker', 'smn_notification', 'system_tracker']);
    });

    test('huaweicloud_cts_operations: GET /v3/{project_id}/operations', async () => {
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/operations`,
        query: [['service_type', 'CTS']],
      });
      const operations = pathSearch(res.json, 'operations') as Json[];
      assert.ok(operations.some((o) => (o['operation_list'] as string[]).includes('createTracker')));
    });

    test('huaweicloud_cts_resources: GET /v3/{domain_id}/resources', async () => {
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${svc.credential.domain_id}/resources` });
      assert.ok(Array.isArray(pathSearch(res.json, 'resources')));
    });

    test('huaweicloud_cts_users: GET /v3/{project_id}/user-resources', async () => {
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/user-resources` });
      const users = pathSearch(res.json, 'users') as Json[];
      assert.ok(users.some((u) => u['name'] === svc.credential.user));
    });

    test('huaweicloud_cts_resource_tags: GET /v3/{project_id}/cts-tracker/{id}/tags', async () => {
      const tracker = await findSystemTracker();
      assert.ok(tracker);
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/cts-tracker/${String(tracker['id'])}/tags` });
      assert.ok(Array.isArray(pathSearch(res.json, 'tags')));
    });

    test('huaweicloud_cts_tags: GET /v3/{project_id}/cts-tracker/tags', async () => {
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/cts-tracker/tags` });
      assert.ok(Array.isArray(pathSearch(res.json, 'tags')));
    });

    test('huaweicloud_cts_resource_tags_filter: POST resource-instances/filter', async () => {
      const res = await tf.expectOk({
        method: 'POST',
        path: `/v3/${pid}/cts-tracker/resource-instances/filter`,
        query: [
          ['limit', '1000'],
          ['offset', '0'],
        ],
        body: { without_any_tag: true },
      });
      assert.ok(Array.isArray(pathSearch(res.json, 'resources')));
    });
  });

  describe('huaweicloud_cts_configuration', () => {
    test('PUT then GET /v3/{project_id}/configuration', async () => {
      // resource_huaweicloud_cts_configuration: both flags are required arguments; OkCodes [204].
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/configuration`,
        body: { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: ['ECS'] },
        okCodes: [204],
      });
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/configuration` });
      assert.equal(pathSearch(res.json, 'is_sync_global_trace'), true);
      assert.deepEqual(pathSearch(res.json, 'support_read_only_services'), ['ECS']);
    });
  });
});
