/**
 * The role matrix: every API endpoint under /v3, /v1.0 and /v2.0 (enumerated from GET /openapi.json, so a new endpoint
 * fails here until it has an expectation) × every role, allowed or 403 CTS.0013; and every refusal of
 * an authenticated caller leaves a `warning` trace naming the operation and the caller.
 *
 * read = GET operations, POST /checkbucket and the tag filter/count POSTs: admin + readonly; write =
 * tracker (v3 and v1.0), notification, tag and configuration changes, topics (listing included: webhook
 * URLs may hold tokens) and dead-letter retry: admin only; ingest = POST /traces: service only. The
 * project-scoped OpenCTS extensions under /opencts/v1/{project_id} are pinned here too.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROLES, type Role } from '../../src/core/authz.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createCtsClient, type Trace } from '../support/cts-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch, type SignedCall } from '../support/signed-fetch.js';

type Outcome = 'allowed' | '403';

interface Expectation {
  /** Trace name of the operation (what a refusal's warning trace is called). */
  readonly operation: string;
  readonly admin: Outcome;
  readonly readonly: Outcome;
  readonly service: Outcome;
  /** Status of the (valid) request when allowed. */
  readonly status: number;
  readonly call: (ids: { projectId: string; domainId: string; region: string; trackerId: string }) => SignedCall;
}

const DATA_BUCKET = 'roles-bucket';
const topicUrn = (region: string, pid: string, name: string) => `urn:smn:${region}:${pid}:${name}`;
/** Made in before(): the notification PUT and DELETE act on, the topic DELETE removes. */
const fixture = { notificationId: '' };

/**
 * The pinned matrix, `METHOD path` as in the OpenAPI document. Executed in this order, refused roles
 * before allowed ones (so DELETE finds the tracker POST made).
 */
const MATRIX: Readonly<Record<string, Expectation>> = {
  'POST /v3/{project_id}/tracker': {
    operation: 'createTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 201,
    call: ({ projectId: pid }) => ({
      method: 'POST',
      path: `/v3/${pid}/tracker`,
      body: {
        tracker_type: 'data',
        tracker_name: 'roles-data',
        data_bucket: { data_bucket_name: DATA_BUCKET, data_event: ['READ'] },
      },
    }),
  },
  'PUT /v3/{project_id}/tracker': {
    operation: 'updateTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'PUT',
      path: `/v3/${pid}/tracker`,
      body: { tracker_type: 'system', tracker_name: 'system', status: 'enabled' },
    }),
  },
  'GET /v3/{project_id}/trackers': {
    operation: 'listTrackers',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/trackers` }),
  },
  'DELETE /v3/{project_id}/trackers': {
    operation: 'deleteTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid }) => ({
      method: 'DELETE',
      path: `/v3/${pid}/trackers`,
      query: { tracker_name: 'roles-data', tracker_type: 'data' },
    }),
  },
  'GET /v3/{project_id}/traces': {
    operation: 'listTraces',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'GET',
      path: `/v3/${pid}/traces`,
      query: { trace_type: 'system', limit: 10 },
    }),
  },
  // Legacy v1.0/v2.0 (spec §1.11). The system tracker must stay for refusals to be traced, so the
  // admin's v1.0 create and delete are ones the tracker rules refuse (one system tracker; v1.0 knows
  // no other name): a 400 after authorisation, where a refused role gets 403.
  'POST /v1.0/{project_id}/tracker': {
    operation: 'createTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 400,
    call: ({ projectId: pid }) => ({ method: 'POST', path: `/v1.0/${pid}/tracker`, body: { bucket_name: '' } }),
  },
  'PUT /v1.0/{project_id}/tracker/{tracker_name}': {
    operation: 'updateTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'PUT', path: `/v1.0/${pid}/tracker/system`, body: { status: 'enabled' } }),
  },
  'GET /v1.0/{project_id}/tracker': {
    operation: 'listTrackers',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v1.0/${pid}/tracker`, query: { tracker_name: 'system' } }),
  },
  'DELETE /v1.0/{project_id}/tracker': {
    operation: 'deleteTracker',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 400,
    call: ({ projectId: pid }) => ({
      method: 'DELETE',
      path: `/v1.0/${pid}/tracker`,
      query: { tracker_name: 'data1' },
    }),
  },
  'GET /v1.0/{project_id}/{tracker_name}/trace': {
    operation: 'listTraces',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v1.0/${pid}/system/trace`, query: { limit: 10 } }),
  },
  'GET /v2.0/{project_id}/{tracker_name}/trace': {
    operation: 'listTraces',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v2.0/${pid}/system/trace`, query: { limit: 10 } }),
  },
  // A POST, but src/api/routes/checkbucket.ts declares it `read` (CheckObsBuckets only probes buckets).
  'POST /v3/{domain_id}/checkbucket': {
    operation: 'checkObsBuckets',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ domainId, region }) => ({
      method: 'POST',
      path: `/v3/${domainId}/checkbucket`,
      body: { buckets: [{ bucket_name: DATA_BUCKET, bucket_location: region }] },
    }),
  },
  // Tags (spec §1.9) on the system tracker: writes are admin only; the listings and the
  // filter/count POSTs are reads.
  'POST /v3/{project_id}/cts-tracker/{resource_id}/tags/create': {
    operation: 'batchCreateResourceTags',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid, trackerId }) => ({
      method: 'POST',
      path: `/v3/${pid}/cts-tracker/${trackerId}/tags/create`,
      body: { tags: [{ key: 'role', value: 'matrix' }] },
    }),
  },
  'POST /v3/{project_id}/cts-tracker/{resource_id}/tags': {
    operation: 'createResourceTag',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid, trackerId }) => ({
      method: 'POST',
      path: `/v3/${pid}/cts-tracker/${trackerId}/tags`,
      body: { tag: { key: 'single', value: 'matrix' } },
    }),
  },
  'GET /v3/{project_id}/cts-tracker/{resource_id}/tags': {
    operation: 'listResourceTags',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid, trackerId }) => ({ method: 'GET', path: `/v3/${pid}/cts-tracker/${trackerId}/tags` }),
  },
  'GET /v3/{project_id}/cts-tracker/tags': {
    operation: 'listTags',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/cts-tracker/tags`, query: { limit: 10 } }),
  },
  'POST /v3/{project_id}/cts-tracker/resource-instances/filter': {
    operation: 'listResourcesByTags',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'POST',
      path: `/v3/${pid}/cts-tracker/resource-instances/filter`,
      body: { tags: [{ key: 'role', values: ['matrix'] }] },
    }),
  },
  'POST /v3/{project_id}/cts-tracker/resource-instances/count': {
    operation: 'countResourcesByTags',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'POST',
      path: `/v3/${pid}/cts-tracker/resource-instances/count`,
      body: { without_any_tag: false },
    }),
  },
  'DELETE /v3/{project_id}/cts-tracker/{resource_id}/tags/delete': {
    operation: 'batchDeleteResourceTags',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid, trackerId }) => ({
      method: 'DELETE',
      path: `/v3/${pid}/cts-tracker/${trackerId}/tags/delete`,
      body: { tags: [{ key: 'role' }, { key: 'single' }] },
    }),
  },
  // Catalogues (spec §1.8) and configuration (§1.10).
  'GET /v3/{project_id}/operations': {
    operation: 'listOperations',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/operations`, query: { service_type: 'CTS' } }),
  },
  'GET /v3/{domain_id}/resources': {
    operation: 'listTraceResources',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ domainId }) => ({ method: 'GET', path: `/v3/${domainId}/resources` }),
  },
  'GET /v3/{project_id}/user-resources': {
    operation: 'listUserResources',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/user-resources` }),
  },
  'GET /v3/{project_id}/configuration': {
    operation: 'showConfiguration',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/configuration` }),
  },
  'PUT /v3/{project_id}/configuration': {
    operation: 'updateConfiguration',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid }) => ({
      method: 'PUT',
      path: `/v3/${pid}/configuration`,
      body: { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: ['ECS'] },
    }),
  },
  'POST /opencts/v1/{project_id}/topics': {
    operation: 'createTopic',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 201,
    call: ({ projectId: pid, region }) => ({
      method: 'POST',
      path: `/opencts/v1/${pid}/topics`,
      body: { urn: topicUrn(region, pid, 'roles_topic'), url: 'http://127.0.0.1:9/hook' },
    }),
  },
  'GET /opencts/v1/{project_id}/topics': {
    operation: 'listTopics',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/opencts/v1/${pid}/topics` }),
  },
  'DELETE /opencts/v1/{project_id}/topics': {
    operation: 'deleteTopic',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid, region }) => ({
      method: 'DELETE',
      path: `/opencts/v1/${pid}/topics`,
      query: { urn: topicUrn(region, pid, 'roles_spare') },
    }),
  },
  'POST /v3/{project_id}/notifications': {
    operation: 'createNotification',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 201,
    call: ({ projectId: pid, region }) => ({
      method: 'POST',
      path: `/v3/${pid}/notifications`,
      body: {
        notification_name: 'rolesNotify',
        operation_type: 'complete',
        topic_id: topicUrn(region, pid, 'roles_topic'),
      },
    }),
  },
  'PUT /v3/{project_id}/notifications': {
    operation: 'updateNotification',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'PUT',
      path: `/v3/${pid}/notifications`,
      body: {
        notification_id: fixture.notificationId,
        notification_name: 'rolesFixture',
        operation_type: 'complete',
        status: 'disabled',
      },
    }),
  },
  'GET /v3/{project_id}/notifications/{notification_type}': {
    operation: 'listNotifications',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/notifications/smn` }),
  },
  'DELETE /v3/{project_id}/notifications': {
    operation: 'deleteNotification',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 204,
    call: ({ projectId: pid }) => ({
      method: 'DELETE',
      path: `/v3/${pid}/notifications`,
      query: { notification_id: fixture.notificationId },
    }),
  },
  'GET /v3/{project_id}/quotas': {
    operation: 'listQuotas',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/v3/${pid}/quotas` }),
  },
  'GET /opencts/v1/{project_id}/notifications/failures': {
    operation: 'listNotificationFailures',
    admin: 'allowed',
    readonly: 'allowed',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({ method: 'GET', path: `/opencts/v1/${pid}/notifications/failures` }),
  },
  'POST /opencts/v1/{project_id}/notifications/failures/retry': {
    operation: 'retryNotificationFailures',
    admin: 'allowed',
    readonly: '403',
    service: '403',
    status: 200,
    call: ({ projectId: pid }) => ({
      method: 'POST',
      path: `/opencts/v1/${pid}/notifications/failures/retry`,
      body: {},
    }),
  },
  'POST /v3/{project_id}/traces': {
    operation: 'putTraces',
    admin: '403',
    readonly: '403',
    service: 'allowed',
    status: 201,
    call: ({ projectId: pid }) => ({
      method: 'POST',
      path: `/v3/${pid}/traces`,
      body: {
        traces: [
          {
            time: Date.now(),
            user: { name: 'vm-agent' },
            service_type: 'ECS',
            resource_type: 'ecs',
            trace_name: 'createServer',
            trace_rating: 'normal',
            trace_type: 'ApiCall',
          },
        ],
      },
    }),
  },
};

const USERS: Readonly<Record<Role, string>> = { admin: 'alice', readonly: 'reader', service: 'ingester' };

describe('role matrix', () => {
  let svc: TestService;
  const keys = {} as Record<Role, IssuedCredential>;
  let registered: string[];
  const refusals: Array<{ endpoint: string; role: Role }> = [];
  let systemTrackerId = '';

  function ids() {
    return {
      projectId: svc.credential.project_id,
      domainId: svc.credential.domain_id,
      region: svc.service.runtime.config.region,
      trackerId: systemTrackerId,
    };
  }

  before(async () => {
    svc = await startTestService();
    await mkdir(path.join(svc.dataDir, 'buckets', DATA_BUCKET), { recursive: true });
    keys.admin = svc.credential;
    for (const role of ['readonly', 'service'] as const) {
      keys[role] = await svc.service.runtime.identity.createCredential({
        projectId: svc.credential.project_id,
        domainId: svc.credential.domain_id,
        user: USERS[role],
        role,
      });
    }
    // Refusals (HEAD ones too) are traced only while the system tracker records.
    const system = await signedFetch(svc.url, keys.admin, {
      path: `/v3/${svc.credential.project_id}/tracker`,
      body: { tracker_type: 'system', tracker_name: 'system' },
    });
    assert.equal(system.status, 201, system.text);
    systemTrackerId = (system.json as { id: string }).id;
    const pid = svc.credential.project_id;
    const region = svc.service.runtime.config.region;
    const spare = await signedFetch(svc.url, keys.admin, {
      path: `/opencts/v1/${pid}/topics`,
      body: { urn: topicUrn(region, pid, 'roles_spare'), url: 'http://127.0.0.1:9/spare' },
    });
    assert.equal(spare.status, 201, spare.text);
    const made = await signedFetch(svc.url, keys.admin, {
      path: `/v3/${pid}/notifications`,
      body: { notification_name: 'rolesFixture', operation_type: 'complete' },
    });
    assert.equal(made.status, 201, made.text);
    fixture.notificationId = (made.json as { notification_id: string }).notification_id;
    const res = await fetch(`${svc.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    registered = Object.entries(doc.paths)
      .filter(([p]) => /^\/v(3|1\.0|2\.0)\//.test(p) || p.startsWith('/opencts/v1/{project_id}/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${p}`));
  });
  after(() => svc.close());

  test('every endpoint under /v3 in the OpenAPI document has an expectation, and no expectation is stale', () => {
    assert.ok(registered.length >= 6, `only ${registered.length} endpoints found: ${registered.join(', ')}`);
    const missing = registered.filter((e) => !(e in MATRIX));
    assert.deepEqual(missing, [], `endpoints without an expectation in MATRIX: ${missing.join(', ')}`);
    const stale = Object.keys(MATRIX).filter((e) => !registered.includes(e));
    assert.deepEqual(stale, [], `MATRIX names endpoints that are not registered: ${stale.join(', ')}`);
  });

  test('each role is allowed exactly what the matrix says, else refused 403 CTS.0013', async (t) => {
    for (const [endpoint, expected] of Object.entries(MATRIX)) {
      const roles = [...ROLES].sort((a, b) => Number(expected[a] === 'allowed') - Number(expected[b] === 'allowed'));
      for (const role of roles) {
        await t.test(`${endpoint} as ${role}: ${expected[role]}`, async () => {
          const res = await signedFetch(svc.url, keys[role], expected.call(ids()));
          if (expected[role] === 'allowed') {
            assert.equal(res.status, expected.status, `${endpoint} as ${role}: ${res.text}`);
          } else {
            assert.equal(res.status, 403, `${endpoint} as ${role}: ${res.text}`);
            assert.equal((res.json as { error_code?: string }).error_code, 'CTS.0013');
            refusals.push({ endpoint, role });
          }
        });
      }
    }
  });

  test('HEAD of every GET endpoint is authorised like the GET', async (t) => {
    for (const [endpoint, expected] of Object.entries(MATRIX).filter(([e]) => e.startsWith('GET '))) {
      for (const role of ROLES) {
        await t.test(`HEAD ${endpoint.slice(4)} as ${role}: ${expected[role]}`, async () => {
          const call = { ...expected.call(ids()), method: 'HEAD' };
          const res = await signedFetch(svc.url, keys[role], call);
          assert.equal(res.status, expected[role] === 'allowed' ? expected.status : 403);
          if (expected[role] !== 'allowed') refusals.push({ endpoint, role });
        });
      }
    }
  });

  test('every refusal left a warning trace naming the operation and the caller (reads and writes)', async () => {
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: keys.admin.access_key_id,
      secretAccessKey: keys.admin.secret_access_key,
      projectId: svc.credential.project_id,
    });
    const { traces } = await cts.listTraces({ trace_type: 'system', trace_rating: 'warning', limit: 200 });
    const refusedTraces = traces.filter((tr: Trace) => tr.service_type === 'CTS' && tr.code === '403');
    assert.ok(
      refusals.some((r) => r.endpoint.startsWith('GET ')),
      'a refused read was exercised',
    );
    assert.ok(
      refusals.some((r) => r.endpoint.includes('/tracker')),
      'a refused write was exercised',
    );
    // Endpoints of different API versions share an operation (v3 and v1.0 createTracker): count per operation.
    const operationOf = (r: { endpoint: string }) => MATRIX[r.endpoint]!.operation;
    const distinct = new Map(refusals.map((r) => [`${operationOf(r)} ${r.role}`, r]));
    for (const refusal of distinct.values()) {
      const { role } = refusal;
      const operation = operationOf(refusal);
      const times = refusals.filter((r) => operationOf(r) === operation && r.role === role).length;
      const found = refusedTraces.filter(
        (tr) =>
          tr.trace_name === operation &&
          tr.user?.name === USERS[role] &&
          tr.user.access_key_id === keys[role].access_key_id,
      );
      assert.equal(found.length, times, `${times} warning trace(s) of ${operation} by ${role}, saw ${found.length}`);
      assert.match(String(found[0]!.response), /CTS\.0013/);
    }
    assert.equal(refusedTraces.length, refusals.length, 'no other 403 traces');
  });
});
