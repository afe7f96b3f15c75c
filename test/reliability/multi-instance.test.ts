/**
 * Scale-out under SIGKILL (issue 8): three `opencts serve` processes share ONE throwaway PostgreSQL
 * database (created and dropped here) and one s3rver bucket, and the same OPENCTS_MASTER_KEY (each
 * has its own data dir, as separate machines would). Ingest loops (signed POST /traces, `service`
 * key) and a tracker-write loop (signed PUT /tracker toggling a data tracker, `admin` key) spread
 * their calls over all three; meanwhile one instance at a time is SIGKILLed at a seeded random
 * moment and restarted. Every other kill picks the live holder of the system tracker's delivery
 * lease (read from the `leases` table) as soon as it has planned a batch, so kills land between
 * the objects of a batch and the batch is finished by another instance once the lease expires
 * (2 flush intervals + 30 s: the run waits it out, in the catch-up at the latest). After
 * the load stops, all three run until everything recorded is delivered and at least MIN_DIGESTS
 * digests exist, then stop with SIGTERM. Then, read from the database and the bucket (via S3):
 *  - every acknowledged change has exactly one trace: each trace id an ingest call answered with
 *    (201) once, each acknowledged tracker update (200) one updateTracker trace with its request
 *    id; no request id twice; a call without an answer (in flight at a kill) committed whole or not
 *    at all;
 *  - every trace of the system tracker is in exactly one delivered object, once; every trace in the
 *    objects is one the database holds;
 *  - the digest chain has no fork: exactly one digest per period, each starting where the previous
 *    ended and naming it; `opencts verify --source s3://… --tracker system` passes;
 *  - every trace matching a customized notification reached a local webhook at least once (the
 *    notifier is not lease-coordinated: each instance may send it, duplicates are counted). This
 *    part needs the notification methods of the PostgreSQL store and is skipped while they are
 *    missing.
 *
 * Set OPENCTS_MULTI_SEED to replay the random choices (kill gaps, victims). Where kills land still
 * depends on timing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { ObjectStore } from '../../src/delivery/object-store.js';
import type { Store } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { listDigests, type StoredDigest } from '../support/delivery-harness.js';
import {
  createKey,
  errorLines,
  killAllAndWait,
  seededRandom,
  serve,
  stopWith,
  type Served,
} from '../support/kill-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { makeTempDir } from '../support/service.js';
import { signedFetch, type SigningKey } from '../support/signed-fetch.js';
import { parseTraceFile, TRACE_FILE_KEY } from '../support/trace-bucket.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const IDS = { projectId: '5e1f0c0ffee0000000000000000de120', domainId: 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d3' };
const BUCKET = 'multi-trail';
const DATA_TRACKER = 'toggle';
const TOPIC = `urn:smn:local-1:${IDS.projectId}:multi_topic`;
const MATCHING = 'rebootServer';
/**
 * Services of the ingested traces: with is_sort_by_service a batch is one object per service,
 * written 8 at a time, so a kill can land between the objects of one batch.
 */
const SERVICES = ['ECS', 'EVS', 'VPC', 'IAM', 'OBS', 'RDS', 'DNS', 'ELB', 'KMS', 'SMN', 'CCE', 'DCS'];
/**
 * One trace in MATCH_EVERY matches the notification: each instance may send each of them (the
 * notifier is not lease-coordinated), so the webhook gets up to three times as many.
 */
const MATCH_EVERY = 5;
const OTHER = 'listServers';

const INSTANCES = 3;
/** Load and kills run at least RUN_MS and until MIN_KILLS kills, at most MAX_KILLS. */
const RUN_MS = 75_000;
const MIN_KILLS = 10;
/**
 * Kills of the live holder of the system tracker's delivery lease. Its successor takes over only
 * when the lease expires (2 flush intervals + 30 s), so few fit in a run.
 */
const MIN_HOLDER_KILLS = 2;
const MAX_KILLS = 16;
/** Time between a restarted instance listening and the next kill (of any instance). */
const KILL_GAP_MIN_MS = 2_000;
const KILL_GAP_MAX_MS = 8_000;
const PENDING_POLL_MS = 20;
/** Ingest loops, traces per call, pause between a loop's calls (leave the 2 CPUs time to deliver). */
const INGEST_LOOPS = 3;
const BATCH = 10;
const INGEST_PAUSE_MS = 100;
const TRACKER_PAUSE_MS = 150;
const FLUSH_INTERVAL = '1s';
/** The shortest digest period the configuration allows. */
const DIGEST_INTERVAL = '60s';
/** A chain with a link to check. */
const MIN_DIGESTS = 2;
/**
 * The final catch-up waits out the lease of a killed holder (2 flush intervals + 30 s) and the end
 * of a digest period (60 s).
 */
const CATCH_UP_TIMEOUT_MS = 120_000;
const MIN_ACKED_INGEST_CALLS = 100;
const MIN_ACKED_TRACKER_WRITES = 50;

/** Notification store methods the notifier and `opencts topics` need (PostgreSQL: issue 8, wt-pg2). */
const NOTIFICATION_METHODS = [
  'listTopics',
  'getTopicSecret',
  'listEnabledNotifications',
  'advanceNotificationCursor',
  'onTracesCommitted',
] as const;
const missingNotificationMethods = NOTIFICATION_METHODS.filter(
  (m) => typeof (PostgresStore.prototype as unknown as Partial<Store>)[m] !== 'function',
);
const notificationsOnPostgres = missingNotificationMethods.length === 0;

interface Call {
  readonly kind: 'ingest' | 'tracker';
  readonly id: string;
  readonly instance: number;
  /** acked: 201 (ingest) / 200 (tracker); failed: any other answer; unanswered: no answer (a kill). */
  state: 'pending' | 'acked' | 'failed' | 'unanswered';
  status?: number;
  /** Ingest: the trace ids answered; tracker: the X-Request-Id answered. */
  traceIds?: string[];
  requestId?: string;
  error?: string;
}

interface Kill {
  readonly instance: number;
  readonly atMs: number;
  readonly holder: boolean;
  readonly pendingBatch: boolean;
  /** Objects of the interrupted batch already written (its retry must rewrite them, not add). */
  readonly unlogged: number;
  readonly inFlight: number;
  readonly restartMs: number;
}

interface DbTrace {
  readonly trace_id: string;
  readonly tracker_name: string;
  readonly trace_name: string;
  readonly request_id: string | null;
}

interface Outcome {
  readonly seed: number;
  readonly calls: Call[];
  readonly kills: Kill[];
  readonly traces: DbTrace[];
  /** Trace file key → trace ids in it. */
  readonly files: Map<string, string[]>;
  readonly otherKeys: string[];
  readonly digests: StoredDigest[];
  readonly verify: { code: number; stdout: string; stderr: string };
  readonly notified: string[];
  readonly errorLines: string[];
  readonly caughtUp: boolean;
  readonly catchUpMs: number;
  readonly elapsedMs: number;
}

function ingestBody(call: string) {
  return {
    traces: Array.from({ length: BATCH }, (_, i) => ({
      time: Date.now(),
      user: { name: 'alice', id: 'u-alice', domain: { id: IDS.domainId, name: 'acme' } },
      service_type: i % MATCH_EVERY === 0 ? 'ECS' : SERVICES[i % SERVICES.length]!,
      resource_type: 'ecs',
      resource_id: `${call}-${i}`,
      trace_name: i % MATCH_EVERY === 0 ? MATCHING : OTHER,
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      request_id: `${call}-t${i}`,
      code: 200,
    })),
  };
}

async function readTraces(db: pg.Client): Promise<DbTrace[]> {
  const res = await db.query<DbTrace>(
    `SELECT trace_id, tracker_name, trace_name, (wire::json)->>'request_id' AS request_id
       FROM traces WHERE project_id = $1`,
    [IDS.projectId],
  );
  return res.rows;
}

/** Trace files of the bucket, read once each (a retry rewrites an object with the same bytes). */
class BucketReader {
  readonly files = new Map<string, string[]>();
  otherKeys: string[] = [];
  constructor(
    readonly s3: ReturnType<RunningS3rver['makeStore']>,
    private readonly bucket: string,
  ) {}

  async refresh(): Promise<void> {
    const listed = await this.s3.listObjects(this.bucket, '');
    this.otherKeys = [];
    for (const { key } of listed) {
      if (key.includes('/Digest/')) continue;
      if (!TRACE_FILE_KEY.test(key)) {
        this.otherKeys.push(key);
        continue;
      }
      if (this.files.has(key)) continue;
      const object = await this.s3.getObject(this.bucket, key);
      this.files.set(
        key,
        parseTraceFile(key, object.body).map((t) => t.trace_id),
      );
    }
  }

  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const ids of this.files.values()) for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }
}

/** The pid of the live holder of the system tracker's delivery lease, if any. */
async function deliveryLeaseHolderPid(db: pg.Client): Promise<number | undefined> {
  const res = await db.query<{ holder: string }>(
    `SELECT holder FROM leases
      WHERE name LIKE 'delivery:%' AND expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`,
  );
  const pid = res.rows[0]?.holder.split(':').at(-2);
  return pid === undefined ? undefined : Number(pid);
}

async function pendingBatch(db: pg.Client): Promise<boolean> {
  const res = await db.query<{ n: string }>(`SELECT count(*) AS n FROM delivery_state WHERE pending_to IS NOT NULL`);
  return Number(res.rows[0]!.n) > 0;
}

/** Trace files in the bucket the store has not logged as delivered: written by a batch not completed. */
async function unloggedObjects(db: pg.Client, s3: ObjectStore): Promise<number> {
  const logged = new Set(
    (await db.query<{ object_key: string }>('SELECT object_key FROM delivered_files')).rows.map((r) => r.object_key),
  );
  const keys = (await s3.listObjects(BUCKET, 'CloudTraces/')).map((o) => o.key).filter((k) => TRACE_FILE_KEY.test(k));
  return keys.filter((k) => !logged.has(k)).length;
}

let scenario: Promise<Outcome> | undefined;

async function runScenario(t: TestContext): Promise<Outcome> {
  const seed = Number(process.env['OPENCTS_MULTI_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
  t.diagnostic(`seed ${seed} (OPENCTS_MULTI_SEED to replay)`);
  const random = seededRandom(seed);
  const began = Date.now();
  const env: NodeJS.ProcessEnv = {
    OPENCTS_MASTER_KEY: randomBytes(32).toString('base64'),
    OPENCTS_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    OPENCTS_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  };
  let database: TestDatabase | undefined;
  let s3rver: RunningS3rver | undefined;
  let hook: WebhookReceiver | undefined;
  let db: pg.Client | undefined;
  const dataDirs: string[] = [];
  try {
    database = await createTestDatabase();
    s3rver = await startS3rver();
    hook = await startWebhookReceiver('/hook');
    db = new pg.Client({ connectionString: database.url });
    for (let i = 0; i < INSTANCES; i++) dataDirs.push(await makeTempDir(`opencts-multi-${i}-`));
    const storeArgs = ['--store', database.url];
    const serveArgs = [
      ...storeArgs,
      '--object-store',
      's3://',
      '--s3-endpoint',
      s3rver.endpoint,
      '--flush-interval',
      FLUSH_INTERVAL,
      '--digest-interval',
      DIGEST_INTERVAL,
    ];
    // Schema and keys before any instance starts (several first starts at once would each make a
    // bootstrap key: README "Running on PostgreSQL").
    const migrated = await runCli(['migrate', ...storeArgs, '--data-dir', dataDirs[0]!], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    await db.connect();
    const admin = await createKey(dataDirs[0]!, IDS, 'kim', 'admin', { args: storeArgs, env });
    const reporter = await createKey(dataDirs[0]!, IDS, 'ecs-service', 'service', { args: storeArgs, env });

    // The first instance alone makes the signing key pair; the others start once it listens.
    const instances: Array<Served | undefined> = [await serve(dataDirs[0]!, serveArgs, env)];
    const first = instances[0]!;
    const system = await signedFetch(first.url, admin, {
      path: `/v3/${IDS.projectId}/tracker`,
      body: {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: BUCKET, is_obs_created: true },
        is_support_validate: true,
      },
    });
    assert.equal(system.status, 201, system.text);
    const data = await signedFetch(first.url, admin, {
      path: `/v3/${IDS.projectId}/tracker`,
      body: {
        tracker_type: 'data',
        tracker_name: DATA_TRACKER,
        data_bucket: { data_bucket_name: BUCKET, data_event: ['READ', 'WRITE'] },
      },
    });
    assert.equal(data.status, 201, data.text);
    if (notificationsOnPostgres) {
      const topic = await runCli(
        [
          'topics',
          'create',
          ...storeArgs,
          '--data-dir',
          dataDirs[0]!,
          '--project-id',
          IDS.projectId,
          '--urn',
          TOPIC,
          '--url',
          hook.url,
          '--json',
        ],
        env,
      );
      assert.equal(topic.code, 0, topic.stderr);
      const n = await signedFetch(first.url, admin, {
        path: `/v3/${IDS.projectId}/notifications`,
        body: {
          notification_name: 'reboots',
          operation_type: 'customized',
          operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: [MATCHING] }],
          topic_id: TOPIC,
        },
      });
      assert.equal(n.status, 201, n.text);
    } else {
      t.diagnostic(`notifications not checked: PostgresStore lacks ${missingNotificationMethods.join(', ')}`);
    }
    instances.push(...(await Promise.all(dataDirs.slice(1).map((dir) => serve(dir, serveArgs, env)))));
    const outputs: Array<() => string> = instances.map((s) => s!.output);
    const bucketStore = s3rver.makeStore();

    const calls: Call[] = [];
    const kills: Kill[] = [];
    let loadStopped = false;
    /** The next live instance from `preferred` on (one at most is down at a time). */
    const pick = (preferred: number): number => {
      for (let k = 0; k < INSTANCES; k++) {
        const i = (preferred + k) % INSTANCES;
        if (instances[i]) return i;
      }
      return preferred;
    };
    const send = async (call: Call, request: Parameters<typeof signedFetch>[2], key: SigningKey, ok: number) => {
      calls.push(call);
      const served = instances[call.instance];
      if (!served) {
        call.state = 'unanswered';
        call.error = 'instance down';
        return;
      }
      try {
        const res = await signedFetch(served.url, key, request);
        call.status = res.status;
        call.requestId = res.headers.get('x-request-id') ?? undefined;
        if (res.status === ok) {
          call.state = 'acked';
          if (call.kind === 'ingest') call.traceIds = (res.json as { trace_ids: string[] }).trace_ids;
        } else {
          call.state = 'failed';
          call.error = res.text;
        }
      } catch (err) {
        call.state = 'unanswered';
        call.error = (err as Error).message;
      }
    };
    const ingestLoop = async (loop: number) => {
      for (let n = 0; !loadStopped; n++) {
        const id = `l${loop}-c${n}`;
        const call: Call = { kind: 'ingest', id, instance: pick((loop + n) % INSTANCES), state: 'pending' };
        await send(call, { path: `/v3/${IDS.projectId}/traces`, body: ingestBody(id) }, reporter, 201);
        await sleep(call.state === 'acked' ? INGEST_PAUSE_MS : 200);
      }
    };
    const trackerLoop = async () => {
      for (let n = 0; !loadStopped; n++) {
        const call: Call = { kind: 'tracker', id: `u${n}`, instance: pick(n % INSTANCES), state: 'pending' };
        await send(
          call,
          {
            method: 'PUT',
            path: `/v3/${IDS.projectId}/tracker`,
            body: { tracker_type: 'data', tracker_name: DATA_TRACKER, status: n % 2 === 0 ? 'disabled' : 'enabled' },
          },
          admin,
          200,
        );
        await sleep(call.state === 'acked' ? TRACKER_PAUSE_MS : 200);
      }
    };
    const load = [...Array.from({ length: INGEST_LOOPS }, (_, i) => ingestLoop(i)), trackerLoop()];

    const loadBegan = Date.now();
    const holderKills = () => kills.filter((k) => k.holder).length;
    while (
      kills.length < MAX_KILLS &&
      (kills.length < MIN_KILLS || holderKills() < MIN_HOLDER_KILLS || Date.now() - loadBegan < RUN_MS)
    ) {
      await sleep(KILL_GAP_MIN_MS + Math.floor(random() * (KILL_GAP_MAX_MS - KILL_GAP_MIN_MS)));
      const holderPid = await deliveryLeaseHolderPid(db);
      const holderIndex = instances.findIndex((s) => s !== undefined && s.child.pid === holderPid);
      const chooseHolder = kills.length % 2 === 1 && holderIndex >= 0;
      if (chooseHolder) {
        // The holder dies as soon as a batch is planned (its objects take a few rounds of writes:
        // the kill often lands between them), if one is planned soon.
        for (const until = Date.now() + KILL_GAP_MAX_MS; Date.now() < until && !(await pendingBatch(db));) {
          await sleep(PENDING_POLL_MS);
        }
      }
      const victim = chooseHolder && holderIndex >= 0 ? holderIndex : Math.floor(random() * INSTANCES);
      const served = instances[victim]!;
      const inFlight = calls.filter((c) => c.instance === victim && c.state === 'pending').length;
      instances[victim] = undefined;
      await stopWith(served, 'SIGKILL', 'SIGKILL');
      const atMs = Date.now() - began;
      // What the holder left (another instance's stale batch is counted at its holder's kill).
      const pending = victim === holderIndex && (await pendingBatch(db));
      const unlogged = pending ? await unloggedObjects(db, bucketStore) : 0;
      const restarting = Date.now();
      const restarted = await serve(dataDirs[victim]!, serveArgs, env);
      instances[victim] = restarted;
      outputs.push(restarted.output);
      kills.push({
        instance: victim,
        atMs,
        holder: victim === holderIndex,
        pendingBatch: pending,
        unlogged,
        inFlight,
        restartMs: Date.now() - restarting,
      });
    }
    loadStopped = true;
    await Promise.all(load);

    // Catch-up: all three run until everything recorded is delivered (and notified) and the chain
    // has MIN_DIGESTS digests.
    const catchUpBegan = Date.now();
    const reader = new BucketReader(bucketStore, BUCKET);
    let traces: DbTrace[] = [];
    let digests: StoredDigest[] = [];
    let caughtUp = false;
    while (Date.now() - catchUpBegan < CATCH_UP_TIMEOUT_MS) {
      traces = await readTraces(db);
      await reader.refresh();
      digests = await listDigests(reader.s3, BUCKET);
      const delivered = reader.counts();
      const notified = new Set(
        hook.messages.map((m) => (JSON.parse(m.body) as { trace: { trace_id: string } }).trace.trace_id),
      );
      const undelivered = traces.filter((tr) => tr.tracker_name === 'system' && !delivered.has(tr.trace_id));
      const unnotified = notificationsOnPostgres
        ? traces.filter((tr) => tr.trace_name === MATCHING && !notified.has(tr.trace_id))
        : [];
      if (undelivered.length === 0 && unnotified.length === 0 && digests.length >= MIN_DIGESTS) {
        caughtUp = true;
        break;
      }
      await sleep(1000);
    }
    const catchUpMs = Date.now() - catchUpBegan;
    for (let i = 0; i < INSTANCES; i++) {
      const served = instances[i]!;
      instances[i] = undefined;
      await stopWith(served, 'SIGTERM', 0);
    }
    // After the stops: nothing may change any more; read the final state.
    traces = await readTraces(db);
    await reader.refresh();
    digests = await listDigests(reader.s3, BUCKET);
    const verify = await runCli(
      [
        'verify',
        '--source',
        `s3://${BUCKET}`,
        '--tracker',
        'system',
        '--s3-endpoint',
        s3rver.endpoint,
        ...storeArgs,
        '--data-dir',
        dataDirs[0]!,
        '--json',
      ],
      env,
    );
    return {
      seed,
      calls,
      kills,
      traces,
      files: reader.files,
      otherKeys: reader.otherKeys,
      digests,
      verify,
      notified: hook.messages.map((m) => (JSON.parse(m.body) as { trace: { trace_id: string } }).trace.trace_id),
      errorLines: outputs.flatMap((o) => errorLines(o())),
      caughtUp,
      catchUpMs,
      elapsedMs: Date.now() - began,
    };
  } finally {
    await killAllAndWait();
    await db?.end().catch(() => undefined);
    await hook?.close();
    await s3rver?.stop();
    await database?.drop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }
}

function summary(o: Outcome): string[] {
  const acked = o.calls.filter((c) => c.state === 'acked');
  const perInstance = Array.from({ length: INSTANCES }, (_, i) => acked.filter((c) => c.instance === i).length);
  return [
    `${o.kills.length} kills (${o.kills.filter((k) => k.holder).length} of the delivery lease holder, ` +
      `${o.kills.filter((k) => k.pendingBatch).length} of them with a batch planned and not completed, ` +
      `${o.kills.filter((k) => k.unlogged > 0).length} between the objects of a batch; ` +
      `${o.kills.filter((k) => k.inFlight > 0).length} with calls in flight); restarts took ` +
      `${o.kills.map((k) => k.restartMs).join('/')} ms`,
    `${acked.filter((c) => c.kind === 'ingest').length} acknowledged ingest calls ` +
      `(${acked.filter((c) => c.kind === 'ingest').length * BATCH} traces), ` +
      `${acked.filter((c) => c.kind === 'tracker').length} acknowledged tracker writes; per instance ${perInstance.join('/')}; ` +
      `${o.calls.filter((c) => c.state === 'unanswered').length} unanswered`,
    `${o.traces.length} traces in the database (${o.traces.filter((t) => t.tracker_name === 'system').length} system), ` +
      `${o.files.size} trace objects, ${o.digests.length} digests; notifications sent ${o.notified.length} ` +
      `(${new Set(o.notified).size} distinct)`,
    `catch-up ${o.caughtUp ? 'done' : 'TIMED OUT'} in ${o.catchUpMs} ms; whole run ${o.elapsedMs} ms; ` +
      `${o.errorLines.length} error log lines`,
  ];
}

test(
  '3 instances on one PostgreSQL and one S3 under repeated SIGKILL: every acknowledged change has one trace, every trace is in one object, the digest chain verifies without a fork',
  { timeout: 420_000 },
  async (t) => {
    scenario ??= runScenario(t);
    const o = await scenario;
    for (const line of summary(o)) t.diagnostic(line);
    for (const line of o.errorLines.slice(0, 10)) t.diagnostic(`server error: ${line.slice(0, 400)}`);

    assert.ok(o.kills.length >= MIN_KILLS, `only ${o.kills.length} kills`);
    const holderKills = o.kills.filter((k) => k.holder).length;
    assert.ok(holderKills >= MIN_HOLDER_KILLS, `only ${holderKills} kills of the delivery lease holder`);
    const failed = o.calls.filter((c) => c.state === 'failed');
    assert.deepEqual(
      failed.map((c) => `${c.kind} ${c.id} on ${c.instance}: ${c.status} ${c.error}`),
      [],
      'no call was refused',
    );
    const acked = o.calls.filter((c) => c.state === 'acked');
    assert.ok(
      acked.filter((c) => c.kind === 'ingest').length >= MIN_ACKED_INGEST_CALLS,
      'enough ingest calls acknowledged',
    );
    assert.ok(
      acked.filter((c) => c.kind === 'tracker').length >= MIN_ACKED_TRACKER_WRITES,
      'enough tracker writes acknowledged',
    );
    for (let i = 0; i < INSTANCES; i++)
      assert.ok(
        acked.some((c) => c.instance === i),
        `instance ${i} acknowledged calls`,
      );

    // 1. Every acknowledged change has exactly one trace; nothing was recorded twice.
    const byId = new Map<string, number>();
    const byRequest = new Map<string, DbTrace[]>();
    for (const tr of o.traces) {
      byId.set(tr.trace_id, (byId.get(tr.trace_id) ?? 0) + 1);
      if (tr.request_id) byRequest.set(tr.request_id, [...(byRequest.get(tr.request_id) ?? []), tr]);
    }
    assert.deepEqual(
      [...byId].filter(([, n]) => n > 1),
      [],
      'no trace id twice in the database',
    );
    assert.deepEqual(
      [...byRequest].filter(([, rows]) => rows.length > 1).map(([r]) => r),
      [],
      'no request id recorded twice',
    );
    for (const call of acked) {
      if (call.kind === 'ingest') {
        assert.equal(call.traceIds?.length, BATCH, `${call.id}: one trace id per trace`);
        for (const [i, id] of call.traceIds!.entries()) {
          assert.equal(byId.get(id), 1, `${call.id}: acknowledged trace ${id} is in the database once`);
          assert.equal(byRequest.get(`${call.id}-t${i}`)?.[0]?.trace_id, id, `${call.id}-t${i} has the answered id`);
        }
      } else {
        const rows = byRequest.get(call.requestId ?? '') ?? [];
        assert.deepEqual(
          rows.map((r) => r.trace_name),
          ['updateTracker'],
          `acknowledged tracker write ${call.id} (request ${call.requestId}) has one updateTracker trace`,
        );
      }
    }
    for (const call of o.calls.filter((c) => c.kind === 'ingest' && c.state === 'unanswered')) {
      const n = Array.from({ length: BATCH }, (_, i) => byRequest.has(`${call.id}-t${i}`)).filter(Boolean).length;
      assert.ok(n === 0 || n === BATCH, `unanswered ${call.id} committed whole or not at all (${n} of ${BATCH})`);
    }

    // 2. Every trace of the system tracker is in exactly one delivered object, once.
    assert.ok(o.caughtUp, `the catch-up finished within ${CATCH_UP_TIMEOUT_MS} ms`);
    assert.deepEqual(o.otherKeys, [], 'the bucket holds trace files and digests only');
    const delivered = new Map<string, number>();
    for (const [key, ids] of o.files) {
      assert.ok(ids.length > 0, `${key} is not empty`);
      for (const id of ids) delivered.set(id, (delivered.get(id) ?? 0) + 1);
    }
    const system = o.traces.filter((tr) => tr.tracker_name === 'system');
    const systemIds = new Set(system.map((tr) => tr.trace_id));
    assert.deepEqual(
      system
        .filter((tr) => delivered.get(tr.trace_id) !== 1)
        .map((tr) => `${tr.trace_id} ×${delivered.get(tr.trace_id) ?? 0}`),
      [],
      'DOUBLE OR LOST DELIVERY: every system trace is in exactly one delivered object, once',
    );
    assert.deepEqual(
      [...delivered.keys()].filter((id) => !systemIds.has(id)),
      [],
      'every delivered trace is a system trace of the database',
    );

    // 3. The digest chain: one digest per period, each linking the previous; `opencts verify` passes.
    assert.ok(o.digests.length >= MIN_DIGESTS, `${o.digests.length} digests`);
    const chain = [...o.digests].sort((a, b) => a.digest.digest_start_time.localeCompare(b.digest.digest_start_time));
    const starts = new Map<string, string[]>();
    for (const d of chain)
      starts.set(d.digest.digest_start_time, [...(starts.get(d.digest.digest_start_time) ?? []), d.key]);
    assert.deepEqual(
      [...starts.values()].filter((keys) => keys.length > 1),
      [],
      'FORK: two digests for one period',
    );
    assert.equal(chain[0]!.digest.previous_digest_object, '', 'the first digest has no predecessor');
    for (let i = 1; i < chain.length; i++) {
      const [prev, cur] = [chain[i - 1]!, chain[i]!];
      assert.equal(
        cur.digest.digest_start_time,
        prev.digest.digest_end_time,
        `${cur.key} starts where ${prev.key} ended`,
      );
      assert.equal(cur.digest.previous_digest_object, prev.key, `FORK: ${cur.key} links its predecessor`);
    }
    const listedBy = new Map<string, number>();
    for (const d of chain)
      for (const f of d.digest.log_files) listedBy.set(f.object, (listedBy.get(f.object) ?? 0) + 1);
    assert.deepEqual(
      [...listedBy].filter(([, n]) => n > 1),
      [],
      'no trace file is listed by two digests',
    );
    for (const key of listedBy.keys()) assert.ok(o.files.has(key), `${key}, listed by a digest, exists`);
    assert.equal(o.verify.code, 0, `opencts verify passes: ${o.verify.stdout} ${o.verify.stderr}`);
    const report = JSON.parse(o.verify.stdout) as { problems: unknown[]; digests: { valid: number; total: number } };
    assert.deepEqual(report.problems, []);
    assert.equal(report.digests.valid, o.digests.length);
  },
);

test(
  '3 instances under repeated SIGKILL: every trace matching a notification reached the webhook at least once',
  {
    timeout: 420_000,
    skip: notificationsOnPostgres ? false : `PostgresStore lacks ${missingNotificationMethods.join(', ')}`,
  },
  async (t) => {
    scenario ??= runScenario(t);
    const o = await scenario;
    const notified = new Map<string, number>();
    for (const id of o.notified) notified.set(id, (notified.get(id) ?? 0) + 1);
    const matching = o.traces.filter((tr) => tr.trace_name === MATCHING);
    assert.ok(matching.length > 0, 'matching traces were recorded');
    assert.deepEqual(
      matching.filter((tr) => !notified.has(tr.trace_id)).map((tr) => tr.trace_id),
      [],
      'LOST NOTIFICATION: every matching trace was sent',
    );
    const matchingIds = new Set(matching.map((tr) => tr.trace_id));
    assert.deepEqual(
      [...notified.keys()].filter((id) => !matchingIds.has(id)),
      [],
      'only matching traces were sent',
    );
    const repeats = [...notified.values()].filter((n) => n > 1).length;
    t.diagnostic(`${matching.length} matching traces, ${repeats} sent more than once (at-least-once)`);
  },
);
