/**
 * Ships every tracker's traces to its bucket, and writes its digest chain.
 *
 * Exactly once in the files: a batch (cursor < seq ≤ pending_to, named after pending_time) is
 * planned durably before any object is written; object keys are derived from the batch and its
 * content, so a retry after a crash rewrites the same objects; the cursor moves, and the files
 * are logged for the digest, in one transaction after every object is stored.
 */
import type { Logger } from 'pino';
import { buildDigest, encodeDigest, sha256Hex, signingString, type PreviousDigest } from '../core/delivery/digest.js';
import {
  DIGEST_SIGNATURE_ALGORITHM,
  SIGNATURE_ALGORITHM_METADATA,
  SIGNATURE_METADATA,
} from '../core/delivery/digest.js';
import { buildTraceFiles } from '../core/delivery/trace-file.js';
import { uuidv7 } from '../core/ids.js';
import { systemTrackerRecording } from '../core/trace/recording.js';
import { trackerStatusTrace } from '../core/trace/system-trace.js';
import type { StatusDetail, Tracker } from '../core/tracker/tracker.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaseLostError, type DeliveryState, type Lease, type Store } from '../store/store.js';
import { AccessDeniedError, NoSuchBucketError, type ObjectStore } from './object-store.js';
import { signHex, type SigningKeys } from './signing-keys.js';
import type { LtsSink } from '../lts/lts-sink.js';

/** Traces per planned batch: bounds memory and the time one tracker holds the worker. */
export const BATCH_LIMIT = 20_000;
const LIFECYCLE_EVERY_MS = 3_600_000;
/**
 * Objects of one batch written at once: a sorted-by-service cycle holds one file per service, and
 * each durable write waits on fsyncs that overlap well (commit → object latency, issue 6).
 */
const PARALLEL_PUTS = 8;

/**
 * Runs `work` over `items` with at most `limit` in flight. After a failure no new item starts, and
 * the call settles only when the writes in flight have: a failed cycle leaves nothing running.
 */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failure = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failure) throw failure.reason;
}

export interface DeliveryWorkerDeps {
  readonly store: Store;
  readonly objects: ObjectStore;
  readonly keys: SigningKeys;
  readonly region: string;
  readonly flushIntervalMs: number;
  readonly digestIntervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The LTS dump of trackers with is_lts_enabled, if configured. */
  readonly lts?: LtsSink;
  /** Names this worker in its leases (default: this process, see PROCESS_INSTANCE_ID). */
  readonly instanceId?: string;
}

/**
 * The lease holder name of this process: host, pid and a random part (a pid can be reused). The
 * workers of one process share it: they are one instance to the others.
 */
export const PROCESS_INSTANCE_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * How long a tracker's lease outlives its last renewal. Each cycle renews it, cycles start one
 * flush interval apart: two intervals (plus slack for a slow cycle) before another instance
 * takes over the tracker of one that died.
 */
export function leaseTtlMs(flushIntervalMs: number): number {
  return 2 * flushIntervalMs + 30_000;
}

function statusDetailFor(err: unknown): StatusDetail | undefined {
  if (err instanceof NoSuchBucketError) return 'noBucket';
  if (err instanceof AccessDeniedError) return 'bucketPolicyError';
  return undefined;
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly lifecycleRuns = new Map<string, number>();
  private readonly instanceId: string;
  /** Leases this worker holds: released on stop, so another instance takes over at once. */
  private readonly held = new Map<string, Lease>();

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.now = deps.now ?? Date.now;
    this.instanceId = deps.instanceId ?? PROCESS_INSTANCE_ID;
  }

  /**
   * Takes or renews the lease on one piece of work; undefined while another instance holds it.
   * Each tracker's delivery and digest chain, and its LTS dump, is worked by one instance at a
   * time, and its progress is written fenced by the lease (a paused instance cannot overwrite).
   */
  private async lease(name: string): Promise<Lease | undefined> {
    const lease = await this.deps.store.acquireLease(name, this.instanceId, leaseTtlMs(this.deps.flushIntervalMs));
    if (lease) this.held.set(name, lease);
    else this.held.delete(name);
    return lease;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      const started = Date.now();
      this.running = this.runOnce()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'delivery cycle failed'))
        .finally(() => {
          this.running = undefined;
          // Cycles start one interval apart (not one interval after the last one ended), so a
          // trace waits at most about one interval plus one cycle.
          const wait = Math.max(0, this.deps.flushIntervalMs - (Date.now() - started));
          if (!this.stopped) this.timer = setTimeout(tick, wait);
        });
    };
    this.timer = setTimeout(tick, this.deps.flushIntervalMs);
  }

  /** Stops scheduling and waits for a cycle in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map((l) => this.deps.store.releaseLease(l).catch(() => undefined)));
  }

  /** One delivery cycle over every tracker (the scheduler calls it; tests may too). */
  async runOnce(): Promise<void> {
    const trackers = await this.deps.store.listAllTrackers();
    const live = new Set(trackers.map((t) => t.id));
    for (const state of await this.deps.store.listDeliveryStates()) {
      // A deleted tracker's progress must not hold back the retention purge.
      if (!live.has(state.tracker_id)) await this.deps.store.deleteDeliveryState(state.tracker_id);
    }
    for (const tracker of trackers) {
      try {
        const lease = await this.lease(`delivery:${tracker.id}`);
        if (lease) await this.runTracker(tracker, lease);
      } catch (err) {
        this.deps.logger.error({ err, tracker: tracker.id }, 'delivery of a tracker failed');
      }
    }
    const { lts } = this.deps;
    if (lts) {
      const dumping = trackers.filter((t) => t.lts.is_lts_enabled && t.status !== 'disabled');
      await lts.forgetAllBut(new Set(dumping.map((t) => t.id)));
      for (const tracker of dumping) {
        try {
          if (await this.lease(`lts:${tracker.id}`)) await lts.forward(tracker);
        } catch (err) {
          this.deps.logger.error({ err, tracker: tracker.id }, 'LTS dump of a tracker failed');
        }
      }
    }
  }

  private async stateOf(tracker: Tracker, lease: Lease): Promise<DeliveryState> {
    const existing = await this.deps.store.getDeliveryState(tracker.id);
    if (existing) return existing;
    // With a bucket from the start, everything still retained is delivered; without one, traces
    // recorded while transfer is off are never delivered later.
    const cursor = tracker.obs_info.bucket_name
      ? 0
      : await this.deps.store.maxTraceSeq(tracker.project_id, tracker.tracker_name);
    const state: DeliveryState = {
      tracker_id: tracker.id,
      project_id: tracker.project_id,
      cursor_seq: cursor,
      pending_to: null,
      pending_time: null,
      pending_layout: null,
      digest_start: null,
      last_digest: null,
    };
    await this.deps.store.putDeliveryState(state, lease);
    return state;
  }

  private async runTracker(tracker: Tracker, lease: Lease): Promise<void> {
    let state = await this.stateOf(tracker, lease);
    if (tracker.status === 'disabled') return;
    if (!tracker.obs_info.bucket_name) {
      const max = await this.deps.store.maxTraceSeq(tracker.project_id, tracker.tracker_name);
      if (max > state.cursor_seq && state.pending_to === null) {
        await this.deps.store.putDeliveryState({ ...state, cursor_seq: max }, lease);
      }
      return;
    }
    try {
      await this.applyLifecycle(tracker);
      state = await this.deliver(tracker, state, lease);
      if (tracker.is_support_validate) await this.digest(tracker, state, lease);
      if (tracker.status === 'error') await this.setStatus(tracker, 'enabled', undefined, 'delivery succeeded again');
    } catch (err) {
      const detail = statusDetailFor(err);
      if (!detail) throw err;
      if (tracker.status !== 'error' || tracker.detail !== detail) {
        await this.setStatus(tracker, 'error', detail, (err as Error).message);
      }
    }
  }

  private async deliver(tracker: Tracker, initial: DeliveryState, lease: Lease): Promise<DeliveryState> {
    const { store, objects } = this.deps;
    let state = initial;
    for (;;) {
      // The rows read to plan a batch are the batch: read again only when resuming a planned one.
      let planRows: Awaited<ReturnType<Store['readTracesForDelivery']>> | undefined;
      if (state.pending_to === null) {
        const next = await store.readTracesForDelivery(
          tracker.project_id,
          tracker.tracker_name,
          state.cursor_seq,
          Number.MAX_SAFE_INTEGER,
          BATCH_LIMIT,
        );
        if (next.length === 0) return state;
        state = {
          ...state,
          pending_to: next[next.length - 1]!.seq,
          pending_time: this.now(),
          pending_layout: JSON.stringify(tracker.obs_info),
        };
        await store.putDeliveryState(state, lease);
        planRows = next;
      }
      // The batch is written as planned, to the planned bucket, whatever the tracker says now.
      const planned: Tracker = state.pending_layout
        ? { ...tracker, obs_info: JSON.parse(state.pending_layout) as Tracker['obs_info'] }
        : tracker;
      const rows =
        planRows ??
        (await store.readTracesForDelivery(
          tracker.project_id,
          tracker.tracker_name,
          state.cursor_seq,
          state.pending_to!,
          BATCH_LIMIT,
        ));
      const bucket = planned.obs_info.bucket_name;
      const files = buildTraceFiles({
        tracker: planned,
        region: this.deps.region,
        fromSeq: state.cursor_seq,
        toSeq: state.pending_to!,
        time: state.pending_time!,
        traces: rows.map((r) => r.trace),
      });
      await forEachLimited(files, PARALLEL_PUTS, (file) =>
        objects.putObject({
          bucket,
          key: file.key,
          body: file.body,
          contentType: file.contentType,
          ...(file.contentEncoding ? { contentEncoding: file.contentEncoding } : {}),
        }),
      );
      const deliveredAt = this.now();
      state = { ...state, cursor_seq: state.pending_to!, pending_to: null, pending_time: null, pending_layout: null };
      await store.completeDelivery(
        state,
        files.map((f) => ({
          tracker_id: tracker.id,
          bucket,
          object_key: f.key,
          sha256: f.sha256,
          size: f.body.length,
          trace_count: f.traceCount,
          oldest_time: f.oldestTime,
          newest_time: f.newestTime,
          delivered_at: deliveredAt,
        })),
        lease,
      );
      if (rows.length < BATCH_LIMIT) return state;
    }
  }

  /**
   * Writes the digest of the period that ended, if one did: a digest lists the files delivered in
   * its period, also when there were none, and links to the previous digest.
   */
  private async digest(tracker: Tracker, initial: DeliveryState, lease: Lease): Promise<void> {
    const { store, objects, keys, digestIntervalMs } = this.deps;
    const now = this.now();
    const boundary = Math.floor(now / digestIntervalMs) * digestIntervalMs;
    if (initial.digest_start === null) {
      await store.putDeliveryState({ ...initial, digest_start: boundary }, lease);
      return;
    }
    // A period missed while the service was down is covered by one digest: the chain has no gap.
    const end = boundary;
    if (end <= initial.digest_start) return;
    const files = await store.undigestedFiles(tracker.id, end);
    const previous = initial.last_digest === null ? undefined : (JSON.parse(initial.last_digest) as PreviousDigest);
    const key = await keys.current();
    const bucket = tracker.obs_info.bucket_name;
    const digest = buildDigest({
      tracker,
      region: this.deps.region,
      bucket,
      startMs: initial.digest_start,
      endMs: end,
      fingerprint: key.fingerprint,
      previous,
      files: files.map((f) => ({
        bucket: f.bucket,
        object: f.object_key,
        log_hash_value: f.sha256,
        log_hash_algorithm: 'SHA-256',
        oldest_event_time: f.oldest_time,
        newest_event_time: f.newest_time,
      })),
    });
    const body = encodeDigest(digest);
    const signature = signHex(key.privateKeyPem, signingString(digest, body));
    // Renewed right before the digest object is written: the object store cannot be fenced, so
    // the window in which a paused instance could still write a digest is kept this short.
    const renewed = await this.lease(lease.name);
    if (!renewed || renewed.generation !== lease.generation) {
      throw new LeaseLostError(`lease ${lease.name} was taken over before the digest was written`);
    }
    await objects.putObject({
      bucket,
      key: digest.digest_object,
      body,
      contentType: 'application/json',
      contentEncoding: 'gzip',
      metadata: { [SIGNATURE_METADATA]: signature, [SIGNATURE_ALGORITHM_METADATA]: DIGEST_SIGNATURE_ALGORITHM },
    });
    const head: PreviousDigest = {
      bucket,
      object: digest.digest_object,
      sha256: sha256Hex(body),
      signature,
      end: false,
    };
    await store.completeDigest(
      { ...initial, digest_start: end, last_digest: JSON.stringify(head) },
      digest.digest_object,
      files.map((f) => f.object_key),
      renewed,
    );
  }

  /** Stores without lifecycle rules of their own (the fs store) are purged here, hourly per bucket. */
  private async applyLifecycle(tracker: Tracker): Promise<void> {
    if (tracker.obs_info.bucket_lifecycle <= 0) return;
    const bucket = tracker.obs_info.bucket_name;
    const now = this.now();
    if (now - (this.lifecycleRuns.get(bucket) ?? 0) < LIFECYCLE_EVERY_MS) return;
    this.lifecycleRuns.set(bucket, now);
    const removed = await this.deps.objects.applyLifecycle(bucket, now);
    if (removed > 0) this.deps.logger.info({ bucket, removed }, 'bucket lifecycle removed expired objects');
  }

  /** Status follows what the object store answered (spec §1.3), recorded as a SystemAction trace. */
  private async setStatus(
    tracker: Tracker,
    status: 'enabled' | 'error',
    detail: StatusDetail | undefined,
    reason: string,
  ): Promise<void> {
    const time = this.now();
    await this.deps.store.changeTrackers(tracker.project_id, (latest) => {
      const current = latest.find((t) => t.id === tracker.id);
      // Only a status the worker set is changed back; a user's disable wins.
      if (!current || current.status === 'disabled') return { result: undefined };
      const next: Tracker = { ...current, status };
      if (detail) next.detail = detail;
      else delete next.detail;
      const after = latest.map((t) => (t.id === tracker.id ? next : t));
      const traces = systemTrackerRecording(after)
        ? [trackerStatusTrace(current, next, { traceId: uuidv7(time), time }, reason)]
        : [];
      return { upsert: [next], traces, result: undefined };
    });
    this.deps.logger.warn({ tracker: tracker.id, status, detail, reason }, 'tracker status changed');
  }
}
