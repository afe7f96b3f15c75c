/**
 * The SQLite store's ListTraces index (src/store/sqlite/trace-index.ts) with runs of 16 traces, so
 * that a few hundred traces spread over the in-memory recent table and dozens of runs: every page
 * of every query must equal what a plain filter-and-sort over all traces gives, before and after
 * a reopen, after the index of a pre-run database is built at open, and after the retention purge.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Trace } from '../../../src/core/trace/trace.js';
import { loadMasterKey, type SecretBox } from '../../../src/store/secret-box.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { TraceFilter, TracePosition, TraceQuery } from '../../../src/store/store.js';
import { trace, tracker } from '../store.contract.js';

const P1 = 'p1000000000000000000000000000001';
const D1 = 'd1000000000000000000000000000001';
const P2 = 'p2000000000000000000000000000002';
const D2 = 'd2000000000000000000000000000002';
const RUN_TRACES = 16;
const BASE = 1_796_000_000_000;

/** A seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: () => number, values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;

const VALUES = {
  service_type: ['ECS', 'OBS', 'VPC'],
  user: ['alice', 'bob', 'carol'],
  resource_id: ['r1', 'r2', 'r3', 'r4', 'r5'],
  resource_name: ['web-1', 'web-2', 'db-1'],
  resource_type: ['ecs', 'bucket'],
  trace_name: ['createServer', 'deleteServer', 'updateServer'],
  trace_rating: ['normal', 'warning', 'incident'],
  access_key_id: ['AK1', 'AK2'],
  enterprise_project_id: ['0', 'ep-1'],
} as const satisfies Record<TraceFilter, readonly string[]>;

/** A trace with values drawn from small sets, so that filters, equal times and trackers collide. */
function randomTrace(rng: () => number): Trace {
  const data = rng() < 0.15;
  const user = pick(rng, VALUES.user);
  return trace({
    time: BASE + Math.floor(rng() * 300) * 1000,
    project_id: rng() < 0.1 ? P2 : P1,
    domain_id: D1,
    event_type: data ? 'data' : 'system',
    trace_type: data ? 'ObsSDK' : 'ApiCall',
    tracker_name: data ? 'bucketlog' : 'system',
    service_type: pick(rng, VALUES.service_type),
    resource_id: pick(rng, VALUES.resource_id),
    resource_name: pick(rng, VALUES.resource_name),
    resource_type: pick(rng, VALUES.resource_type),
    trace_name: pick(rng, VALUES.trace_name),
    trace_rating: pick(rng, VALUES.trace_rating),
    enterprise_project_id: pick(rng, VALUES.enterprise_project_id),
    user: {
      name: user,
      id: `u-${user}`,
      domain: { id: D1, name: 'acme' },
      access_key_id: pick(rng, VALUES.access_key_id),
    },
  });
}

function field(t: Trace, filter: TraceFilter): string | undefined {
  if (filter === 'user') return t.user.name ?? t.user.user_name;
  if (filter === 'access_key_id') return t.user.access_key_id;
  return t[filter];
}

/** What ListTraces must return, computed the obvious way. */
function expected(all: readonly Trace[], q: TraceQuery): string[] {
  return all
    .filter(
      (t) =>
        t.project_id === q.projectId &&
        t.event_type === q.eventType &&
        (q.trackerName === undefined || t.tracker_name === q.trackerName) &&
        t.time > q.from &&
        t.time < q.to &&
        (Object.entries(q.filters) as Array<[TraceFilter, string]>).every(([f, v]) => field(t, f) === v),
    )
    .sort((a, b) => b.time - a.time || (a.trace_id < b.trace_id ? 1 : a.trace_id > b.trace_id ? -1 : 0))
    .map((t) => t.trace_id);
}

function randomQuery(rng: () => number): TraceQuery {
  const filters: Partial<Record<TraceFilter, string>> = {};
  for (const f of Object.keys(VALUES) as TraceFilter[]) if (rng() < 0.2) filters[f] = pick(rng, VALUES[f]);
  const data = rng() < 0.2;
  const from = BASE - 1 + Math.floor(rng() * 200) * 1000;
  return {
    projectId: rng() < 0.1 ? P2 : P1,
    eventType: data ? 'data' : 'system',
    trackerName: data ? (rng() < 0.5 ? undefined : 'bucketlog') : 'system',
    from: rng() < 0.5 ? 0 : from,
    to: rng() < 0.5 ? Number.MAX_SAFE_INTEGER : from + 1 + Math.floor(rng() * 200) * 1000,
    limit: 1 + Math.floor(rng() * 25),
    filters,
  };
}

/** Every page of a query, following the position each page returns. */
async function allPages(store: SqliteStore, q: TraceQuery): Promise<string[]> {
  const seen: string[] = [];
  let position: TracePosition | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.listTraces({ ...q, after: position });
    assert.ok(page.wire.length <= q.limit);
    for (const w of page.wire) seen.push((JSON.parse(w) as { trace_id: string }).trace_id);
    if (!page.next) return seen;
    position = page.next;
  }
  throw new Error('paging did not end');
}

async function assertQueries(store: SqliteStore, all: readonly Trace[], seed: number, count = 150): Promise<void> {
  const rng = prng(seed);
  let nonEmpty = 0;
  for (let i = 0; i < count; i++) {
    const q = randomQuery(rng);
    const want = expected(all, q);
    if (want.length > 0) nonEmpty++;
    assert.deepEqual(await allPages(store, q), want, `query ${i} of seed ${seed}: ${JSON.stringify(q)}`);
  }
  // The queries must have found something to compare, or the test proves nothing.
  assert.ok(nonEmpty > count / 3, `only ${nonEmpty} of ${count} queries matched traces`);
}

describe('SQLite ListTraces index: recent table and runs', () => {
  let dir: string;
  let file: string;
  let secrets: SecretBox;
  const all: Trace[] = [];
  const open = () => SqliteStore.open({ file, secrets, runTraces: RUN_TRACES });
  const runCount = () => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM trace_runs').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opencts-trace-runs-'));
    file = path.join(dir, 'opencts.db');
    secrets = loadMasterKey(path.join(dir, 'master.key'), {}, true);
    const store = open();
    try {
      await store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await store.ensureProject({ project_id: P2, domain_id: D2, name: 'two', created_at: 2 });
      const rng = prng(1);
      // Writes of 1-12 traces, some queued together (one batch), in the order they are called.
      for (let round = 0; round < 12; round++) {
        const writes: Array<Promise<unknown>> = [];
        for (let w = 0; w < 4; w++) {
          const traces = Array.from({ length: 1 + Math.floor(rng() * 12) }, () => randomTrace(rng));
          for (const project of [P1, P2]) {
            const own = traces.filter((t) => t.project_id === project);
            // Kept in commit (seq) order: the group commit runs writes in the order they are called.
            all.push(...own);
            writes.push(
              store.changeTrackers(project, () => ({
                upsert: round === 0 && w === 0 ? [tracker(project, 'system'), tracker(project, 'bucketlog')] : [],
                traces: own,
                result: undefined,
              })),
            );
          }
        }
        await Promise.all(writes);
        // Queries between the writes see the recent table and the runs made so far.
        if (round % 4 === 3) await assertQueries(store, all, 100 + round, 40);
      }
    } finally {
      await store.close();
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a few hundred traces make dozens of runs; every page of every query is right', async () => {
    assert.ok(all.length > 250, `${all.length} traces`);
    // A run takes the whole recent table when its write comes up, so runs may hold more than 16.
    const runs = runCount();
    assert.ok(runs >= 4, `${runs} runs for ${all.length} traces`);
    const store = open();
    try {
      await assertQueries(store, all, 7);
    } finally {
      await store.close();
    }
  });

  test('a database whose traces have no runs yet (before migration 9) gets them when it opens', async () => {
    const db = new Database(file);
    for (const run of db.prepare('SELECT run FROM trace_runs').pluck().all() as number[]) {
      db.exec(`DROP TABLE trace_run_${run}`);
    }
    db.exec('DELETE FROM trace_runs');
    db.close();
    const store = open();
    try {
      assert.equal(runCount(), Math.floor(all.length / RUN_TRACES));
      await assertQueries(store, all, 8);
    } finally {
      await store.close();
    }
  });

  test('the retention purge drops the runs of removed traces; what stays is still found', async () => {
    const store = open();
    try {
      const before = runCount();
      // Oldest first, in commit order: the first 150 calls' traces, as written.
      const removed = await store.purgeTraces(Date.now() + 60_000, 150);
      assert.equal(removed, 150);
      all.splice(0, 150);
      assert.ok(runCount() <= before - Math.floor(150 / RUN_TRACES) + 1, `${before} → ${runCount()} runs`);
      await assertQueries(store, all, 9);
    } finally {
      await store.close();
    }
  });

  test('the purge never removes the newest trace, so seqs keep growing after an empty period', async () => {
    const store = open();
    try {
      let removed = 0;
      for (
        let n = await store.purgeTraces(Date.now() + 60_000, 100);
        n > 0;
        n = await store.purgeTraces(Date.now() + 60_000, 100)
      ) {
        removed += n;
      }
      assert.equal(removed, all.length - 1);
      const newest = all[all.length - 1]!;
      const seqBefore = await store.maxTraceSeq(newest.project_id, newest.tracker_name);
      const next = trace({ time: BASE + 1 });
      await store.changeTrackers(P1, () => ({ traces: [next], result: undefined }));
      assert.ok((await store.maxTraceSeq(P1, 'system')) > seqBefore);
      const page = await store.listTraces({
        projectId: P1,
        eventType: 'system',
        trackerName: 'system',
        from: 0,
        to: Number.MAX_SAFE_INTEGER,
        limit: 10,
        filters: {},
      });
      assert.deepEqual(
        page.wire.map((w) => (JSON.parse(w) as { trace_id: string }).trace_id),
        expected([newest, next], {
          ...page,
          projectId: P1,
          eventType: 'system',
          trackerName: 'system',
          from: 0,
          to: Number.MAX_SAFE_INTEGER,
          limit: 10,
          filters: {},
        }),
      );
    } finally {
      await store.close();
    }
  });
});
