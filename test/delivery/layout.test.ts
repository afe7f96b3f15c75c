/**
 * The bucket layout of spec §5.1/§5.2, byte for byte, with a fake clock: object keys (sorted by
 * service or not, gzip or plain JSON), file content (a compact JSON array of traces in the stored
 * shape of §2.2, `user` a JSON string, `code` a number), the KMS createDatakey exclusion,
 * deterministic keys on a retry, and the noBucket → enabled round trip with every trace delivered
 * exactly once.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Trace } from '../../src/core/trace/trace.js';
import type { ObjectStore, PutObjectInput } from '../../src/delivery/object-store.js';
import {
  FAKE_START_MS,
  listTraceFiles,
  PERIOD_MS,
  reportedTrace,
  startDeliveryHarness,
  type DeliveryHarness,
} from '../support/delivery-harness.js';

const BUCKET = 'layout-bucket';
const DAY_PATH = 'CloudTraces/local-1/2026/11/20/system';

/** `2026-11-20T00-0M-00Z` of the cycle M minutes after the fake start. */
function stamp(minute: number): string {
  return `2026-11-20T00-${String(minute).padStart(2, '0')}-00Z`;
}

/** Sorted by service, gzip (spec §5.1). */
function sortedKey(minute: number): RegExp {
  return new RegExp(`^${DAY_PATH}/(ECS|VPC|CTS|KMS)/pre_CloudTrace_local-1_${stamp(minute)}_[0-9a-f]{16}\\.json\\.gz$`);
}

/** Not sorted by service, plain JSON. */
function unsortedKey(minute: number): RegExp {
  return new RegExp(`^${DAY_PATH}/pre_CloudTrace_local-1_${stamp(minute)}_[0-9a-f]{16}\\.json$`);
}

interface FileRecord extends Record<string, unknown> {
  trace_id: string;
  trace_name: string;
  service_type: string;
  user: string;
}

describe('delivered bucket layout (spec §5.1) with a fake clock', () => {
  let h: DeliveryHarness;
  /** Every key seen so far (to tell a cycle's new objects). */
  let seen = new Set<string>();

  before(async () => {
    h = await startDeliveryHarness({
      bucket: BUCKET,
      tracker: { management_event_selector: { exclude_service: ['KMS'] } },
    });
  });
  after(() => h.close());

  const objects = (): ObjectStore => h.svc.service.runtime.objects;

  async function newTraceFiles(): Promise<string[]> {
    const keys = (await listTraceFiles(objects(), BUCKET)).filter((k) => !seen.has(k));
    for (const k of keys) seen.add(k);
    return keys;
  }

  async function recordsOf(key: string): Promise<FileRecord[]> {
    const { body } = await objects().getObject(BUCKET, key);
    const json = key.endsWith('.gz') ? gunzipSync(body).toString('utf8') : Buffer.from(body).toString('utf8');
    const records = JSON.parse(json) as FileRecord[];
    assert.ok(Array.isArray(records), `${key} holds a JSON array`);
    assert.equal(json, JSON.stringify(records), `${key} is compact JSON, nothing around the array`);
    return records;
  }

  async function storedTraces(): Promise<Map<string, Trace>> {
    const rows = await h.svc.service.runtime.store.readTracesForDelivery(
      h.admin.project_id,
      'system',
      0,
      Number.MAX_SAFE_INTEGER,
      100_000,
    );
    return new Map(rows.map((r) => [r.trace.trace_id, r.trace]));
  }

  /** trace_id → how many times it appears across every trace file in the bucket. */
  async function deliveredCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const key of await listTraceFiles(objects(), BUCKET)) {
      for (const r of await recordsOf(key)) counts.set(r.trace_id, (counts.get(r.trace_id) ?? 0) + 1);
    }
    return counts;
  }

  async function cycleAt(minute: number, worker = h.worker): Promise<void> {
    h.clock = FAKE_START_MS + minute * PERIOD_MS;
    await worker.runOnce();
  }

  test('sorted by service, gzip: one object per service per cycle, stored-shape records, KMS createDatakey left out', async () => {
    const ids = await h.ingest([
      reportedTrace({ trace_name: 'createServer', request: { name: 'web-1' }, user_agent: 'sdk/1.0' }),
      reportedTrace({ trace_name: 'deleteServer', code: 204, read_only: false, content_length: 12, total_time: 7 }),
      reportedTrace({ service_type: 'VPC', resource_type: 'vpc', trace_name: 'createVpc', code: '200' }),
      reportedTrace({ service_type: 'KMS', resource_type: 'key', trace_name: 'createDatakey' }),
    ]);
    await cycleAt(0);
    const keys = await newTraceFiles();
    for (const key of keys) {
      assert.match(
        key,
        /^CloudTraces\/local-1\/2026\/11\/20\/system\/(ECS|VPC|CTS)\/pre_CloudTrace_local-1_2026-11-20T00-00-00Z_[0-9a-f]{16}\.json\.gz$/,
      );
    }
    const services = keys.map((k) => k.split('/')[6]!).sort();
    assert.deepEqual(services, [...new Set(services)], 'one object per service in the cycle');
    assert.ok(services.includes('ECS') && services.includes('VPC'), services.join());
    assert.ok(!services.includes('KMS'), 'the only KMS trace is createDatakey, which is excluded');
    assert.deepEqual(
      services.filter((s) => s !== 'CTS'),
      ['ECS', 'VPC'],
    );

    const stored = await storedTraces();
    const delivered: FileRecord[] = [];
    for (const key of keys) {
      const records = await recordsOf(key);
      assert.ok(records.length > 0);
      for (const record of records) {
        delivered.push(record);
        assert.equal(record.service_type, key.split('/')[6], 'each record is in its service folder');
        // §2.2 stored fields, with `user` as a JSON string and a numeric `code` (the CTS file sample).
        assert.equal(record['event_type'], 'system');
        assert.equal(record['tracker_name'], 'system');
        assert.equal(record['project_id'], h.admin.project_id);
        assert.equal(typeof record['domain_id'], 'string');
        assert.equal(typeof record.user, 'string');
        assert.equal(typeof record['time'], 'number');
        assert.equal(typeof record['record_time'], 'number');
        if (record['code'] !== undefined) assert.equal(typeof record['code'], 'number');
        const trace = stored.get(record.trace_id);
        assert.ok(trace, `record ${record.trace_id} is a stored trace`);
        // Exactly the stored trace, no field more or less, but for the two documented encodings.
        const decoded = { ...record, user: JSON.parse(record.user) as unknown } as Record<string, unknown>;
        if (record['code'] !== undefined) decoded['code'] = String(record['code']);
        assert.deepEqual(decoded, trace);
      }
    }
    const byId = new Map(delivered.map((r) => [r.trace_id, r]));
    const [createServer, deleteServer, createVpc, createDatakey] = ids;
    assert.equal(byId.get(createServer!)?.['code'], 200);
    assert.equal(byId.get(createServer!)?.['user_agent'], 'sdk/1.0');
    assert.equal(byId.get(createServer!)?.['request'], '{"name":"web-1"}');
    assert.deepEqual(JSON.parse(byId.get(createServer!)!.user), reportedTrace()['user']);
    assert.equal(byId.get(createServer!)?.['domain_id'], h.admin.domain_id);
    assert.equal(byId.get(deleteServer!)?.['code'], 204);
    assert.equal(byId.get(deleteServer!)?.['content_length'], 12);
    assert.equal(byId.get(deleteServer!)?.['total_time'], 7);
    assert.equal(byId.get(createVpc!)?.['code'], 200, 'a numeric string code is delivered as a number');
    assert.ok(stored.has(createDatakey!), 'createDatakey is recorded (listable) ...');
    assert.ok(!byId.has(createDatakey!), '... but not delivered');
    // In commit order inside a file.
    const ecs = await recordsOf(keys.find((k) => k.includes('/ECS/'))!);
    assert.deepEqual(
      ecs.map((r) => r.trace_id),
      [createServer, deleteServer],
    );
  });

  test('exclude_service KMS keeps only createDatakey out: other KMS traces are delivered', async () => {
    const [datakey, createKey, datakey2] = await h.ingest([
      reportedTrace({ service_type: 'KMS', resource_type: 'key', trace_name: 'createDatakey' }),
      reportedTrace({ service_type: 'KMS', resource_type: 'key', trace_name: 'createKey' }),
      reportedTrace({
        service_type: 'KMS',
        resource_type: 'key',
        trace_name: 'createDatakey',
        trace_type: 'ConsoleAction',
      }),
    ]);
    await cycleAt(1);
    const keys = await newTraceFiles();
    for (const key of keys) assert.match(key, sortedKey(1));
    // The digest of the first period, beside the files (spec §5.2 folder and name).
    const digests = (await objects().listObjects(BUCKET, 'CloudTraces/'))
      .map((s) => s.key)
      .filter((k) => k.includes('/Digest/'));
    assert.deepEqual(digests, [`${DAY_PATH}/Digest/CTS/pre_CloudTrace-Digest_local-1_${stamp(1)}.json.gz`]);

    const kms = keys.filter((k) => k.includes('/KMS/'));
    assert.equal(kms.length, 1);
    assert.deepEqual(
      (await recordsOf(kms[0]!)).map((r) => r.trace_id),
      [createKey],
    );
    const counts = await deliveredCounts();
    assert.equal(counts.get(createKey!), 1);
    assert.equal(counts.has(datakey!), false);
    assert.equal(counts.has(datakey2!), false);
  });

  test('a retry of the same batch rewrites the same keys with the same bytes (deterministic)', async () => {
    const ids = await h.ingest([
      reportedTrace({ trace_name: 'rebootServer' }),
      reportedTrace({ service_type: 'VPC', resource_type: 'vpc', trace_name: 'deleteVpc' }),
    ]);
    // A worker that dies right after storing its first object (as a crash would).
    const firstWrites: PutObjectInput[] = [];
    const real = objects();
    const crashing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'putObject') {
          // Writes run several at a time: only the first one reaches the bucket, as if the
          // process died while the others were still in flight.
          return async (input: PutObjectInput) => {
            if (firstWrites.length > 0) throw new Error('simulated crash: the process is gone');
            firstWrites.push(input);
            await target.putObject(input);
            throw new Error('simulated crash after the first object');
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await cycleAt(2, h.workerWith(crashing));
    assert.equal(firstWrites.length, 1);
    const crashedKey = firstWrites[0]!.key;
    assert.match(crashedKey, sortedKey(2));
    const before = Buffer.from((await real.getObject(BUCKET, crashedKey)).body);
    assert.deepEqual(await newTraceFiles(), [crashedKey], 'the crashed cycle left one object');

    // The retry, a period later, redoes the planned batch: still named after the planned time.
    await cycleAt(3);
    const retried = await newTraceFiles();
    for (const key of retried) assert.match(key, sortedKey(2));
    const after = Buffer.from((await real.getObject(BUCKET, crashedKey)).body);
    assert.ok(after.equals(before), 'the crashed object was rewritten in place, byte for byte');
    const counts = await deliveredCounts();
    for (const id of ids) assert.equal(counts.get(id!), 1, `trace ${id} delivered once`);
    for (const [id, n] of counts) assert.equal(n, 1, `trace ${id} in one file only`);
  });

  test('sort_by_service off, compress_type json: one plain .json object per cycle in the tracker folder', async () => {
    const updated = await h.api('PUT', '/tracker', {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { is_sort_by_service: false, compress_type: 'json' },
    });
    assert.equal(updated.status, 200, updated.text);
    const ids = await h.ingest([
      reportedTrace({ trace_name: 'stopServer' }),
      reportedTrace({ service_type: 'VPC', resource_type: 'vpc', trace_name: 'updateVpc' }),
    ]);
    await cycleAt(4);
    const keys = await newTraceFiles();
    assert.equal(keys.length, 1, keys.join());
    assert.match(keys[0]!, unsortedKey(4));
    const records = await recordsOf(keys[0]!);
    for (const id of ids) assert.ok(records.some((r) => r.trace_id === id));
    assert.ok(new Set(records.map((r) => r.service_type)).size >= 2, 'all services in one file');
    const metadata = JSON.parse(
      await readFile(path.join(h.bucketDir, '.opencts-metadata', `${keys[0]}.json`), 'utf8'),
    ) as Record<string, unknown>;
    assert.equal(metadata['content_type'], 'application/json');
    assert.equal(metadata['content_encoding'], undefined, 'plain JSON has no content encoding');
  });

  test('noBucket → error, SystemAction updateTrackerStatus; bucket back → enabled, broken-time traces delivered once', async () => {
    await rm(h.bucketDir, { recursive: true, force: true });
    seen = new Set();
    const broken = await h.ingest([
      reportedTrace({ trace_name: 'createServer', resource_id: 'while-broken-1' }),
      reportedTrace({
        service_type: 'VPC',
        resource_type: 'vpc',
        trace_name: 'createVpc',
        resource_id: 'while-broken-2',
      }),
    ]);
    await cycleAt(5);
    const listed = await h.api('GET', '/trackers', undefined, { tracker_name: 'system' });
    const [system] = (listed.json as { trackers: Array<Record<string, unknown>> }).trackers;
    assert.equal(system?.['status'], 'error');
    assert.equal(system?.['detail'], 'noBucket');

    // Still broken a cycle later: more traces queue up, the status is not recorded twice.
    broken.push(...(await h.ingest([reportedTrace({ trace_name: 'deleteServer', resource_id: 'while-broken-3' })])));
    await cycleAt(6);
    const statusTraces = async () =>
      (
        (
          await h.api('GET', '/traces', undefined, {
            trace_type: 'system',
            trace_name: 'updateTrackerStatus',
            from: FAKE_START_MS - PERIOD_MS,
            to: FAKE_START_MS + 60 * PERIOD_MS,
            limit: 50,
          })
        ).json as { traces: Array<Record<string, unknown>> }
      ).traces;
    const errorTraces = await statusTraces();
    assert.equal(errorTraces.length, 1, JSON.stringify(errorTraces));
    assert.equal(errorTraces[0]?.['trace_type'], 'SystemAction');
    assert.equal(errorTraces[0]?.['trace_rating'], 'warning');
    assert.equal(errorTraces[0]?.['resource_name'], 'system');
    assert.equal(JSON.parse(errorTraces[0]?.['response'] as string).detail, 'noBucket');

    await mkdir(h.bucketDir);
    await cycleAt(7);
    const [recovered] = (
      (await h.api('GET', '/trackers', undefined, { tracker_name: 'system' })).json as {
        trackers: Array<Record<string, unknown>>;
      }
    ).trackers;
    assert.equal(recovered?.['status'], 'enabled');
    assert.equal(recovered?.['detail'], undefined);
    await cycleAt(8); // delivers the "enabled again" status trace recorded after the recovery cycle

    const counts = await deliveredCounts();
    for (const id of broken) assert.equal(counts.get(id), 1, `broken-time trace ${id} delivered exactly once`);
    const statuses = await statusTraces();
    assert.equal(statuses.length, 2, 'error, then enabled again');
    for (const t of statuses) assert.equal(counts.get(t['trace_id'] as string), 1);
    for (const [id, n] of counts) assert.equal(n, 1, `trace ${id} in one file only`);
    // The batch planned while broken keeps its planned time in its name.
    const keys = await listTraceFiles(objects(), BUCKET);
    const brokenKeys = keys.filter((k) => k.includes(stamp(5)));
    assert.ok(brokenKeys.length > 0, keys.join('\n'));
    for (const key of brokenKeys) assert.match(key, unsortedKey(5));
  });
});
