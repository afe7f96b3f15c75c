/**
 * What the delivery benchmarks share: an OpenCTS data dir opened in-process through the composition
 * root (openRuntime → SqliteStore + the fs object store, exactly as `opencts serve` opens them), a
 * project with a system tracker that ships to a bucket, synthetic traces written through the store
 * (SqliteStore.changeTrackers, as the ingest path commits them), DeliveryWorkers on that runtime,
 * the raw durable write the fs object store is judged against, and small timing helpers.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config.js';
import { uuidv7 } from '../../src/core/ids.js';
import { tracesToStore } from '../../src/core/trace/ingest.js';
import type { Trace } from '../../src/core/trace/trace.js';
import { planCreateTracker } from '../../src/core/tracker/tracker-rules.js';
import type { Tracker, TrackerInput } from '../../src/core/tracker/tracker.js';
import { DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import type { ObjectStore } from '../../src/delivery/object-store.js';
import { BUCKETS_DIR, openRuntime, type Runtime } from '../../src/runtime.js';
import type { Store } from '../../src/store/store.js';
import { buildUniverse, generateIngested, mulberry32, type Universe } from './trace-generator.js';

export const REGION = 'local-1';

export interface DeliveryFixture {
  readonly runtime: Runtime;
  readonly dataDir: string;
  readonly projectId: string;
  readonly domainId: string;
  readonly bucket: string;
  /** `<data-dir>/buckets/<bucket>`. */
  readonly bucketDir: string;
  readonly tracker: Tracker;
  /**
   * Writes `count` synthetic system traces through the store, `batch` per transaction;
   * `timeOf(k)` gives trace k's `time` and `recordTime` its record time (default: now).
   */
  loadTraces(
    count: number,
    options: { batch: number; timeOf: (k: number) => number; recordTime?: () => number },
  ): Promise<{ seconds: number }>;
  /** A DeliveryWorker on this runtime; `store`/`objects` may be wrapped (e.g. timed). */
  worker(options?: {
    now?: () => number;
    digestIntervalMs?: number;
    store?: Store;
    objects?: ObjectStore;
  }): DeliveryWorker;
  close(): Promise<void>;
}

export async function openDeliveryFixture(
  dataDir: string,
  options: { bucket: string; validate: boolean; seed?: number; obsInfo?: TrackerInput['obs_info'] },
): Promise<DeliveryFixture> {
  const runtime = await openRuntime(resolveConfig({ flags: { dataDir, logLevel: 'warn' }, env: {} }));
  const projectId = randomBytes(16).toString('hex');
  const domainId = randomBytes(16).toString('hex');
  const created = Date.now();
  await runtime.store.ensureProject({
    project_id: projectId,
    domain_id: domainId,
    name: projectId,
    created_at: created,
  });
  await runtime.objects.createBucket(options.bucket);
  let tracker: Tracker | undefined;
  await runtime.store.changeTrackers(projectId, (current) => {
    ({ tracker } = planCreateTracker(
      current,
      {
        tracker_type: 'system',
        tracker_name: 'system',
        is_support_validate: options.validate,
        obs_info: { bucket_name: options.bucket, is_obs_created: true, compress_type: 'gzip', ...options.obsInfo },
      },
      { projectId, domainId, region: REGION, now: created, newId: () => uuidv7(created) },
    ));
    return { upsert: [tracker], result: undefined };
  });
  const universe: Universe = buildUniverse(1);
  const rng = mulberry32(options.seed ?? 7);
  const logger = pino({ level: 'silent' });
  const fixture: DeliveryFixture = {
    runtime,
    dataDir,
    projectId,
    domainId,
    bucket: options.bucket,
    bucketDir: path.join(dataDir, BUCKETS_DIR, options.bucket),
    tracker: tracker!,
    async loadTraces(count, { batch, timeOf, recordTime = Date.now }) {
      const started = performance.now();
      const trackers = [tracker!];
      for (let done = 0; done < count;) {
        const size = Math.min(batch, count - done);
        const traces: Trace[] = [];
        for (let i = 0; i < size; i++) {
          const item = generateIngested(rng, universe, timeOf(done + i), projectId);
          const at = recordTime();
          traces.push(
            ...tracesToStore(item, i, trackers, { projectId, domainId, traceId: uuidv7(at), recordTime: at }),
          );
        }
        await runtime.store.changeTrackers(projectId, () => ({ traces, result: undefined }));
        done += size;
      }
      return { seconds: (performance.now() - started) / 1000 };
    },
    worker(o = {}) {
      return new DeliveryWorker({
        store: o.store ?? runtime.store,
        objects: o.objects ?? runtime.objects,
        keys: runtime.keys,
        region: REGION,
        flushIntervalMs: 3_600_000,
        digestIntervalMs: o.digestIntervalMs ?? 3_600_000,
        logger,
        ...(o.now ? { now: o.now } : {}),
      });
    },
    close: () => runtime.close(),
  };
  return fixture;
}

/**
 * The raw durable write the fs object store is judged against: a temp file in the target folder,
 * written, fsynced, closed and renamed over the real name (no folder fsync, no metadata file).
 */
export function rawDurableWrite(file: string, data: Uint8Array): void {
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, 'wx');
  try {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** Regular files under `dir` (relative `/`-paths), skipping `.opencts…` names as the fs store does. */
export function filesUnder(dir: string, base = ''): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.opencts')) continue;
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** User + system ms of a `process.cpuUsage(previous)` difference. */
export function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

export interface Phase {
  /** Wall time. */
  ms: number;
  /** CPU time of the whole process (all threads) meanwhile: on a shared machine, the work done. */
  cpuMs: number;
  calls: number;
}

/** Accumulated wall and CPU time and calls per method name (for code that makes one call at a time). */
export class PhaseTimer {
  readonly phases = new Map<string, Phase>();

  add(name: string, ms: number, cpuMs: number): void {
    const p = this.phases.get(name) ?? { ms: 0, cpuMs: 0, calls: 0 };
    p.ms += ms;
    p.cpuMs += cpuMs;
    p.calls++;
    this.phases.set(name, p);
  }

  reset(): void {
    this.phases.clear();
  }

  total(): { ms: number; cpuMs: number } {
    let ms = 0;
    let cpuMs = 0;
    for (const p of this.phases.values()) {
      ms += p.ms;
      cpuMs += p.cpuMs;
    }
    return { ms, cpuMs };
  }

  /**
   * `target` with the async methods named in `names` timed into this timer under `prefix.name`.
   * Other members pass through, bound to the target (private fields keep working).
   */
  wrap<T extends object>(target: T, prefix: string, names: readonly string[]): T {
    return new Proxy(target, {
      get: (t, p) => {
        const value: unknown = Reflect.get(t, p, t);
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (typeof p !== 'string' || !names.includes(p)) return fn.bind(t);
        return async (...args: unknown[]) => {
          const started = performance.now();
          const cpu = process.cpuUsage();
          try {
            return await fn.apply(t, args);
          } finally {
            this.add(`${prefix}.${p}`, performance.now() - started, cpuMs(process.cpuUsage(cpu)));
          }
        };
      },
    });
  }
}
