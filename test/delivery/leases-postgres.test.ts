/**
 * Two instances (two runtimes, one PostgreSQL database, one bucket folder) running delivery at
 * the same moments: each tracker's batches are delivered by one of them at a time, so every
 * trace is in exactly one file; when one stops, the other takes its trackers over at once.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { uuidv7 } from '../../src/core/ids.js';
import type { Trace } from '../../src/core/trace/trace.js';
import type { Tracker } from '../../src/core/tracker/tracker.js';
import { DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase } from '../support/postgres.js';
import { makeTempDir, testConfig } from '../support/service.js';
import { listBucketObjects, readTraceFile, TRACE_FILE_KEY } from '../support/trace-bucket.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const DOMAIN = 'fedcba9876543210fedcba9876543210';

function tracker(name: string, bucket: string): Tracker {
  return {
    id: `tracker-${name}`,
    create_time: Date.now(),
    tracker_type: name === 'system' ? 'system' : 'data',
    tracker_name: name,
    domain_id: DOMAIN,
    project_id: PROJECT,
    status: 'enabled',
    is_support_validate: false,
    is_support_trace_files_encryption: false,
    is_organization_tracker: false,
    management_event_selector: { exclude_service: [] },
    lts: { is_lts_enabled: false, log_group_name: 'CTS', log_topic_name: 'system-trace' },
    obs_info: {
      bucket_name: bucket,
      file_prefix_name: '',
      is_obs_created: true,
      is_authorized_bucket: false,
      bucket_lifecycle: 0,
      compress_type: 'gzip',
      is_sort_by_service: false,
      bucket_location: 'local-1',
    },
    ...(name === 'system'
      ? {}
      : { data_bucket: { data_bucket_name: 'src', search_enabled: false, data_event: ['READ'] } }),
  };
}

function traces(trackerName: string, n: number): Trace[] {
  const now = Date.now();
  return Array.from({ length: n }, () => ({
    trace_id: uuidv7(now),
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: trackerName === 'system' ? 'ApiCall' : 'ObsSDK',
    event_type: trackerName === 'system' ? 'system' : 'data',
    tracker_name: trackerName,
    project_id: PROJECT,
    domain_id: DOMAIN,
    service_type: 'ECS',
    resource_type: 'ecs',
    time: now,
    record_time: now,
    user: { name: 'alice' },
  }));
}

test('two instances deliver on one PostgreSQL: every trace in exactly one file, takeover on stop', async () => {
  const db = await createTestDatabase();
  const dataDir = await makeTempDir();
  const runtimes: Runtime[] = [];
  try {
    const config = testConfig(dataDir, { store: db.url });
    for (let i = 0; i < 2; i++) runtimes.push(await openRuntime(config));
    const [a, b] = runtimes as [Runtime, Runtime];
    await a.store.ensureProject({ project_id: PROJECT, domain_id: DOMAIN, name: 'p', created_at: 1 });
    const buckets = ['b-system', 'b-data1', 'b-data2'];
    for (const bucket of buckets) await mkdir(path.join(dataDir, 'buckets', bucket), { recursive: true });
    const names = ['system', 'data1', 'data2'];
    await a.store.changeTrackers(PROJECT, () => ({
      upsert: names.map((n, i) => tracker(n, buckets[i]!)),
      result: undefined,
    }));
    const worker = (rt: Runtime, id: string) =>
      new DeliveryWorker({
        store: rt.store,
        objects: rt.objects,
        keys: rt.keys,
        region: 'local-1',
        flushIntervalMs: 3_600_000,
        digestIntervalMs: 3_600_000,
        logger: pino({ level: 'silent' }),
        instanceId: id,
      });
    const workerA = worker(a, 'instance-a');
    const workerB = worker(b, 'instance-b');
    const written = new Set<string>();
    const ingest = async (rt: Runtime) => {
      for (const name of names) {
        const batch = traces(name, 40);
        await rt.store.changeTrackers(PROJECT, () => ({ traces: batch, result: undefined }));
        for (const t of batch) written.add(t.trace_id);
      }
    };
    // Traces keep arriving while both instances run their cycles (without leases, both plan
    // overlapping batches of the same tracker and deliver traces twice).
    for (let round = 0; round < 8; round++) {
      await Promise.all([ingest(a), ingest(b), workerA.runOnce(), workerB.runOnce()]);
    }
    await Promise.all([workerA.runOnce(), workerB.runOnce()]);
    // A clean stop hands instance a's trackers to b at once.
    await workerA.stop();
    await ingest(a);
    await workerB.runOnce();

    const seen = new Map<string, number>();
    for (const bucket of buckets) {
      for (const object of await listBucketObjects(path.join(dataDir, 'buckets', bucket))) {
        if (!TRACE_FILE_KEY.test(object.key)) continue;
        for (const t of await readTraceFile(object)) seen.set(t.trace_id, (seen.get(t.trace_id) ?? 0) + 1);
      }
    }
    const twice = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no trace in two files');
    assert.equal(seen.size, written.size, 'every trace delivered');
    for (const id of written) assert.ok(seen.has(id));
    await workerB.stop();
  } finally {
    for (const rt of runtimes) await rt.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
