/**
 * Provider-shaped conformance: the request sequences of the opentelekomcloud Terraform provider
 * (clients.md §2.2) and gophertelekomcloud replayed against a real server, with golangsdk signing
 * (X-Project-Id and Host unsigned) and gophertelekomcloud's stricter OK codes: GET 200, POST only
 * 201/202, tracker and notification PUT exactly 200, DELETE only 202/204 (a 200 fails).
 *
 * - `opentelekomcloud_cts_tracker_v1`, the resource of the main OTC regions: the v1.0 API (§1.11).
 * - `opentelekomcloud_cts_tracker_v3` (SWISSCLOUD) and `opentelekomcloud_cts_event_notification_v3`.
 * - gophertelekomcloud `cts/v2/traces` (`GET /v2.0/{project_id}/{tracker_name}/trace`).
 * Reads take `[0]` without an empty check (an empty list panics the provider): asserted non-empty.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../support/cli.js';
import { ProviderClient, pathSearch } from '../../support/provider-client.js';
import { startTestService, type TestService } from '../../support/service.js';

type Json = Record<string, unknown>;

describe('opentelekomcloud provider (gophertelekomcloud requests and OK codes)', () => {
  let svc: TestService;
  let tf: ProviderClient;
  let pid: string;
  let webhook: http.Server;
  let webhookUrl: string;

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
    tf = new ProviderClient('opentelekomcloud', svc.url, svc.credential);
    for (const bucket of ['otc-bucket', 'otc-other']) {
      await mkdir(path.join(svc.dataDir, 'buckets', bucket), { recursive: true });
    }
    webhook = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await svc.close();
    await new Promise((resolve) => webhook.close(resolve));
  });

  describe('opentelekomcloud_cts_tracker_v1 (v1.0 API, main regions)', () => {
    /** tracker.Get: `GET /v1.0/{project_id}/tracker?tracker_name=system`, one object. */
    const get = () => tf.request({ method: 'GET', path: `/v1.0/${pid}/tracker`, query: [['tracker_name', 'system']] });

    test('create: POST /v1.0/{project_id}/tracker {bucket_name, file_prefix_name, lts}; the id is tracker_name', async () => {
      const res = await tf.expectOk({
        method: 'POST',
        path: `/v1.0/${pid}/tracker`,
        body: { bucket_name: 'otc-bucket', file_prefix_name: 'yO8Q', lts: { is_lts_enabled: true } },
      });
      assert.equal(pathSearch(res.json, 'tracker_name'), 'system', 'the provider sets the resource id from it');
    });

    test('read: the flat tracker has every field the resource sets', async () => {
      const res = await get();
      assert.equal(res.status, 200, res.text);
      const tracker = res.json as Json;
      assert.equal(tracker['tracker_name'], 'system');
      assert.equal(tracker['bucket_name'], 'otc-bucket');
      assert.equal(tracker['file_prefix_name'], 'yO8Q');
      assert.equal(tracker['status'], 'enabled');
      assert.equal(pathSearch(tracker, 'lts.is_lts_enabled'), true);
      assert.equal(pathSearch(tracker, 'lts.log_group_name'), 'CTS');
      assert.equal(pathSearch(tracker, 'lts.log_topic_name'), 'system-trace');
    });

    test('update: PUT /v1.0/{project_id}/tracker/system, exactly 200', async () => {
      await tf.expectOk({
        method: 'PUT',
        path: `/v1.0/${pid}/tracker/system`,
        body: { bucket_name: 'otc-other', file_prefix_name: 'next', lts: { is_lts_enabled: false } },
      });
      await tf.expectOk({
        method: 'PUT',
        path: `/v1.0/${pid}/tracker/system`,
        body: { bucket_name: 'otc-other', status: 'disabled', lts: { is_lts_enabled: false } },
      });
      const tracker = (await get()).json as Json;
      assert.equal(tracker['bucket_name'], 'otc-other');
      assert.equal(tracker['file_prefix_name'], 'next');
      assert.equal(tracker['status'], 'disabled');
      assert.equal(pathSearch(tracker, 'lts.is_lts_enabled'), false);
    });

    test('older gophertelekomcloud: the smn object in v1.0 bodies is ignored', async () => {
      await tf.expectOk({
        method: 'PUT',
        path: `/v1.0/${pid}/tracker/system`,
        body: {
          bucket_name: 'otc-other',
          status: 'enabled',
          smn: { is_support_smn: false, topic_id: '', is_send_all_key_operation: false, operations: [] },
        },
      });
      assert.equal(((await get()).json as Json)['status'], 'enabled');
    });

    test('cts/v2/traces: GET /v2.0/{project_id}/system/trace with trace_status; v1.0 too', async () => {
      for (const version of ['v2.0', 'v1.0']) {
        const res = await tf.expectOk({
          method: 'GET',
          path: `/${version}/${pid}/system/trace`,
          query: [
            ['limit', '50'],
            ['service_type', 'CTS'],
            ['trace_status', 'normal'],
          ],
        });
        const traces = pathSearch(res.json, 'traces') as Json[];
        const names = traces.map((t) => t['trace_name']);
        assert.ok(names.includes('createTracker') && names.includes('updateTracker'), names.join(','));
        for (const trace of traces) {
          assert.equal(trace['trace_status'], 'normal');
          assert.equal(typeof trace['code'], 'string', 'the Go model declares code a string');
          assert.equal(typeof pathSearch(trace, 'user.name'), 'string');
        }
        assert.equal(pathSearch(res.json, 'meta_data.count'), traces.length);
      }
    });

    test('delete: DELETE /v1.0/{project_id}/tracker?tracker_name=system (202/204); the next read fails', async () => {
      const res = await tf.expectOk({
        method: 'DELETE',
        path: `/v1.0/${pid}/tracker`,
        query: [['tracker_name', 'system']],
      });
      assert.equal(res.status, 204);
      const gone = await get();
      assert.equal(gone.status, 404);
      assert.equal(pathSearch(gone.json, 'error_code'), 'CTS.0214');
    });
  });

  describe('opentelekomcloud_cts_tracker_v3 (SWISSCLOUD)', () => {
    const read = async (): Promise<Json> => {
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/trackers`,
        query: [['tracker_name', 'system']],
      });
      const trackers = pathSearch(res.json, 'trackers') as Json[];
      assert.ok(trackers.length > 0, 'the provider reads [0] with no empty check: an empty list panics it');
      return trackers[0] as Json;
    };

    test('create: POST /v3/{project_id}/tracker (201/202 only)', async () => {
      const res = await tf.expectOk({
        method: 'POST',
        path: `/v3/${pid}/tracker`,
        body: {
          tracker_type: 'system',
          tracker_name: 'system',
          obs_info: {
            bucket_name: 'otc-bucket',
            file_prefix_name: 'prefix',
            is_obs_created: false,
            compress_type: 'gzip',
            is_sort_by_service: true,
          },
          is_lts_enabled: true,
        },
      });
      assert.equal(pathSearch(res.json, 'tracker_name'), 'system');
    });

    test('read: trackers[0] has what the resource reads', async () => {
      const item = await read();
      for (const field of [
        'id',
        'tracker_name',
        'tracker_type',
        'domain_id',
        'project_id',
        'status',
        'lts.is_lts_enabled',
        'lts.log_group_name',
        'lts.log_topic_name',
        'obs_info.bucket_name',
        'obs_info.file_prefix_name',
        'obs_info.is_obs_created',
        'obs_info.is_sort_by_service',
        'obs_info.compress_type',
      ]) {
        assert.notEqual(pathSearch(item, field), undefined, field);
      }
      assert.equal(item['project_id'], pid);
    });

    test('update: enable, full update with status enabled, then disable (each exactly 200)', async () => {
      const put = (body: Json) => tf.expectOk({ method: 'PUT', path: `/v3/${pid}/tracker`, body });
      const ids = { tracker_type: 'system', tracker_name: 'system' };
      await put({ ...ids, status: 'enabled' });
      await put({
        ...ids,
        status: 'enabled',
        obs_info: {
          bucket_name: 'otc-other',
          file_prefix_name: 'p2',
          compress_type: 'json',
          is_sort_by_service: false,
        },
        is_lts_enabled: false,
      });
      await put({ ...ids, status: 'disabled' });
      const item = await read();
      assert.equal(item['status'], 'disabled');
      assert.equal(pathSearch(item, 'obs_info.bucket_name'), 'otc-other');
      assert.equal(pathSearch(item, 'obs_info.compress_type'), 'json');
    });

    test('delete: DELETE /v3/{project_id}/trackers?tracker_name=system (202/204)', async () => {
      await tf.expectOk({ method: 'DELETE', path: `/v3/${pid}/trackers`, query: [['tracker_name', 'system']] });
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/trackers`,
        query: [['tracker_name', 'system']],
      });
      assert.deepEqual(pathSearch(res.json, 'trackers'), []);
    });
  });

  describe('opentelekomcloud_cts_event_notification_v3', () => {
    const topicUrn = () => `urn:smn:${svc.service.runtime.config.region}:${pid}:otc_topic`;
    const ids: string[] = [];
    const read = async (name: string): Promise<Json> => {
      const res = await tf.expectOk({
        method: 'GET',
        path: `/v3/${pid}/notifications/smn`,
        query: [['notification_name', name]],
      });
      const items = pathSearch(res.json, 'notifications') as Json[];
      assert.ok(items.length > 0, 'the provider reads [0] with no empty check');
      return items[0] as Json;
    };

    test('create: two notifications (201/202)', async () => {
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
      for (const name of ['otc_all', 'otc_some']) {
        const res = await tf.expectOk({
          method: 'POST',
          path: `/v3/${pid}/notifications`,
          body:
            name === 'otc_all'
              ? { notification_name: name, operation_type: 'complete', topic_id: topicUrn() }
              : {
                  notification_name: name,
                  operation_type: 'customized',
                  operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['deleteTracker'] }],
                  notify_user_list: [{ user_group: 'admin', user_list: ['alice'] }],
                  topic_id: topicUrn(),
                },
        });
        ids.push(String(pathSearch(res.json, 'notification_id')));
      }
    });

    test('read: notifications/smn?notification_name, [0]', async () => {
      const item = await read('otc_some');
      assert.equal(item['notification_id'], ids[1]);
      assert.equal(item['operation_type'], 'customized');
      assert.equal(item['topic_id'], topicUrn());
    });

    test('update: PUT /v3/{project_id}/notifications, exactly 200', async () => {
      await tf.expectOk({
        method: 'PUT',
        path: `/v3/${pid}/notifications`,
        body: {
          notification_id: ids[0],
          notification_name: 'otc_all',
          operation_type: 'complete',
          status: 'disabled',
          topic_id: topicUrn(),
        },
      });
      assert.equal((await read('otc_all'))['status'], 'disabled');
    });

    test('delete: ?notification_id=a&notification_id=b (repeated keys), 202/204', async () => {
      assert.equal(ids.length, 2);
      await tf.expectOk({
        method: 'DELETE',
        path: `/v3/${pid}/notifications`,
        query: ids.map((id) => ['notification_id', id] as const),
      });
      const res = await tf.expectOk({ method: 'GET', path: `/v3/${pid}/notifications/smn` });
      assert.deepEqual(pathSearch(res.json, 'notifications'), []);
    });
  });

  describe('golangsdk signing', () => {
    test('X-Project-Id is outside the signature, and still checked against the caller', async () => {
      const other = new ProviderClient('opentelekomcloud', svc.url, {
        ...svc.credential,
        project_id: 'ffffffffffffffffffffffffffffffff',
      });
      const res = await other.request({ method: 'GET', path: `/v3/${pid}/trackers` });
      assert.equal(res.status, 403, res.text);
      assert.equal(pathSearch(res.json, 'error_code'), 'CTS.0012');
      const own = await tf.request({ method: 'GET', path: `/v3/${pid}/trackers` });
      assert.equal(own.status, 200, own.text);
    });
  });
});
