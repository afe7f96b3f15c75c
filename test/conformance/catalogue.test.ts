/**
 * ListOperations, ListTraceResources and ListUserResources (spec §1.8) through a real server with
 * the SDK core as client: OpenCTS's own operations, every operation seen through ingest, the
 * optional catalogue file, the filters and the 400 of resource_type without service_type, the
 * domain's resource types, and the 30-day window of users.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createCtsClient, expectCtsError, type CtsClient } from '../support/cts-client.js';
import { makeTempDir, startTestService, testConfig, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startService } from '../../src/runtime.js';
import { pino } from 'pino';
import { rm } from 'node:fs/promises';

const DAY = 24 * 60 * 60 * 1000;

function clientOf(url: string, key: IssuedCredential): CtsClient {
  return createCtsClient({
    endpoint: url,
    accessKeyId: key.access_key_id,
    secretAccessKey: key.secret_access_key,
    projectId: key.project_id,
  });
}

function reported(user: string, service: string, resource: string, name: string, ageMs = 60_000) {
  return {
    time: Date.now() - ageMs,
    user: { name: user },
    service_type: service,
    resource_type: resource,
    trace_name: name,
    trace_rating: 'normal',
    trace_type: 'ApiCall',
  };
}

describe('catalogues: operations, resources, users', () => {
  let svc: TestService;
  let cts: CtsClient;
  let service: IssuedCredential;

  async function ingest(key: IssuedCredential, traces: object[]): Promise<void> {
    const res = await signedFetch(svc.url, key, { path: `/v3/${key.project_id}/traces`, body: { traces } });
    assert.equal(res.status, 201, res.text);
  }

  before(async () => {
    svc = await startTestService();
    cts = clientOf(svc.url, svc.credential);
    service = await svc.service.runtime.identity.createCredential({
      projectId: svc.credential.project_id,
      domainId: svc.credential.domain_id,
      user: 'ingester',
      role: 'service',
    });
    await cts.createTracker({ tracker_type: 'system', tracker_name: 'system' });
  });
  after(() => svc.close());

  test("ListOperations lists OpenCTS's own operations (service CTS) from the start", async () => {
    const res = await cts.listOperations({ service_type: 'CTS' });
    assert.equal(res.httpStatusCode, 200);
    const byType = new Map(res.operations.map((o) => [o.resource_type, o.operation_list]));
    assert.deepEqual(byType.get('tracker'), [
      'createTracker',
      'deleteTracker',
      'listTrackers',
      'updateTracker',
      'updateTrackerStatus',
    ]);
    for (const name of ['batchCreateResourceTags', 'batchDeleteResourceTags', 'createResourceTag']) {
      assert.ok(byType.get('tag')?.includes(name), name);
    }
    assert.deepEqual(byType.get('configuration'), ['showConfiguration', 'updateConfiguration']);
    assert.ok(res.operations.every((o) => o.service_type === 'CTS'));
  });

  test('every service, resource type and trace name reported through ingest is listed, sorted', async () => {
    await ingest(service, [
      reported('bob', 'ECS', 'ecs', 'createServer'),
      reported('bob', 'ECS', 'ecs', 'deleteServer'),
      reported('bob', 'ECS', 'ecs', 'createServer'),
      reported('carol', 'ECS', 'disk', 'attachVolume'),
      reported('carol', 'VPC', 'vpc', 'createVpc'),
    ]);
    const all = await cts.listOperations();
    const groups = all.operations.map((o) => `${o.service_type}/${o.resource_type}`);
    assert.deepEqual(groups, [...groups].sort(), 'sorted by service, then resource type');
    assert.deepEqual(
      all.operations.filter((o) => o.service_type !== 'CTS'),
      [
        { service_type: 'ECS', resource_type: 'disk', operation_list: ['attachVolume'] },
        { service_type: 'ECS', resource_type: 'ecs', operation_list: ['createServer', 'deleteServer'] },
        { service_type: 'VPC', resource_type: 'vpc', operation_list: ['createVpc'] },
      ],
    );
  });

  test('service_type and resource_type filter exactly; resource_type alone is 400 CTS.9400', async () => {
    const ecs = await cts.listOperations({ service_type: 'ECS' });
    assert.deepEqual(
      ecs.operations.map((o) => o.resource_type),
      ['disk', 'ecs'],
    );
    const one = await cts.listOperations({ service_type: 'ECS', resource_type: 'ecs' });
    assert.deepEqual(one.operations, [
      { service_type: 'ECS', resource_type: 'ecs', operation_list: ['createServer', 'deleteServer'] },
    ]);
    assert.deepEqual((await cts.listOperations({ service_type: 'ecs' })).operations, [], 'case-sensitive');
    assert.deepEqual((await cts.listOperations({ service_type: 'ECS', resource_type: 'vpc' })).operations, []);
    const err = await expectCtsError(cts.listOperations({ resource_type: 'ecs' }), 400, 'CTS.9400');
    assert.match(err.errorMsg ?? '', /service_type/);
    await expectCtsError(cts.listOperations({ service_type: '' }), 400, 'CTS.9400');
  });

  test("another project's reported operations and users are not listed", async () => {
    const other = await svc.service.runtime.identity.createCredential({
      projectId: 'ee'.repeat(16),
      domainId: 'ff'.repeat(16),
      user: 'eve',
      role: 'service',
    });
    const otherAdmin = await svc.service.runtime.identity.createCredential({
      projectId: other.project_id,
      domainId: other.domain_id,
      user: 'eve-admin',
    });
    await clientOf(svc.url, otherAdmin).createTracker({ tracker_type: 'system', tracker_name: 'system' });
    await ingest(other, [reported('eve', 'RDS', 'instance', 'secretOperation')]);
    const mine = await cts.listOperations();
    assert.ok(!JSON.stringify(mine).includes('RDS'));
    assert.ok(!JSON.stringify(mine).includes('secretOperation'));
    const theirs = await clientOf(svc.url, otherAdmin).listOperations({ service_type: 'RDS' });
    assert.deepEqual(theirs.operations, [
      { service_type: 'RDS', resource_type: 'instance', operation_list: ['secretOperation'] },
    ]);
    const users = (await cts.listUserResources()).users.map((u) => u.name);
    assert.ok(!users.includes('eve') && !users.includes('eve-admin'));
    const resources = await cts.listTraceResources({ domain_id: svc.credential.domain_id });
    assert.ok(!JSON.stringify(resources).includes('RDS'));
    await expectCtsError(cts.listTraceResources({ domain_id: other.domain_id }), 403, 'CTS.0002');
  });

  test("ListTraceResources: each service's resource types in the domain's traces, OpenCTS's own included", async () => {
    const res = await cts.listTraceResources({ domain_id: svc.credential.domain_id });
    assert.equal(res.httpStatusCode, 200);
    const byService = new Map(res.resources.map((r) => [r.service_type, r.resource]));
    assert.deepEqual(byService.get('ECS'), ['disk', 'ecs']);
    assert.deepEqual(byService.get('VPC'), ['vpc']);
    for (const type of ['configuration', 'tag', 'trace', 'tracker'])
      assert.ok(byService.get('CTS')?.includes(type), type);
    assert.deepEqual(
      res.resources.map((r) => r.service_type),
      [...byService.keys()].sort(),
    );
  });

  test('ListUserResources: users with a trace in the last 30 days (event time), not older ones', async () => {
    await ingest(service, [
      reported('dave', 'ECS', 'ecs', 'createServer', 29 * DAY),
      reported('erin', 'ECS', 'ecs', 'createServer', 31 * DAY),
      reported('', 'ECS', 'ecs', 'createServer'),
    ]);
    const res = await cts.listUserResources();
    assert.equal(res.httpStatusCode, 200);
    // alice: the admin whose tracker writes were recorded; bob, carol, dave: reported.
    assert.deepEqual(res.users, [{ name: 'alice' }, { name: 'bob' }, { name: 'carol' }, { name: 'dave' }]);
    // A newer trace of erin brings her into the window.
    await ingest(service, [reported('erin', 'ECS', 'ecs', 'createServer', DAY)]);
    assert.ok((await cts.listUserResources()).users.some((u) => u.name === 'erin'));
    // An older trace of bob does not push him out.
    await ingest(service, [reported('bob', 'ECS', 'ecs', 'createServer', 40 * DAY)]);
    assert.ok((await cts.listUserResources()).users.some((u) => u.name === 'bob'));
  });

  test('the catalogues survive a restart, and outlive the 7-day trace retention', async () => {
    await svc.stop();
    const restarted = await startTestService({ dataDir: svc.dataDir, credential: svc.credential });
    try {
      const client = clientOf(restarted.url, svc.credential);
      assert.deepEqual((await client.listOperations({ service_type: 'VPC' })).operations, [
        { service_type: 'VPC', resource_type: 'vpc', operation_list: ['createVpc'] },
      ]);
      const users = (await client.listUserResources()).users.map((u) => u.name);
      assert.ok(users.includes('dave'), 'dave reported a trace 29 days ago: past retention, still listed');
    } finally {
      await restarted.close();
    }
  });
});

describe('the operations catalogue file', () => {
  test('its operations are listed with the others; a bad file stops the start with a message', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'operations.json');
    await writeFile(
      file,
      JSON.stringify({
        operations: [
          { service_type: 'OBS', resource_type: 'bucket', operation_list: ['createBucket', 'deleteBucket'] },
          { service_type: 'CTS', resource_type: 'tracker', operation_list: ['createTracker', 'importTracker'] },
        ],
      }),
    );
    const svc = await startTestService({ config: { operationsCatalogue: file } });
    try {
      const cts = clientOf(svc.url, svc.credential);
      assert.deepEqual((await cts.listOperations({ service_type: 'OBS' })).operations, [
        { service_type: 'OBS', resource_type: 'bucket', operation_list: ['createBucket', 'deleteBucket'] },
      ]);
      const tracker = await cts.listOperations({ service_type: 'CTS', resource_type: 'tracker' });
      assert.deepEqual(tracker.operations[0]?.operation_list, [
        'createTracker',
        'deleteTracker',
        'importTracker',
        'listTrackers',
        'updateTracker',
        'updateTrackerStatus',
      ]);
      const resources = await cts.listTraceResources({ domain_id: svc.credential.domain_id });
      assert.ok(resources.resources.some((r) => r.service_type === 'OBS' && r.resource.includes('bucket')));
    } finally {
      await svc.close();
    }

    for (const [content, message] of [
      ['{not json', /cannot read the operations catalogue/],
      [JSON.stringify({ operations: [{ service_type: 'X', resource_type: 'y' }] }), /invalid at \/operations\/0/],
    ] as const) {
      await writeFile(file, content);
      const dataDir = await makeTempDir();
      await assert.rejects(
        startService(testConfig(dataDir, { operationsCatalogue: file }), pino({ level: 'silent' })),
        message,
      );
      await rm(dataDir, { recursive: true, force: true });
    }
    await assert.rejects(
      startService(testConfig(dir, { operationsCatalogue: path.join(dir, 'missing.json') }), pino({ level: 'silent' })),
      /cannot read the operations catalogue/,
    );
    await rm(dir, { recursive: true, force: true });
  });

  test('OPENCTS_OPERATIONS_CATALOGUE names the file too', async () => {
    const { resolveConfig } = await import('../../src/config.js');
    const config = resolveConfig({ env: { OPENCTS_OPERATIONS_CATALOGUE: '/etc/opencts/operations.json' } });
    assert.equal(config.operationsCatalogue, '/etc/opencts/operations.json');
  });
});
