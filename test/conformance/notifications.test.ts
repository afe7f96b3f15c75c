/**
 * Key-event notification API (spec §1.7), quotas (§1.8) and the topic extension, through a real
 * server with the official SDK core as client: every success path and every CTS.04xx error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createCtsClient,
  expectCtsError,
  type CtsClient,
  type NotificationBody,
  type Trace,
} from '../support/cts-client.js';
import { rawRequest } from '../support/raw-signed-request.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

const REGION = 'local-1';

describe('key-event notifications with the SDK core as client', () => {
  let svc: TestService;
  let cts: CtsClient;
  let pid: string;
  let smnTopic: string;
  let funTopic: string;

  async function registerTopic(urn: string, url = 'http://127.0.0.1:9/hook') {
    const res = await signedFetch(svc.url, svc.credential, {
      path: `/opencts/v1/${pid}/topics`,
      body: { urn, url },
    });
    return res;
  }

  /** The spec's customized example (§6a), pointed at a registered topic. */
  function example(name: string, overrides: Partial<NotificationBody> = {}): NotificationBody {
    return {
      notification_name: name,
      operation_type: 'customized',
      filter: { is_support_filter: true, rule: ['code != 200', 'trace_rating = normal'], condition: 'OR' },
      operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['createTracker', 'deleteTracker'] }],
      notify_user_list: [{ user_group: 'admin', user_list: ['test1', 'test2'] }],
      topic_id: smnTopic,
      ...overrides,
    };
  }

  async function systemTraces(traceName: string): Promise<Trace[]> {
    const { traces } = await cts.listTraces({ trace_type: 'system', trace_name: traceName, limit: 200 });
    return traces;
  }

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
    cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
    smnTopic = `urn:smn:${REGION}:${pid}:ops_topic`;
    funTopic = `urn:fss:${REGION}:${pid}:function:default:notify_fn`;
    assert.equal((await registerTopic(smnTopic)).status, 201);
    assert.equal((await registerTopic(funTopic)).status, 201);
  });
  after(() => svc.close());

  test('create (the spec example): 201 with the documented fields, enabled with its topic', async () => {
    const created = await cts.createNotification(example('keyOps'));
    assert.equal(created.httpStatusCode, 201);
    assert.match(created.notification_id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(created.notification_name, 'keyOps');
    assert.equal(created.operation_type, 'customized');
    assert.equal(created.status, 'enabled');
    assert.equal(created.notification_type, 'smn');
    assert.equal(created.topic_id, smnTopic);
    assert.equal(created.project_id, pid);
    assert.equal(created.domain_id, svc.credential.domain_id);
    assert.ok(Math.abs((created.create_time ?? 0) - Date.now()) < 60_000, 'create_time in ms');
    assert.deepEqual(created.operations, example('x').operations);
    assert.deepEqual(created.notify_user_list, example('x').notify_user_list);
    assert.deepEqual(created.filter, {
      condition: 'OR',
      is_support_filter: true,
      rule: ['code != 200', 'trace_rating = normal'],
    });
    const [trace] = await systemTraces('createNotification');
    assert.ok(trace, 'createNotification trace');
    assert.equal(trace.resource_type, 'notification');
    assert.equal(trace.resource_id, created.notification_id);
    assert.equal(trace.resource_name, 'keyOps');
    assert.equal(trace.code, '201');
  });

  test('a complete notification without a topic is disabled, with no operations and no topic_id key', async () => {
    const created = await cts.createNotification({
      notification_name: 'everything',
      operation_type: 'complete',
      operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['x'] }],
      agency_name: 'cts_admin_trust',
    });
    assert.equal(created.status, 'disabled');
    assert.deepEqual(created.operations, []);
    assert.deepEqual(created.notify_user_list, []);
    assert.equal('topic_id' in created, false);
    assert.equal(created.agency_name, 'cts_admin_trust');
    // Enabling needs a topic: CTS.0404.
    await expectCtsError(
      cts.updateNotification({
        notification_id: created.notification_id!,
        notification_name: 'everything',
        operation_type: 'complete',
        status: 'enabled',
      }),
      400,
      'CTS.0404',
    );
  });

  test('list by type with the exact name filter; [] when none; fun for FunctionGraph topics; CTS.0410 otherwise', async () => {
    const fun = await cts.createNotification(example('funNotify', { topic_id: funTopic }));
    assert.equal(fun.notification_type, 'fun');
    const smn = await cts.listNotifications({ notification_type: 'smn' });
    assert.equal(smn.httpStatusCode, 200);
    const names = smn.notifications.map((n) => n.notification_name);
    assert.ok(names.includes('keyOps') && names.includes('everything') && !names.includes('funNotify'), names.join());
    const exact = await cts.listNotifications({ notification_type: 'smn', notification_name: 'keyOps' });
    assert.deepEqual(
      exact.notifications.map((n) => n.notification_name),
      ['keyOps'],
    );
    const prefix = await cts.listNotifications({ notification_type: 'smn', notification_name: 'key' });
    assert.deepEqual(prefix.notifications, []);
    const funs = await cts.listNotifications({ notification_type: 'fun' });
    assert.deepEqual(
      funs.notifications.map((n) => n.notification_id),
      [fun.notification_id],
    );
    // Terraform reads `notifications[0]` after the name filter: every field round-trips.
    const listed = exact.notifications[0]!;
    for (const field of [
      'notification_id',
      'operation_type',
      'operations',
      'notify_user_list',
      'status',
      'topic_id',
      'filter',
      'create_time',
    ]) {
      assert.ok(field in listed, field);
    }
    await expectCtsError(cts.listNotifications({ notification_type: 'sms' }), 400, 'CTS.0410');
  });

  test('update is a full replace (200): omitted fields are gone, name and create_time as sent/kept', async () => {
    const created = await cts.createNotification(example('toReplace'));
    const updated = await cts.updateNotification({
      notification_id: created.notification_id!,
      notification_name: 'replaced',
      operation_type: 'complete',
      status: 'disabled',
    });
    assert.equal(updated.httpStatusCode, 200);
    assert.equal(updated.notification_name, 'replaced');
    assert.equal(updated.status, 'disabled');
    assert.deepEqual(updated.operations, []);
    assert.deepEqual(updated.notify_user_list, []);
    assert.equal('filter' in updated, false);
    assert.equal('topic_id' in updated, false);
    assert.equal(updated.create_time, created.create_time);
    const again = await cts.updateNotification({
      ...example('replaced'),
      notification_id: created.notification_id!,
      status: 'enabled',
    });
    assert.equal(again.status, 'enabled');
    assert.equal(again.topic_id, smnTopic);
    const [trace] = await systemTraces('updateNotification');
    assert.equal(trace?.resource_id, created.notification_id);
    assert.equal(trace?.resource_type, 'notification');
  });

  test('update errors: unknown id 404 CTS.0403, taken name CTS.0400, unknown topic CTS.0402, missing status CTS.0003', async () => {
    const a = await cts.createNotification(example('updA'));
    await cts.createNotification(example('updB'));
    const base = { ...example('updA'), notification_id: a.notification_id!, status: 'enabled' };
    await expectCtsError(
      cts.updateNotification({ ...base, notification_id: '01900000-0000-7000-8000-000000000000' }),
      404,
      'CTS.0403',
    );
    await expectCtsError(cts.updateNotification({ ...base, notification_name: 'updB' }), 400, 'CTS.0400');
    await expectCtsError(
      cts.updateNotification({ ...base, topic_id: `urn:smn:${REGION}:${pid}:nope` }),
      400,
      'CTS.0402',
    );
    const { status: _s, ...noStatus } = base;
    await expectCtsError(cts.updateNotification(noStatus), 400, 'CTS.0003');
    await expectCtsError(cts.updateNotification({ ...base, notification_name: 'bad-name' }), 400, 'CTS.0411');
  });

  test('create errors: CTS.0411 name, CTS.0400 duplicate, CTS.0401 operations, CTS.0402 topic, CTS.0003 users and filter', async () => {
    for (const name of ['bad-name', 'x'.repeat(65), '', 'spaces here']) {
      await expectCtsError(cts.createNotification(example(name)), 400, 'CTS.0411');
    }
    await expectCtsError(cts.createNotification(example('keyOps')), 400, 'CTS.0400');
    const operations: unknown[] = [
      undefined,
      [],
      [{ service_type: 'CTS', resource_type: 'tracker', trace_names: [] }],
      [{ service_type: '', resource_type: 'tracker', trace_names: ['x'] }],
      [{ service_type: 'CTS', trace_names: ['x'] }],
      [
        {
          service_type: 'CTS',
          resource_type: 'tracker',
          trace_names: Array.from({ length: 1001 }, (_, i) => `op${i}`),
        },
      ],
      Array.from({ length: 101 }, (_, i) => ({ service_type: `S${i}`, resource_type: 'r', trace_names: ['x'] })),
      'CTS',
    ];
    for (const ops of operations) {
      const body = { ...example('opsTest') } as Record<string, unknown>;
      if (ops === undefined) delete body['operations'];
      else body['operations'] = ops;
      await expectCtsError(cts.createNotification(body as NotificationBody), 400, 'CTS.0401');
    }
    for (const topic of [
      `urn:smn:${REGION}:${pid}:unregistered`,
      `urn:smn:${REGION}:ffffffffffffffffffffffffffffffff:ops_topic`,
      'not-a-urn',
    ]) {
      await expectCtsError(cts.createNotification(example('topicTest', { topic_id: topic })), 400, 'CTS.0402');
    }
    const users = [
      Array.from({ length: 11 }, (_, i) => ({ user_group: `g${i}`, user_list: [] })),
      [{ user_group: 'g', user_list: Array.from({ length: 51 }, (_, i) => `u${i}`) }],
      [{ user_list: ['u'] }],
    ];
    for (const list of users) {
      await expectCtsError(
        cts.createNotification(example('usersTest', { notify_user_list: list as never })),
        400,
        'CTS.0003',
      );
    }
    const filters = [
      { condition: 'AND', is_support_filter: true, rule: ['user = alice'] },
      { condition: 'AND', is_support_filter: true, rule: ['code > 200'] },
      { condition: 'AND', is_support_filter: true, rule: ['trace_rating = fatal'] },
      { condition: 'AND', is_support_filter: true, rule: ['trace_type = ObsAPI'] },
      { condition: 'AND', is_support_filter: true, rule: ['api_version = v1 0'] },
      { condition: 'AND', is_support_filter: true, rule: [`resource_id = ${'r'.repeat(351)}`] },
      { condition: 'AND', is_support_filter: true, rule: [`resource_name = ${'r'.repeat(257)}`] },
      { condition: 'AND', is_support_filter: true, rule: ['code ='] },
      { condition: 'XOR', is_support_filter: true, rule: ['code = 200'] },
      { condition: 'AND', is_support_filter: true, rule: Array.from({ length: 7 }, () => 'code = 200') },
    ];
    for (const filter of filters) {
      await expectCtsError(cts.createNotification(example('filterTest', { filter })), 400, 'CTS.0003');
    }
    // Every documented field and operator, at the edges of the documented limits, is accepted.
    const ok = await cts.createNotification(
      example('filterOk', {
        filter: {
          condition: 'AND',
          is_support_filter: true,
          rule: [
            'api_version = v1.0',
            'code != 200',
            'trace_rating = incident',
            'trace_type != SystemAction',
            `resource_id = ${'r'.repeat(350)}`,
            `resource_name != ${'n'.repeat(256)}`,
          ],
        },
      }),
    );
    assert.equal(ok.filter?.rule?.length, 6);
    const failed = (
      await cts.listTraces({
        trace_type: 'system',
        trace_name: 'createNotification',
        trace_rating: 'warning',
        limit: 200,
      })
    ).traces;
    assert.ok(
      failed.some((t) => t.code === '400'),
      'a refused create leaves a warning trace',
    );
  });

  test('delete: comma-joined ids (SDK) and repeated keys (terraform): 204; unknown ids 404 CTS.0403, nothing deleted', async () => {
    const ids: string[] = [];
    for (const name of ['del1', 'del2', 'del3', 'del4'])
      ids.push((await cts.createNotification(example(name))).notification_id!);
    await expectCtsError(
      cts.deleteNotification({ notification_id: `${ids[0]},01900000-0000-7000-8000-000000000000` }),
      404,
      'CTS.0403',
    );
    const stillThere = await cts.listNotifications({ notification_type: 'smn', notification_name: 'del1' });
    assert.equal(stillThere.notifications.length, 1, 'a partly unknown batch deletes nothing');
    const joined = await cts.deleteNotification({ notification_id: `${ids[0]},${ids[1]}` });
    assert.equal(joined.httpStatusCode, 204);
    const repeated = await rawRequest(svc.url, {
      method: 'DELETE',
      path: `/v3/${pid}/notifications`,
      rawQuery: `notification_id=${ids[2]}&notification_id=${ids[3]}`,
      headers: { 'content-type': 'application/json', 'x-project-id': pid },
      key: svc.credential,
    });
    assert.equal(repeated.status, 204, repeated.text);
    const left = (await cts.listNotifications({ notification_type: 'smn' })).notifications.map(
      (n) => n.notification_name,
    );
    for (const name of ['del1', 'del2', 'del3', 'del4']) assert.ok(!left.includes(name), name);
    const traces = await systemTraces('deleteNotification');
    for (const id of ids)
      assert.ok(
        traces.some((t) => t.resource_id === id && t.code === '204'),
        `trace of ${id}`,
      );
    await expectCtsError(cts.deleteNotification({ notification_id: ids[0]! }), 404, 'CTS.0403');
  });

  test('quotas: system_tracker 1, data_tracker 100, smn_notification 100, with live used counts', async () => {
    const before = await cts.listQuotas();
    assert.equal(before.httpStatusCode, 200);
    const byType = (r: typeof before) => Object.fromEntries(r.resources.map((q) => [q.type, q]));
    const b = byType(before);
    assert.deepEqual(Object.keys(b).sort(), ['data_tracker', 'smn_notification', 'system_tracker']);
    assert.deepEqual(b['system_tracker'], { type: 'system_tracker', used: 1, quota: 1 });
    assert.deepEqual(b['data_tracker'], { type: 'data_tracker', used: 0, quota: 100 });
    assert.equal(b['smn_notification']!.quota, 100);
    const listed = [
      ...(await cts.listNotifications({ notification_type: 'smn' })).notifications,
      ...(await cts.listNotifications({ notification_type: 'fun' })).notifications,
    ];
    assert.equal(b['smn_notification']!.used, listed.length);
    const n = await cts.createNotification(example('quotaProbe'));
    assert.equal(byType(await cts.listQuotas())['smn_notification']!.used, listed.length + 1);
    await cts.deleteNotification({ notification_id: n.notification_id! });
    assert.equal(byType(await cts.listQuotas())['smn_notification']!.used, listed.length);
  });

  test('the 101st notification of a project is refused with CTS.0407', async () => {
    const count = async () =>
      (await cts.listNotifications({ notification_type: 'smn' })).notifications.length +
      (await cts.listNotifications({ notification_type: 'fun' })).notifications.length;
    for (let i = await count(); i < 100; i++) {
      await cts.createNotification({ notification_name: `fill_${i}`, operation_type: 'complete' });
    }
    assert.equal(await count(), 100);
    await expectCtsError(
      cts.createNotification({ notification_name: 'one_too_many', operation_type: 'complete' }),
      400,
      'CTS.0407',
    );
  });
});

describe('topics (OpenCTS extension)', () => {
  let svc: TestService;
  let pid: string;

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
  });
  after(() => svc.close());

  const call = (method: string, body?: unknown, query?: Record<string, string>) =>
    signedFetch(svc.url, svc.credential, { method, path: `/opencts/v1/${pid}/topics`, body, query });

  test("create shows the secret once; list never does; the URN must name the caller's project", async () => {
    const urn = `urn:smn:${REGION}:${pid}:alerts`;
    const created = await call('POST', { urn, url: 'https://hooks.example.test/cts' });
    assert.equal(created.status, 201, created.text);
    const body = created.json as { urn: string; url: string; secret: string; project_id: string };
    assert.equal(body.urn, urn);
    assert.equal(body.project_id, pid);
    assert.match(body.secret, /^[A-Za-z0-9_-]{43}$/);
    const listed = await call('GET');
    assert.equal(listed.status, 200);
    assert.ok(!listed.text.includes(body.secret), 'the secret is not listed');
    assert.deepEqual(
      (listed.json as { topics: Array<{ urn: string }> }).topics.map((t) => t.urn),
      [urn],
    );
    const duplicate = await call('POST', { urn, url: 'https://hooks.example.test/other' });
    assert.equal(duplicate.status, 400);
    const foreign = await call('POST', { urn: `urn:smn:${REGION}:${'f'.repeat(32)}:alerts`, url: 'https://x.test/' });
    assert.equal(foreign.status, 400);
    assert.ok(!foreign.text.includes('f'.repeat(32)), 'the other project is not echoed');
    for (const bad of [
      { urn: 'urn:smn:bad', url: 'https://x.test/' },
      { urn: `urn:smn:${REGION}:${pid}:ok2`, url: 'ftp://x.test/' },
      { urn: `urn:smn:${REGION}:${pid}:ok2`, url: 'https://user:pw@x.test/' },
      { urn: `urn:smn:${REGION}:${pid}:ok2`, url: 'not a url' },
    ]) {
      const res = await call('POST', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal((res.json as { error_code: string }).error_code, 'CTS.9400');
    }
  });

  test('delete: refused while an enabled notification uses it, then 204; unknown CTS.0402', async () => {
    const urn = `urn:fss:${REGION}:${pid}:function:default:handler`;
    assert.equal((await call('POST', { urn, url: 'http://127.0.0.1:9/' })).status, 201);
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    const n = await cts.createNotification({ notification_name: 'usesIt', operation_type: 'complete', topic_id: urn });
    const refused = await call('DELETE', undefined, { urn });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /usesIt/);
    await cts.updateNotification({
      notification_id: n.notification_id!,
      notification_name: 'usesIt',
      operation_type: 'complete',
      status: 'disabled',
      topic_id: urn,
    });
    assert.equal((await call('DELETE', undefined, { urn })).status, 204);
    const gone = await call('DELETE', undefined, { urn });
    assert.equal(gone.status, 400);
    assert.equal((gone.json as { error_code: string }).error_code, 'CTS.0402');
  });
});
