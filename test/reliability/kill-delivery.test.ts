/**
 * Trace delivery is exactly-once in the files across SIGKILL (src/delivery/delivery-worker.ts):
 * `opencts serve --flush-interval 1s` runs as a real child process on one data dir with a system
 * tracker that ships to the fs bucket `trail`; several loops ingest traces continuously and the
 * process is killed with SIGKILL 0.5–3 s after it listens, again and again, so that kills land
 * before, during and between delivery cycles: at a random moment (even runs), or right after a
 * trace object was written (odd runs), which lands between the objects of one batch. A last start
 * ingests nothing and runs until every recorded trace is in a file, then stops with SIGTERM. The
 * bucket folder is then read as a consumer would (every object gunzipped and parsed), and
 *  - every acknowledged trace id is in exactly one delivered object, once;
 *  - every trace id in the files is a trace the server recorded (ListTraces after the last start):
 *    acknowledged, or of an ingest call in flight at a kill that committed (whole, never in part);
 *  - every recorded trace, the createTracker trace of service CTS included, is in the files once;
 *  - no object is empty or unreadable, every object is a trace file, and every object is one the
 *    store logged as delivered (none orphaned by a batch that a crash interrupted).
 *
 * "A kill during a delivery" is read from the store, not guessed from timing: after each kill the
 * database (file and WAL) is copied and opened; the system tracker's delivery state with a planned
 * batch (`pending_to` set) means the process died after planning the batch and before the cursor
 * moved. Objects in the bucket at that moment that the store has not logged are objects of that
 * batch already written: the next start must rewrite them under the same keys.
 *
 * Not covered: a change of the tracker's file layout (prefix, compression, sort by service) while a
 * batch is pending; the trackers are not changed between starts here.
 *
 * Set OPENCTS_KILL_SEED to replay the random choices (kill delays). Where the kills land still
 * depends on timing.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import {
  createKey as createKeyFor,
  errorLines,
  killAllAndWait,
  listAllSystemTraces,
  seededRandom,
  serve as serveWith,
  stopWith,
  type KillWireTrace as WireTrace,
} from '../support/kill-harness.js';
import { makeTempDir } from '../support/service.js';
import { signedFetch, type SigningKey } from '../support/signed-fetch.js';
import {
  listBucketObjects,
  readTraceFile,
  TRACE_FILE_KEY,
  type BucketObject,
  type FileTrace,
} from '../support/trace-bucket.js';

const PROJECT_ID = '5e1f0c0ffee0000000000000000de11e';
const DOMAIN_ID = 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d1';
const BUCKET = 'trail';
const DATABASE_FILE = 'opencts.db';

/**
 * Starts killed with SIGKILL (the final start comes on top): at least MIN_RUNS, and more, up to
 * MAX_RUNS and only within EXTRA_RUNS_BUDGET_MS of the test's start, while too few kills landed
 * during a delivery or too few traces were acknowledged (a loaded machine: a start alone took 2–7 s
 * on a busy 2-CPU box).
 */
const MIN_RUNS = 10;
const MAX_RUNS = 14;
const EXTRA_RUNS_BUDGET_MS = 100_000;
/**
 * Concurrent ingest loops per start, traces per ingest call (at most 100), and a pause between a
 * loop's calls: the server's event loop must keep time for the delivery worker, whose every file
 * is a chain of awaited fs calls (at full ingest load on a busy 2-CPU machine one file took over a
 * second, and no delivery finished within a start).
 */
const LOOPS = 3;
const BATCH = 50;
const PAUSE_MS = 20;
/**
 * Services the traces are reported by: with is_sort_by_service (the default) a batch is one object
 * per service. The worker writes up to 8 objects at once, so 40 services make a batch take several
 * rounds of writes: the window between a batch's first object and its cursor move stays long
 * enough to be hit on a quiet machine too.
 */
const SERVICES = Array.from({ length: 40 }, (_, i) => `SVC${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26)}`);
/**
 * The kill comes this long after the start printed where it listens (flushes run every second):
 * at a random moment in the window (even runs), or (odd runs) as soon as in the window a trace
 * object is written (a new key or a rewritten one), at the window's end at the latest. Random
 * moments seldom fall between the objects of one batch, the one place where a retry could add a
 * second copy; a kill right after an object appeared lands there whenever the batch has more
 * objects to write (it has one per service).
 */
const KILL_DELAY_MIN_MS = 500;
const KILL_DELAY_MAX_MS = 3000;
const OBJECT_POLL_MS = 20;
/** How long the last start may take to deliver everything recorded. */
const CATCH_UP_TIMEOUT_MS = 30_000;

const MIN_ACKNOWLEDGED_TRACES = 1000;
const MIN_KILLS_DURING_DELIVERY = 3;
/** Kills after at least one object of the pending batch was written (and before its cursor moved). */
const MIN_KILLS_MID_BATCH = 1;

interface Call {
  readonly run: number;
  /** `r<run>-l<loop>-c<n>`: each trace of the call carries request_id `<call>-t<i>`. */
  readonly id: string;
  /** acked: 201 with a trace id for every trace; failed: any other answer; in-flight: no answer. */
  state: 'pending' | 'acked' | 'failed' | 'in-flight';
  traceIds?: Array<string | null>;
  status?: number;
  error?: string;
}

const serve = (dataDir: string) => serveWith(dataDir, ['--flush-interval', '1s']);
const createKey = (dataDir: string, user: string, role: 'admin' | 'service'): Promise<SigningKey> =>
  createKeyFor(dataDir, { projectId: PROJECT_ID, domainId: DOMAIN_ID }, user, role);

/** What the store said right after a kill. */
interface KillSnapshot {
  readonly cursor: number | null;
  readonly pendingTo: number | null;
  readonly maxSeq: number;
  readonly loggedFiles: number;
  readonly bucketObjects: number;
  /** Objects in the bucket the store has not logged: written by the batch the kill interrupted. */
  readonly unlogged: string[];
}

interface RunReport {
  readonly run: number;
  /** From spawn to "listening on". */
  readonly startMs: number;
  readonly killAfterMs: number;
  /** random: at a random moment; on-object: right after an object was written; deadline: none was. */
  readonly killedAt: 'random' | 'on-object' | 'deadline';
  readonly ackedTraces: number;
  readonly inFlightCalls: number;
  readonly filesLoggedThisRun: number;
  readonly snapshot: KillSnapshot;
}

/**
 * What the store holds right after a kill, read from a copy of the database (file and WAL) so the
 * data dir the next start opens is not touched; opening the copy replays its WAL.
 */
async function snapshotAfterKill(dataDir: string, scratch: string, bucketDir: string): Promise<KillSnapshot> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const copy = path.join(scratch, DATABASE_FILE);
  await copyFile(path.join(dataDir, DATABASE_FILE), copy);
  const wal = path.join(dataDir, `${DATABASE_FILE}-wal`);
  if (existsSync(wal)) await copyFile(wal, `${copy}-wal`);
  const objects = await listBucketObjects(bucketDir);
  const db = new Database(copy, { fileMustExist: true });
  try {
    const states = db.prepare('SELECT cursor_seq, pending_to FROM delivery_state').all() as Array<{
      cursor_seq: number;
      pending_to: number | null;
    }>;
    assert.ok(states.length <= 1, 'one tracker, at most one delivery state');
    const logged = new Set(
      (db.prepare('SELECT object_key FROM delivered_files').all() as Array<{ object_key: string }>).map(
        (r) => r.object_key,
      ),
    );
    const maxSeq = (db.prepare('SELECT max(seq) AS seq FROM traces').get() as { seq: number | null }).seq ?? 0;
    return {
      cursor: states[0]?.cursor_seq ?? null,
      pendingTo: states[0]?.pending_to ?? null,
      maxSeq,
      loggedFiles: logged.size,
      bucketObjects: objects.length,
      unlogged: objects.map((o) => o.key).filter((k) => !logged.has(k)),
    };
  } finally {
    db.close();
  }
}

/** Reads trace files, each once: an object is immutable once stored (a retry writes the same bytes). */
class BucketReader {
  private readonly cache = new Map<string, { size: number; mtimeMs: number; traces: FileTrace[] }>();

  constructor(private readonly bucketDir: string) {}

  async read(): Promise<Array<{ object: BucketObject; traces: FileTrace[] }>> {
    const out: Array<{ object: BucketObject; traces: FileTrace[] }> = [];
    for (const object of await listBucketObjects(this.bucketDir)) {
      const cached = this.cache.get(object.key);
      if (cached && cached.size === object.size && cached.mtimeMs === object.mtimeMs) {
        out.push({ object, traces: cached.traces });
        continue;
      }
      const traces = await readTraceFile(object);
      this.cache.set(object.key, { size: object.size, mtimeMs: object.mtimeMs, traces });
      out.push({ object, traces });
    }
    return out;
  }
}

function countIds(files: ReadonlyArray<{ traces: readonly FileTrace[] }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { traces } of files) for (const t of traces) counts.set(t.trace_id, (counts.get(t.trace_id) ?? 0) + 1);
  return counts;
}

/** Polls the bucket until an object is new or rewritten (its mtime changed), or the deadline passes. */
async function objectWritten(bucketDir: string, before: ReadonlyMap<string, number>, until: number): Promise<boolean> {
  while (Date.now() < until) {
    for (const object of await listBucketObjects(bucketDir)) {
      if (before.get(object.key) !== object.mtimeMs) return true;
    }
    await sleep(OBJECT_POLL_MS);
  }
  return false;
}

function describeRun(r: RunReport): string {
  const s = r.snapshot;
  return (
    `run ${r.run}: started in ${r.startMs} ms, killed ${r.killAfterMs} ms in (${r.killedAt}); ${r.ackedTraces} acked traces, ` +
    `${r.inFlightCalls} calls in flight; ${r.filesLoggedThisRun} files logged this run; ` +
    `cursor ${s.cursor} of seq ${s.maxSeq}, ` +
    (s.pendingTo === null
      ? 'no batch pending'
      : `batch to ${s.pendingTo} pending, ${s.unlogged.length} of its objects already written`)
  );
}

function ingestBody(call: string): { traces: Array<Record<string, unknown>> } {
  const now = Date.now();
  return {
    traces: Array.from({ length: BATCH }, (_, i) => {
      const service = SERVICES[i % SERVICES.length]!;
      return {
        time: now,
        user: { name: 'alice', id: 'u-alice', domain: { id: DOMAIN_ID, name: 'acme' }, access_key_id: 'AKALICE' },
        service_type: service,
        resource_type: service.toLowerCase(),
        resource_id: `${call}-${i}`,
        resource_name: `res-${i}`,
        trace_name: 'updateResource',
        trace_rating: 'normal',
        trace_type: 'ApiCall',
        source_ip: '10.0.0.1',
        request_id: `${call}-t${i}`,
        request: { call, index: i, note: 'x'.repeat(200) },
        code: 200,
      };
    }),
  };
}

test(
  'trace delivery to the bucket survives repeated SIGKILL: every recorded trace in exactly one object, once',
  { timeout: 180_000 },
  async (t) => {
    const seed = Number(process.env['OPENCTS_KILL_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
    t.diagnostic(`seed ${seed} (OPENCTS_KILL_SEED to replay)`);
    const killDelay = seededRandom(seed);
    const began = Date.now();
    const dataDir = await makeTempDir('opencts-kill-delivery-');
    const scratch = await makeTempDir('opencts-kill-delivery-db-');
    const bucketDir = path.join(dataDir, 'buckets', BUCKET);
    try {
      const admin = await createKey(dataDir, 'kim', 'admin');
      const reporter = await createKey(dataDir, 'ecs-service', 'service');
      await mkdir(bucketDir, { recursive: true });

      const calls: Call[] = [];
      const reports: RunReport[] = [];
      const serverErrors: string[] = [];
      const acked = () => calls.filter((c) => c.state === 'acked');
      const killsDuringDelivery = () => reports.filter((r) => r.snapshot.pendingTo !== null).length;
      const killsMidBatch = () => reports.filter((r) => r.snapshot.unlogged.length > 0).length;
      let loggedBefore = 0;

      for (let run = 0; run < MAX_RUNS; run++) {
        const enough =
          acked().length * BATCH >= MIN_ACKNOWLEDGED_TRACES &&
          killsDuringDelivery() >= MIN_KILLS_DURING_DELIVERY &&
          killsMidBatch() >= MIN_KILLS_MID_BATCH;
        if (run >= MIN_RUNS && (enough || Date.now() - began > EXTRA_RUNS_BUDGET_MS)) break;
        const objectsBefore = new Map((await listBucketObjects(bucketDir)).map((o) => [o.key, o.mtimeMs]));
        const starting = Date.now();
        const served = await serve(dataDir);
        const listening = Date.now();
        if (run === 0) {
          const res = await signedFetch(served.url, admin, {
            method: 'POST',
            path: `/v3/${PROJECT_ID}/tracker`,
            body: { tracker_type: 'system', tracker_name: 'system', obs_info: { bucket_name: BUCKET } },
          });
          assert.equal(res.status, 201, res.text);
        }

        let killed = false;
        const loop = async (loopIndex: number): Promise<void> => {
          for (let n = 0; !killed; n++) {
            const call: Call = { run, id: `r${run}-l${loopIndex}-c${n}`, state: 'pending' };
            calls.push(call);
            try {
              const res = await signedFetch(served.url, reporter, {
                path: `/v3/${PROJECT_ID}/traces`,
                body: ingestBody(call.id),
              });
              call.status = res.status;
              if (res.status === 201) {
                call.state = 'acked';
                call.traceIds = (res.json as { trace_ids: Array<string | null> }).trace_ids;
                await sleep(PAUSE_MS);
              } else {
                call.state = 'failed';
                call.error = res.text;
                return;
              }
            } catch (err) {
              call.state = 'in-flight';
              call.error = (err as Error).message;
              return;
            }
          }
        };
        const loops = Array.from({ length: LOOPS }, (_, i) => loop(i));
        let killedAt: RunReport['killedAt'];
        if (run % 2 === 0) {
          const delay = KILL_DELAY_MIN_MS + Math.floor(killDelay() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS));
          await sleep(Math.max(0, listening + delay - Date.now()));
          killedAt = 'random';
        } else {
          await sleep(Math.max(0, listening + KILL_DELAY_MIN_MS - Date.now()));
          const written = await objectWritten(bucketDir, objectsBefore, listening + KILL_DELAY_MAX_MS);
          killedAt = written ? 'on-object' : 'deadline';
        }
        killed = true;
        const killAfterMs = Date.now() - listening;
        await stopWith(served, 'SIGKILL', 'SIGKILL');
        await Promise.all(loops);
        serverErrors.push(...errorLines(served.output()).map((line) => `run ${run}: ${line}`));

        const mine = calls.filter((c) => c.run === run);
        assert.deepEqual(
          mine.filter((c) => c.state === 'failed').map((c) => `${c.id}: ${c.status} ${c.error}`),
          [],
          'no ingest was refused',
        );
        assert.ok(
          mine.every((c) => c.state !== 'pending'),
          'every call ended',
        );
        for (const c of mine.filter((c) => c.state === 'acked')) {
          assert.equal(c.traceIds?.length, BATCH, `${c.id}: one id per trace`);
          assert.ok(
            c.traceIds.every((id) => typeof id === 'string'),
            `${c.id}: the system tracker recorded every trace`,
          );
        }
        const snapshot = await snapshotAfterKill(dataDir, scratch, bucketDir);
        const report: RunReport = {
          run,
          startMs: listening - starting,
          killAfterMs,
          killedAt,
          ackedTraces: mine.filter((c) => c.state === 'acked').length * BATCH,
          inFlightCalls: mine.filter((c) => c.state === 'in-flight').length,
          filesLoggedThisRun: snapshot.loggedFiles - loggedBefore,
          snapshot,
        };
        reports.push(report);
        loggedBefore = snapshot.loggedFiles;
        t.diagnostic(describeRun(report));
        // A batch interrupted before its cursor moved is the only source of unlogged objects.
        if (snapshot.pendingTo === null) {
          assert.deepEqual(snapshot.unlogged, [], `run ${run}: no batch pending, so every object is logged`);
        }
      }

      // The last start: no ingest; wait until everything recorded is in a file, then SIGTERM.
      const served = await serve(dataDir);
      const reader = new BucketReader(bucketDir);
      const finalStart = Date.now();
      let recorded: WireTrace[];
      let listedInMs: number;
      let caughtUpAfterMs: number;
      try {
        recorded = await listAllSystemTraces(served.url, admin, began - 1);
        listedInMs = Date.now() - finalStart;
        const caughtUpFrom = Date.now();
        for (;;) {
          const counts = countIds(await reader.read());
          const missing = recorded.filter((tr) => !counts.has(tr.trace_id));
          if (missing.length === 0) break;
          assert.ok(
            Date.now() - caughtUpFrom < CATCH_UP_TIMEOUT_MS,
            `delivery did not catch up: ${missing.length} recorded traces in no file, e.g. ${missing
              .slice(0, 3)
              .map((tr) => tr.trace_id)
              .join(', ')}`,
          );
          await sleep(250);
        }
        caughtUpAfterMs = Date.now() - caughtUpFrom;
      } finally {
        await stopWith(served, 'SIGTERM', 0);
      }
      serverErrors.push(...errorLines(served.output()).map((line) => `final: ${line}`));

      // Read the bucket as a consumer would, after the last process ended (an unreadable file throws).
      const files = await new BucketReader(bucketDir).read();
      const final = await snapshotAfterKill(dataDir, scratch, bucketDir);
      const counts = countIds(files);
      const where = new Map<string, string[]>();
      for (const { object, traces } of files) {
        for (const tr of traces) where.set(tr.trace_id, [...(where.get(tr.trace_id) ?? []), object.key]);
      }
      const evidence = (id: string) => `${id} ×${counts.get(id) ?? 0} in [${(where.get(id) ?? []).join(', ')}]`;
      const recordedIds = new Set(recorded.map((tr) => tr.trace_id));
      const ackedIds = acked().flatMap((c) => c.traceIds as string[]);
      const ackedSet = new Set(ackedIds);
      const inFlight = new Map(calls.filter((c) => c.state === 'in-flight').map((c) => [c.id, c]));
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      t.diagnostic(
        `${reports.length} kills, ${killsDuringDelivery()} during a delivery (${killsMidBatch()} after some of the ` +
          `batch's objects were written); ${ackedIds.length} acknowledged traces, ${inFlight.size} calls in ` +
          `flight at kills; ${recorded.length} recorded, ${counts.size} distinct in ${files.length} files; ` +
          `last start: listed in ${listedInMs} ms, caught up ${caughtUpAfterMs} ms later; ${seconds} s`,
      );
      if (serverErrors.length > 0) t.diagnostic(`server errors:\n${serverErrors.join('\n')}`);

      for (const { object, traces } of files) {
        assert.match(object.key, TRACE_FILE_KEY, `${object.key} is a trace file`);
        assert.ok(traces.length > 0, `${object.key} holds traces`);
      }

      // What the server recorded: each trace once in ListTraces; each id handed out once.
      assert.equal(recordedIds.size, recorded.length, 'ListTraces returned no trace twice');
      assert.equal(ackedSet.size, ackedIds.length, 'no trace id was handed out twice');

      // Every acknowledged trace was recorded and is in exactly one object, once.
      const lost = ackedIds.filter((id) => !recordedIds.has(id));
      assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged traces not recorded`);
      const notOnce = ackedIds.filter((id) => counts.get(id) !== 1);
      assert.deepEqual(
        notOnce.slice(0, 10).map(evidence),
        [],
        `${notOnce.length} acknowledged traces not delivered exactly once`,
      );

      // Every trace in the files is recorded; every recorded trace is in the files exactly once.
      const unknown = [...counts.keys()].filter((id) => !recordedIds.has(id));
      assert.deepEqual(
        unknown.slice(0, 10).map(evidence),
        [],
        `${unknown.length} traces in files that the server never recorded`,
      );
      const duplicates = [...counts].filter(([, n]) => n !== 1).map(([id]) => id);
      assert.deepEqual(duplicates.slice(0, 10).map(evidence), [], `${duplicates.length} traces delivered twice`);
      assert.equal(counts.size, recordedIds.size, 'the files hold exactly the recorded traces');

      // Every object is logged as delivered (none orphaned by an interrupted batch); nothing is pending.
      assert.deepEqual(final.unlogged, [], 'every object in the bucket is one the store logged as delivered');
      assert.equal(final.pendingTo, null, 'no batch is left pending');
      assert.equal(final.cursor, final.maxSeq, 'the cursor reached the last trace');

      // The service's own traces: the system tracker's creation, recorded and delivered once.
      const cts = recorded.filter((tr) => tr.service_type === 'CTS');
      assert.deepEqual(
        cts.map((tr) => tr.trace_name),
        ['createTracker'],
        'the only CTS trace is the createTracker of the system tracker',
      );
      for (const tr of cts) assert.equal(counts.get(tr.trace_id), 1, `${tr.trace_name} delivered once`);

      // Recorded without an answer: traces of calls in flight at a kill, whole calls only.
      const unanswered = new Map<string, number>();
      for (const tr of recorded) {
        if (ackedSet.has(tr.trace_id) || tr.service_type === 'CTS') continue;
        const call = /^(r\d+-l\d+-c\d+)-t\d+$/.exec(tr.request_id ?? '')?.[1];
        assert.ok(
          call && inFlight.has(call),
          `unanswered trace ${tr.trace_id} (${tr.request_id}) is of an in-flight call`,
        );
        unanswered.set(call, (unanswered.get(call) ?? 0) + 1);
      }
      for (const [call, n] of unanswered) assert.equal(n, BATCH, `in-flight call ${call} committed whole (${n})`);
      t.diagnostic(
        `${unanswered.size} of ${inFlight.size} in-flight calls committed (${unanswered.size * BATCH} traces)`,
      );

      // The traces in the files are the recorded ones (the ids match their request ids).
      const requestIdOf = new Map(recorded.map((tr) => [tr.trace_id, tr.request_id]));
      for (const { object, traces } of files) {
        for (const tr of traces) {
          assert.equal(tr['request_id'], requestIdOf.get(tr.trace_id), `${object.key}: ${tr.trace_id} as recorded`);
        }
      }

      assert.deepEqual(serverErrors, [], 'the server logged no error');
      assert.ok(reports.length >= MIN_RUNS, `only ${reports.length} kills`);
      assert.ok(ackedIds.length >= MIN_ACKNOWLEDGED_TRACES, `only ${ackedIds.length} acknowledged traces`);
      assert.ok(
        killsDuringDelivery() >= MIN_KILLS_DURING_DELIVERY,
        `only ${killsDuringDelivery()} kills during a delivery`,
      );
      assert.ok(
        killsMidBatch() >= MIN_KILLS_MID_BATCH,
        `only ${killsMidBatch()} kills after some of a batch's objects were written`,
      );
    } finally {
      await killAllAndWait();
      await rm(dataDir, { recursive: true, force: true });
      await rm(scratch, { recursive: true, force: true });
    }
  },
);
