/**
 * Traced writes survive SIGKILL (DESIGN "Reliability tests are real"; the pattern of pino's
 * child-process crash tests): `opencts serve` runs as a real child process on one data dir, 20
 * concurrent loops create, update and delete data trackers, and the process is killed with SIGKILL
 * at a random moment, again and again. A last start then reads back, through the API only, what
 * survived, and checks the self-audit promise (issue 4): a change and its trace of service CTS are
 * committed together, so
 *  - every acknowledged create, update and delete has exactly one 2xx trace, with its request id;
 *  - every 2xx trace is a change that is visible now, or was undone by a later recorded change;
 *  - a request that was in flight at a kill either fully happened (change and trace) or not at all.
 *
 * Set OPENCTS_KILL_SEED to replay the random choices (kill delays; which trackers each loop updates
 * or keeps). Where the kills land still depends on timing.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import {
  createKey,
  killAllAndWait,
  listAllSystemTraces,
  seededRandom,
  serve,
  stopWith,
  type KillWireTrace,
} from '../support/kill-harness.js';
import { makeTempDir } from '../support/service.js';
import { signedFetch, type CallResult, type SigningKey } from '../support/signed-fetch.js';

const PROJECT_ID = '5e1f0c0ffee0000000000000000c0de5';
const DOMAIN_ID = 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0';
const USER = 'kim';

/**
 * Starts killed with SIGKILL under load (the final, checking start comes on top): at least
 * MIN_RUNS, and more, up to MAX_RUNS, only while too few writes were acknowledged (a loaded machine).
 */
const MIN_RUNS = 10;
const MAX_RUNS = 16;
/** Concurrent write loops per start. */
const LOOPS = 20;
/** The kill comes this long after the first acknowledged write of a start (so after its warm-up). */
const KILL_DELAY_MIN_MS = 150;
const KILL_DELAY_MAX_MS = 900;
/** Chance that an iteration also updates the tracker it just created. */
const UPDATE_CHANCE = 0.5;
/** Chance that an even loop keeps (does not delete) a tracker, at most once per start. */
const KEEP_CHANCE = 0.1;
/** Data trackers left over from earlier starts beyond this many are deleted first (quota is 100). */
const LEFTOVERS_KEPT = 10;
/** A SIGKILLed process must be gone this quickly. */
const START_TIMEOUT_MS = 20_000;

const MIN_ACKNOWLEDGED_WRITES = 300;
const MIN_KILLS_WITH_REQUESTS_IN_FLIGHT = 10;

type OpKind = 'create' | 'update' | 'delete';

const TRACE_NAME: Record<OpKind, string> = {
  create: 'createTracker',
  update: 'updateTracker',
  delete: 'deleteTracker',
};
const SUCCESS_CODE: Record<OpKind, string> = { create: '201', update: '200', delete: '204' };

interface Op {
  readonly kind: OpKind;
  readonly name: string;
  readonly run: number;
  /** acked: a 2xx answer; failed: any other answer; in-flight: no answer before the kill. */
  state: 'pending' | 'acked' | 'failed' | 'in-flight';
  requestId?: string;
  status?: number;
  error?: string;
}

interface WireTrace extends KillWireTrace {
  readonly trace_id: string;
  readonly trace_name: string;
  readonly trace_rating: string;
  readonly resource_name?: string;
  readonly code?: string;
  readonly request_id?: string;
}

interface WireTracker {
  readonly tracker_name: string;
  readonly tracker_type: string;
  readonly create_time: number;
  readonly lts: { readonly is_lts_enabled: boolean };
}

function okStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

async function listAllTrackers(url: string, key: SigningKey): Promise<WireTracker[]> {
  const res = await signedFetch(url, key, { path: `/v3/${key.project_id}/trackers` });
  assert.equal(res.status, 200, res.text);
  return (res.json as { trackers: WireTracker[] }).trackers;
}

/**
 * Compares what the requests were told, what the traces say and what the final state shows.
 * Returns the acknowledged and the unanswered requests, and how many of the latter committed.
 */
function checkSurvivors(
  ops: readonly Op[],
  traces: readonly WireTrace[],
  finalTrackers: readonly WireTracker[],
): { acked: Op[]; inFlight: Op[]; committedWithoutAnswer: number } {
  const acked = ops.filter((op) => op.state === 'acked');
  const inFlight = ops.filter((op) => op.state === 'in-flight');
  assert.equal(new Set(traces.map((tr) => tr.trace_id)).size, traces.length, 'paging returned no trace twice');
  const warnings = traces.filter((tr) => !okStatus(Number(tr.code)));
  assert.deepEqual(warnings, [], 'no call failed, so no trace records a failure');
  for (const tr of traces) {
    assert.ok(Object.values(TRACE_NAME).includes(tr.trace_name), `only tracker writes are recorded: ${tr.trace_name}`);
  }

  // Every acknowledged write has exactly one trace: its own request id, name, resource and code.
  const byRequestId = new Map<string, WireTrace[]>();
  for (const tr of traces) {
    const list = byRequestId.get(tr.request_id ?? '') ?? [];
    list.push(tr);
    byRequestId.set(tr.request_id ?? '', list);
  }
  for (const op of acked) {
    const own = byRequestId.get(op.requestId ?? '') ?? [];
    assert.equal(own.length, 1, `acknowledged ${op.kind} of ${op.name} (run ${op.run}) has exactly one trace`);
    assert.equal(own[0]!.trace_name, TRACE_NAME[op.kind]);
    assert.equal(own[0]!.resource_name, op.name);
    assert.equal(own[0]!.code, SUCCESS_CODE[op.kind]);
  }
  const ackedIds = new Set(acked.map((op) => op.requestId));

  // Per tracker name: what the traces say happened must be what the final state shows.
  const count = (name: string, kind: OpKind) =>
    traces.filter((tr) => tr.resource_name === name && tr.trace_name === TRACE_NAME[kind]).length;
  const exists = new Map(finalTrackers.map((tr) => [tr.tracker_name, tr]));
  const attempted = new Set(ops.map((op) => op.name));
  for (const tr of traces) {
    assert.ok(attempted.has(tr.resource_name ?? ''), `trace of ${tr.resource_name} matches a request that was sent`);
  }
  for (const tr of finalTrackers) {
    assert.ok(attempted.has(tr.tracker_name), `tracker ${tr.tracker_name} was created by this test`);
  }
  for (const name of attempted) {
    const creates = count(name, 'create');
    const updates = count(name, 'update');
    const deletes = count(name, 'delete');
    const tracker = exists.get(name);
    assert.ok(creates <= 1, `${name}: at most one successful createTracker (${creates})`);
    assert.ok(deletes <= creates, `${name}: no deleteTracker without a createTracker`);
    assert.ok(updates <= creates, `${name}: no updateTracker without a createTracker`);
    assert.ok(updates <= 1, `${name}: at most one updateTracker (only one was sent)`);
    assert.equal(
      tracker !== undefined,
      creates - deletes === 1,
      `${name}: exists now (${tracker !== undefined}) exactly when created (${creates}) and not deleted (${deletes})`,
    );
    if (tracker) {
      assert.equal(
        tracker.lts.is_lts_enabled,
        updates === 1,
        `${name}: its update is visible exactly when it was recorded`,
      );
    }
  }

  // The same from the requests' side: acknowledged changes are in the state, in-flight ones
  // either happened whole (their trace is there, and so is the change) or left no trace at all.
  // A trace that answers no acknowledged request is the trace of an in-flight one.
  const unanswered = traces.filter((tr) => !ackedIds.has(tr.request_id));
  const unansweredOf = (op: Op) =>
    unanswered.filter((tr) => tr.resource_name === op.name && tr.trace_name === TRACE_NAME[op.kind]).length;
  const sameRequests = (op: Op) => inFlight.filter((o) => o.name === op.name && o.kind === op.kind).length;
  const otherDeleteSent = (op: Op) =>
    ops.some((o) => o !== op && o.kind === 'delete' && o.name === op.name && o.state !== 'failed');
  for (const tr of unanswered) {
    const op = inFlight.find((o) => o.name === tr.resource_name && TRACE_NAME[o.kind] === tr.trace_name);
    assert.ok(op, `trace ${tr.trace_name} of ${tr.resource_name} without an answer belongs to an in-flight request`);
    assert.ok(unansweredOf(op) <= sameRequests(op), `${tr.trace_name} of ${tr.resource_name} recorded too often`);
  }
  for (const op of acked) {
    const tracker = exists.get(op.name);
    if (op.kind === 'delete') assert.equal(tracker, undefined, `deleted ${op.name} is gone`);
    if (op.kind === 'create' && !otherDeleteSent(op)) assert.ok(tracker, `created ${op.name}, never deleted, exists`);
    if (op.kind === 'update' && tracker) assert.equal(tracker.lts.is_lts_enabled, true, `update of ${op.name} kept`);
  }
  for (const op of inFlight) {
    const tracker = exists.get(op.name);
    const recorded = unansweredOf(op) > 0;
    if (op.kind === 'create' && !otherDeleteSent(op)) {
      assert.equal(tracker !== undefined, recorded, `in-flight create of ${op.name}: change and trace or neither`);
    }
    if (op.kind === 'delete' && !otherDeleteSent(op)) {
      assert.equal(tracker === undefined, recorded, `in-flight delete of ${op.name}: change and trace or neither`);
    }
    if (op.kind === 'update' && tracker) {
      assert.equal(tracker.lts.is_lts_enabled, recorded, `in-flight update of ${op.name}: change and trace or neither`);
    }
  }
  return { acked, inFlight, committedWithoutAnswer: unanswered.length };
}

test(
  'acknowledged tracker writes and their traces survive repeated SIGKILL; in-flight ones are all or nothing',
  {
    timeout: 120_000,
  },
  async (t) => {
    const seed = Number(process.env['OPENCTS_KILL_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
    t.diagnostic(`seed ${seed} (OPENCTS_KILL_SEED to replay)`);
    const killDelay = seededRandom(seed);
    const began = Date.now();
    const dataDir = await makeTempDir('opencts-kill-');
    try {
      const key = await createKey(dataDir, { projectId: PROJECT_ID, domainId: DOMAIN_ID }, USER, 'admin');

      // Each loop of each start gets two bucket folders of its own: one for the trackers it creates
      // and deletes in turn, one to move to after it kept a tracker. Two data trackers may not watch
      // the same bucket for the same event (CTS.0209), and a leftover of a killed start still does.
      const bucket = (run: number, loop: number, slot: number) => `b${run}-${loop}-${slot}`;
      for (let run = 0; run < MAX_RUNS; run++) {
        for (let loop = 0; loop < LOOPS; loop++) {
          for (const slot of [0, 1])
            await mkdir(path.join(dataDir, 'buckets', bucket(run, loop, slot)), { recursive: true });
        }
      }

      const ops: Op[] = [];
      let systemCreate: Op | undefined;
      let killsWithRequestsInFlight = 0;
      let inFlightAtKills = 0;

      let runs = 0;
      for (let run = 0; run < MAX_RUNS; run++) {
        const ackedSoFar = ops.filter((op) => op.state === 'acked').length;
        if (run >= MIN_RUNS && ackedSoFar >= MIN_ACKNOWLEDGED_WRITES) break;
        runs++;
        const served = await serve(dataDir);
        let firstAck: () => void = () => undefined;
        const call = async (op: Op, request: Parameters<typeof signedFetch>[2]): Promise<boolean> => {
          ops.push(op);
          let res: CallResult;
          try {
            res = await signedFetch(served.url, key, request);
          } catch (err) {
            op.state = 'in-flight';
            op.error = (err as Error).message;
            return false;
          }
          op.status = res.status;
          op.requestId = res.headers.get('x-request-id') ?? undefined;
          op.state = okStatus(res.status) ? 'acked' : 'failed';
          if (op.state === 'failed') op.error = res.text;
          else firstAck();
          return op.state === 'acked';
        };
        const projectPath = `/v3/${PROJECT_ID}`;
        const create = (name: string, bucketName: string) =>
          call(
            { kind: 'create', name, run, state: 'pending' },
            {
              method: 'POST',
              path: `${projectPath}/tracker`,
              body: {
                tracker_type: 'data',
                tracker_name: name,
                data_bucket: { data_bucket_name: bucketName, data_event: ['READ', 'WRITE'] },
              },
            },
          );
        const update = (name: string) =>
          call(
            { kind: 'update', name, run, state: 'pending' },
            {
              method: 'PUT',
              path: `${projectPath}/tracker`,
              body: { tracker_type: 'data', tracker_name: name, is_lts_enabled: true },
            },
          );
        const remove = (name: string) =>
          call(
            { kind: 'delete', name, run, state: 'pending' },
            { method: 'DELETE', path: `${projectPath}/trackers`, query: { tracker_type: 'data', tracker_name: name } },
          );

        const trackers = await listAllTrackers(served.url, key);
        if (run === 0) {
          assert.deepEqual(trackers, []);
          systemCreate = { kind: 'create', name: 'system', run, state: 'pending' };
          assert.ok(
            await call(systemCreate, {
              method: 'POST',
              path: `${projectPath}/tracker`,
              body: { tracker_type: 'system', tracker_name: 'system' },
            }),
            systemCreate.error,
          );
        } else {
          assert.ok(
            trackers.some((tr) => tr.tracker_type === 'system'),
            'the system tracker survived',
          );
        }
        // Leftovers of earlier starts beyond a few are deleted first, by all loops together.
        const leftovers = trackers
          .filter((tr) => tr.tracker_type === 'data')
          .sort((a, b) => a.create_time - b.create_time)
          .slice(0, -LEFTOVERS_KEPT)
          .map((tr) => tr.tracker_name);

        let killed = false;
        const worker = async (loop: number): Promise<void> => {
          const random = seededRandom(seed ^ ((run + 1) * 7919 + loop * 104729));
          for (let i = loop; i < leftovers.length; i += LOOPS) {
            if (killed || !(await remove(leftovers[i]!))) return;
          }
          let slot = 0;
          for (let seq = 0; !killed; seq++) {
            const name = `k${run}-${loop}-${seq}`;
            if (!(await create(name, bucket(run, loop, slot)))) return;
            if (random() < UPDATE_CHANCE && !(await update(name))) return;
            if (loop % 2 === 0 && slot === 0 && random() < KEEP_CHANCE) slot = 1;
            else if (!(await remove(name))) return;
          }
        };
        const warm = new Promise<void>((resolve) => (firstAck = resolve));
        const workers = Array.from({ length: LOOPS }, (_, loop) => worker(loop));
        await Promise.race([warm, sleep(START_TIMEOUT_MS, undefined, { ref: false })]);
        await sleep(KILL_DELAY_MIN_MS + Math.floor(killDelay() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS)));
        killed = true;
        const pendingAtKill = ops.filter((op) => op.run === run && op.state === 'pending').length;
        await stopWith(served, 'SIGKILL', 'SIGKILL');
        await Promise.all(workers);
        if (pendingAtKill > 0) killsWithRequestsInFlight++;
        inFlightAtKills += pendingAtKill;
        const failed = ops.filter((op) => op.run === run && op.state === 'failed');
        assert.deepEqual(
          failed.map((op) => `${op.kind} ${op.name}: ${op.status} ${op.error}`),
          [],
          'no write was refused',
        );
        assert.ok(
          ops.every((op) => op.state !== 'pending'),
          'every request ended',
        );
      }

      // The final start: read back everything through the API.
      const served = await serve(dataDir);
      let finalTrackers: WireTracker[];
      let traces: WireTrace[];
      try {
        finalTrackers = await listAllTrackers(served.url, key);
        traces = await listAllSystemTraces<WireTrace>(served.url, key, began - 1);
      } finally {
        await stopWith(served, 'SIGKILL', 'SIGKILL');
      }

      const { acked, inFlight, committedWithoutAnswer } = checkSurvivors(ops, traces, finalTrackers);

      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      t.diagnostic(
        `${runs} kills, ${killsWithRequestsInFlight} with requests in flight (${inFlightAtKills} requests); ` +
          `${acked.length} acknowledged writes (create ${acked.filter((o) => o.kind === 'create').length}, ` +
          `update ${acked.filter((o) => o.kind === 'update').length}, ` +
          `delete ${acked.filter((o) => o.kind === 'delete').length}); ` +
          `${inFlight.length} unanswered, ${committedWithoutAnswer} of them committed; ` +
          `${traces.length} traces, ${finalTrackers.length} trackers at the end; ${seconds} s`,
      );
      assert.ok(systemCreate?.state === 'acked');
      assert.ok(acked.length >= MIN_ACKNOWLEDGED_WRITES, `only ${acked.length} acknowledged writes`);
      assert.ok(
        killsWithRequestsInFlight >= MIN_KILLS_WITH_REQUESTS_IN_FLIGHT,
        `only ${killsWithRequestsInFlight} kills with requests in flight`,
      );
    } finally {
      await killAllAndWait();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
