/**
 * One contract for every Store, run unchanged against SQLite (a temp data dir) and PostgreSQL (a
 * throwaway database per test) by sqlite-store.test.ts and postgres-store.test.ts: every
 * operation, group-commit transactions (a failing write leaves nothing, its neighbours commit),
 * concurrent writers, persistence across a reopen. Stores are opened through openStore(), as
 * `opencts serve` opens them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { uuidv7 } from '../../src/core/ids.js';
import type { Trace } from '../../src/core/trace/trace.js';
import { toWireTrace } from '../../src/core/trace/wire.js';
import type { Tracker } from '../../src/core/tracker/tracker.js';
import { openStore } from '../../src/store/open-store.js';
import {
  ProjectConflictError,
  type Credential,
  type DeliveredFile,
  type DeliveryState,
  LeaseLostError,
  type Store,
  type TraceQuery,
} from '../../src/store/store.js';
import { createTestDatabase } from '../support/postgres.js';
import type { StoreKind } from '../support/service.js';

const DAY = 86_400_000;
const P1 = 'p1000000000000000000000000000001';
const P2 = 'p2000000000000000000000000000002';
const D1 = 'd1000000000000000000000000000001';
const D2 = 'd2000000000000000000000000000002';

export interface OpenedStore {
  readonly store: Store;
  /** The PostgreSQL database's connection string. */
  readonly url: string | undefined;
  /** Closes the store and opens the same data again. */
  reopen(): Promise<Store>;
  /** Another store on the same data, as a second instance would open it (PostgreSQL only). */
  another(): Promise<Store>;
  /** Closes every store it opened and deletes the data. */
  dispose(): Promise<void>;
}

export async function openTestStore(kind: StoreKind, options: { retentionDays?: number } = {}): Promise<OpenedStore> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'opencts-store-'));
  const database = kind === 'postgres' ? await createTestDatabase() : undefined;
  const settings = {
    dataDir,
    store: database?.url ?? 'sqlite',
    durability: 'normal' as const,
    retentionDays: options.retentionDays ?? 7,
  };
  const open: Store[] = [];
  const openOne = async () => {
    const { store } = await openStore(settings);
    open.push(store);
    return store;
  };
  let current = await openOne();
  return {
    get store() {
      return current;
    },
    url: database?.url,
    reopen: async () => {
      await current.close();
      current = await openOne();
      return current;
    },
    another: async () => {
      if (kind !== 'postgres') throw new Error('one SQLite file has one writer process');
      return openOne();
    },
    dispose: async () => {
      for (const s of open) await s.close();
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `work` on a fresh store, then disposes of it whatever happened. */
async function withStore(
  kind: StoreKind,
  work: (opened: OpenedStore) => Promise<void>,
  options?: { retentionDays?: number },
): Promise<void> {
  const opened = await openTestStore(kind, options);
  try {
    await work(opened);
  } finally {
    await opened.dispose();
  }
}

export function tracker(projectId: string, name: string, overrides: Partial<Tracker> = {}): Tracker {
  const type = name === 'system' ? 'system' : 'data';
  return {
    id: `${projectId.slice(0, 8)}-${name}`,
    create_time: 1_795_000_000_000,
    tracker_type: type,
    tracker_name: name,
    domain_id: projectId === P1 ? D1 : D2,
    project_id: projectId,
    status: 'enabled',
    is_support_validate: false,
    is_support_trace_files_encryption: false,
    is_organization_tracker: false,
    management_event_selector: { exclude_service: [] },
    lts: { is_lts_enabled: false, log_group_name: 'CTS', log_topic_name: 'system-trace' },
    obs_info: {
      bucket_name: '',
      file_prefix_name: '',
      is_obs_created: false,
      is_authorized_bucket: false,
      bucket_lifecycle: 0,
      compress_type: 'gzip',
      is_sort_by_service: true,
      bucket_location: '',
    },
    ...overrides,
  };
}

let clock = 1_795_000_000_000;

export function trace(overrides: Partial<Trace> = {}): Trace {
  const time = overrides.time ?? ++clock;
  return {
    trace_id: uuidv7(time),
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    event_type: 'system',
    tracker_name: 'system',
    project_id: P1,
    domain_id: D1,
    service_type: 'ECS',
    resource_type: 'ecs',
    resource_id: 'vm-1',
    resource_name: 'web-1',
    time,
    record_time: Date.now(),
    user: { name: 'alice', id: 'u1', domain: { id: D1, name: 'acme' }, access_key_id: 'AKALICE' },
    ...overrides,
  };
}

function credential(overrides: Partial<Credential> = {}): Credential {
  return {
    access_key_id: 'AK' + Math.random().toString(36).slice(2, 14).toUpperCase(),
    secret_access_key: 'secret-' + Math.random().toString(36).slice(2),
    project_id: P1,
    domain_id: D1,
    user_id: 'u1',
    user_name: 'alice',
    role: 'admin',
    created_at: 1_795_000_000_000,
    revoked_at: null,
    expires_at: null,
    security_token_sha256: null,
    ...overrides,
  };
}

async function withProjects(store: Store): Promise<void> {
  await store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
  await store.ensureProject({ project_id: P2, domain_id: D2, name: 'two', created_at: 2 });
}

/** Adds trackers (and traces) to a project in one changeTrackers write. */
function put(store: Store, projectId: string, trackers: readonly Tracker[], traces: readonly Trace[] = []) {
  return store.changeTrackers(projectId, () => ({ upsert: trackers, traces, result: undefined }));
}

function query(overrides: Partial<TraceQuery> = {}): TraceQuery {
  return {
    projectId: P1,
    eventType: 'system',
    trackerName: 'system',
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    limit: 200,
    filters: {},
    ...overrides,
  };
}

const ids = (page: { wire: readonly string[] }) =>
  page.wire.map((w) => (JSON.parse(w) as { trace_id: string }).trace_id);

function deliveryState(overrides: Partial<DeliveryState> = {}): DeliveryState {
  return {
    tracker_id: 'p1000000-system',
    project_id: P1,
    cursor_seq: 0,
    pending_to: null,
    pending_time: null,
    pending_layout: null,
    digest_start: null,
    last_digest: null,
    ...overrides,
  };
}

function file(key: string, overrides: Partial<DeliveredFile> = {}): DeliveredFile {
  return {
    tracker_id: 'p1000000-system',
    bucket: 'b',
    object_key: key,
    sha256: 'ab'.repeat(32),
    size: 100,
    trace_count: 3,
    oldest_time: 1,
    newest_time: 2,
    delivered_at: 1000,
    ...overrides,
  };
}

export function storeContract(kind: StoreKind): void {
  describe(`Store contract on ${kind}`, () => {
    test('ping answers while open; close is idempotent and ping fails after it', () =>
      withStore(kind, async ({ store }) => {
        assert.equal(store.dialect, kind);
        await store.ping();
        await store.close();
        await store.close();
        await assert.rejects(store.ping());
      }));

    test('projects: ensure creates once, returns the existing one, refuses another domain', () =>
      withStore(kind, async ({ store }) => {
        assert.equal(await store.getProject(P1), undefined);
        const first = await store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 5 });
        assert.deepEqual(first, { project_id: P1, domain_id: D1, name: 'one', created_at: 5 });
        assert.deepEqual(await store.ensureProject({ project_id: P1, domain_id: D1, name: 'x', created_at: 9 }), first);
        await assert.rejects(
          store.ensureProject({ project_id: P1, domain_id: D2, name: 'one', created_at: 9 }),
          ProjectConflictError,
        );
        await store.ensureProject({ project_id: P2, domain_id: D2, name: 'two', created_at: 3 });
        assert.deepEqual(
          (await store.listProjects()).map((p) => p.project_id),
          [P2, P1],
          'ordered by creation',
        );
        assert.deepEqual(await store.getProject(P1), first);
      }));

    test('users: ensure is idempotent, list by domain, delete revokes their keys', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        const bob = await store.ensureUser({ domain_id: D1, user_name: 'bob', user_id: 'u-bob', created_at: 1 });
        assert.deepEqual(
          await store.ensureUser({ domain_id: D1, user_name: 'bob', user_id: 'other', created_at: 2 }),
          bob,
        );
        await store.ensureUser({ domain_id: D1, user_name: 'alice', user_id: 'u-alice', created_at: 3 });
        await store.ensureUser({ domain_id: D2, user_name: 'carol', user_id: 'u-carol', created_at: 4 });
        assert.deepEqual(await store.getUser(D1, 'bob'), bob);
        assert.equal(await store.getUser(D2, 'bob'), undefined);
        assert.deepEqual(
          (await store.listUsers()).map((u) => `${u.domain_id}/${u.user_name}`),
          [`${D1}/alice`, `${D1}/bob`, `${D2}/carol`],
        );
        assert.deepEqual(
          (await store.listUsers({ domain_id: D1 })).map((u) => u.user_name),
          ['alice', 'bob'],
        );
        const key = credential({ user_name: 'bob', user_id: 'u-bob' });
        const other = credential({ user_name: 'alice', user_id: 'u-alice' });
        await store.addCredential(key);
        await store.addCredential(other);
        assert.equal(await store.deleteUser(D1, 'bob', 777), true);
        assert.equal(await store.deleteUser(D1, 'bob', 778), false);
        assert.equal(await store.getUser(D1, 'bob'), undefined);
        assert.equal((await store.getCredential(key.access_key_id))?.revoked_at, 777);
        assert.equal((await store.getCredential(other.access_key_id))?.revoked_at, null);
      }));

    test('credentials: the secret comes back opened, lists hide it, revoke once, all fields kept', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        const temporary = credential({
          created_at: 10,
          role: 'readonly',
          expires_at: 99_999,
          security_token_sha256: 'cd'.repeat(32),
        });
        const plain = credential({ created_at: 20, project_id: P2, domain_id: D2 });
        await store.addCredential(temporary);
        await store.addCredential(plain);
        assert.deepEqual(await store.getCredential(temporary.access_key_id), temporary);
        assert.equal(await store.getCredential('AKNONE'), undefined);
        assert.deepEqual(
          (await store.listCredentials()).map((c) => [c.access_key_id, c.secret_access_key]),
          [
            [temporary.access_key_id, ''],
            [plain.access_key_id, ''],
          ],
        );
        assert.deepEqual(
          (await store.listCredentials({ project_id: P2 })).map((c) => c.access_key_id),
          [plain.access_key_id],
        );
        await assert.rejects(store.addCredential(temporary), 'the same access key twice');
        await assert.rejects(store.addCredential(credential({ project_id: 'nope' })), 'a key of no project');
        assert.equal(await store.revokeCredential(plain.access_key_id, 50), true);
        assert.equal(await store.revokeCredential(plain.access_key_id, 60), false);
        assert.equal(await store.revokeCredential('AKNONE', 60), false);
        assert.equal((await store.getCredential(plain.access_key_id))?.revoked_at, 50);
      }));

    test('trackers: upsert and remove in one write, system first, every project listed', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        const result = await store.changeTrackers(P1, (current) => {
          assert.deepEqual(current, []);
          return { upsert: [tracker(P1, 'zeta'), tracker(P1, 'system'), tracker(P1, 'alpha')], result: 42 };
        });
        assert.equal(result, 42);
        assert.deepEqual(
          (await store.listTrackers(P1)).map((t) => t.tracker_name),
          ['system', 'alpha', 'zeta'],
        );
        await store.changeTrackers(P1, (current) => ({
          upsert: [{ ...current.find((t) => t.tracker_name === 'alpha')!, status: 'disabled' }],
          remove: [tracker(P1, 'zeta').id],
          result: undefined,
        }));
        const after = await store.listTrackers(P1);
        assert.deepEqual(
          after.map((t) => [t.tracker_name, t.status]),
          [
            ['system', 'enabled'],
            ['alpha', 'disabled'],
          ],
        );
        assert.deepEqual(after[0], tracker(P1, 'system'), 'the whole tracker round-trips');
        await put(store, P2, [tracker(P2, 'system')]);
        assert.deepEqual(
          (await store.listAllTrackers()).map((t) => `${t.project_id}/${t.tracker_name}`),
          [`${P1}/alpha`, `${P1}/system`, `${P2}/system`],
        );
        assert.deepEqual(await store.listTrackers('nobody'), []);
      }));

    test('writes of one batch see each other: no lost update among 60 concurrent read-modify-writes', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        await put(store, P1, [tracker(P1, 'system')]);
        const appends = Array.from({ length: 60 }, (_, i) =>
          store.changeTrackers(P1, (current) => {
            const t = current.find((x) => x.tracker_name === 'system')!;
            const excluded = [...t.management_event_selector.exclude_service, `S${i}`];
            return {
              upsert: [{ ...t, management_event_selector: { exclude_service: excluded } }],
              traces: [trace({ trace_name: `append${i}` })],
              result: excluded.length,
            };
          }),
        );
        const lengths = await Promise.all(appends);
        assert.deepEqual(
          [...lengths].sort((a, b) => a - b),
          Array.from({ length: 60 }, (_, i) => i + 1),
        );
        const [t] = await store.listTrackers(P1);
        assert.equal(t!.management_event_selector.exclude_service.length, 60);
        assert.equal((await store.listTraces(query())).wire.length, 60);
      }));

    test('a refused write leaves nothing and its batch neighbours commit', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        await put(store, P1, [tracker(P1, 'system'), tracker(P1, 'keep')]);
        const before = await store.listTrackers(P1);
        const good1 = trace({ trace_name: 'good1' });
        const good2 = trace({ trace_name: 'good2' });
        const outcomes = await Promise.allSettled([
          put(store, P1, [], [good1]),
          // The planner refuses: nothing was written yet.
          store.changeTrackers(P1, () => {
            throw new Error('rule violated');
          }),
          // The statements fail half way: the tracker removal before them must roll back too.
          store.changeTrackers(P1, () => ({
            remove: [tracker(P1, 'keep').id],
            upsert: [tracker(P1, 'newone')],
            traces: [trace({ trace_name: 'bad', service_type: undefined as unknown as string })],
            result: undefined,
          })),
          // A unique name taken by another tracker id.
          put(store, P1, [tracker(P1, 'keep', { id: 'other-id' })], [trace({ trace_name: 'bad2' })]),
          // A trace of another project.
          put(store, P1, [], [trace({ trace_name: 'bad3', project_id: P2 })]),
          put(store, P1, [], [good2]),
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled'],
        );
        assert.deepEqual(await store.listTrackers(P1), before);
        assert.deepEqual(
          ids(await store.listTraces(query())),
          [good2.trace_id, good1.trace_id],
          'only the traces of the writes that succeeded',
        );
        // The store keeps working, and a later write sees the committed state.
        await put(store, P1, [tracker(P1, 'later')]);
        assert.equal((await store.listTrackers(P1)).length, 3);
      }));

    test('traces: window, newest first, every filter, trace_id, and pages that split equal times', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        await put(store, P1, [tracker(P1, 'system'), tracker(P1, 'bucketlog')]);
        const base = 1_795_100_000_000;
        const system = Array.from({ length: 12 }, (_, i) =>
          trace({
            time: base + Math.floor(i / 3) * 1000, // three traces share each time
            service_type: i % 2 ? 'ECS' : 'VPC',
            user: { name: i % 3 ? 'alice' : 'bob', access_key_id: i % 3 ? 'AKA' : 'AKB' },
            resource_id: `r${i % 4}`,
            resource_name: `n${i % 4}`,
            resource_type: i < 6 ? 'ecs' : 'vpc',
            trace_name: i % 5 ? 'create' : 'delete',
            trace_rating: i === 7 ? 'incident' : 'normal',
            enterprise_project_id: i === 8 ? 'ep1' : undefined,
          }),
        );
        const data = Array.from({ length: 3 }, (_, i) =>
          trace({ time: base + i, event_type: 'data', tracker_name: 'bucketlog', trace_type: 'ObsSDK' }),
        );
        const foreign = trace({ time: base, project_id: P2, domain_id: D2 });
        await put(store, P1, [], [...system.slice(0, 7), ...data]);
        await put(store, P1, [], system.slice(7));
        await put(store, P2, [tracker(P2, 'system')], [foreign]);

        const newestFirst = [...system].sort((a, b) =>
          a.time === b.time ? (a.trace_id < b.trace_id ? 1 : -1) : b.time - a.time,
        );
        assert.deepEqual(
          ids(await store.listTraces(query())),
          newestFirst.map((t) => t.trace_id),
        );
        const page = await store.listTraces(query());
        assert.deepEqual(JSON.parse(page.wire[0]!), toWireTrace(newestFirst[0]!), 'the wire JSON as recorded');
        assert.equal(page.next, undefined);

        // Exclusive bounds.
        assert.deepEqual(
          ids(await store.listTraces(query({ from: base, to: base + 3000 }))),
          newestFirst.filter((t) => t.time > base && t.time < base + 3000).map((t) => t.trace_id),
        );
        // Each filter alone, and several together.
        const cases: Array<[TraceQuery['filters'], (t: Trace) => boolean]> = [
          [{ service_type: 'ECS' }, (t) => t.service_type === 'ECS'],
          [{ user: 'bob' }, (t) => t.user.name === 'bob'],
          [{ resource_id: 'r1' }, (t) => t.resource_id === 'r1'],
          [{ resource_name: 'n2' }, (t) => t.resource_name === 'n2'],
          [{ resource_type: 'vpc' }, (t) => t.resource_type === 'vpc'],
          [{ trace_name: 'delete' }, (t) => t.trace_name === 'delete'],
          [{ trace_rating: 'incident' }, (t) => t.trace_rating === 'incident'],
          [{ access_key_id: 'AKB' }, (t) => t.user.access_key_id === 'AKB'],
          [{ enterprise_project_id: 'ep1' }, (t) => t.enterprise_project_id === 'ep1'],
          [
            { service_type: 'ECS', user: 'alice', resource_type: 'ecs' },
            (t) => t.service_type === 'ECS' && t.user.name === 'alice' && t.resource_type === 'ecs',
          ],
          [{ service_type: 'NONE' }, () => false],
        ];
        for (const [filters, keep] of cases) {
          assert.deepEqual(
            ids(await store.listTraces(query({ filters }))),
            newestFirst.filter(keep).map((t) => t.trace_id),
            JSON.stringify(filters),
          );
        }
        // Pages of 2 walk the whole list, splitting groups of equal time.
        const walked: string[] = [];
        let after: TraceQuery['after'];
        for (let i = 0; i < 10; i++) {
          const p = await store.listTraces(query({ limit: 2, after }));
          walked.push(...ids(p));
          if (!p.next) break;
          assert.deepEqual(
            await store.findTracePosition(P1, 'system', 'system', p.next.traceId),
            p.next,
            'a marker resolves to the position the page ended at',
          );
          after = p.next;
        }
        assert.deepEqual(
          walked,
          newestFirst.map((t) => t.trace_id),
        );
        // trace_id ignores the other filters, but not the scope.
        const target = system[4]!;
        const byId = query({ traceId: target.trace_id, filters: { service_type: 'NONE' } });
        assert.deepEqual(ids(await store.listTraces(byId)), [target.trace_id]);
        assert.deepEqual(ids(await store.listTraces({ ...byId, projectId: P2 })), []);
        assert.deepEqual(ids(await store.listTraces({ ...byId, trackerName: undefined })), [target.trace_id]);
        // Data traces: of one tracker, or of every data tracker.
        const dataNewest = [...data].reverse().map((t) => t.trace_id);
        assert.deepEqual(
          ids(await store.listTraces(query({ eventType: 'data', trackerName: 'bucketlog' }))),
          dataNewest,
        );
        assert.deepEqual(ids(await store.listTraces(query({ eventType: 'data', trackerName: undefined }))), dataNewest);
        assert.deepEqual(await store.findTracePosition(P1, 'data', undefined, data[1]!.trace_id), {
          time: data[1]!.time,
          traceId: data[1]!.trace_id,
        });
        assert.equal(await store.findTracePosition(P1, 'system', 'system', data[1]!.trace_id), undefined);
        assert.equal(await store.findTracePosition(P1, 'system', 'system', 'not-a-trace'), undefined);
        // Isolation between projects.
        assert.deepEqual(ids(await store.listTraces(query({ projectId: P2 }))), [foreign.trace_id]);
      }));

    test('values with U+0000 are stored, filtered on and looked up without an error', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        const odd = trace({ resource_name: 'a\u0000b', trace_name: '\u0000', user: { name: 'x\u0000' } });
        await put(store, P1, [tracker(P1, 'system')], [odd, trace()]);
        const page = await store.listTraces(query({ filters: { resource_name: 'a\u0000b', user: 'x\u0000' } }));
        assert.deepEqual(ids(page), [odd.trace_id]);
        assert.equal((JSON.parse(page.wire[0]!) as Trace).resource_name, 'a\u0000b', 'the wire keeps the exact value');
        assert.equal(await store.findTracePosition(P1, 'system', 'system', '\u0000'), undefined);
        assert.deepEqual(ids(await store.listTraces(query({ traceId: 'x\u0000' }))), []);
        assert.equal(await store.getCredential('AK\u0000'), undefined);
        assert.deepEqual(await store.listTrackers('p\u0000'), []);
      }));

    test('long values (10,000 characters in every filter column) are stored and filtered on exactly', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        const long = (c: string) => c.repeat(10_000);
        const odd = trace({
          service_type: long('s'),
          resource_type: long('t'),
          resource_id: long('i'),
          resource_name: long('𐀀'),
          trace_name: long('n'),
          user: { name: long('u'), access_key_id: long('k') },
        });
        // Same first thousands of characters, different end: equality still tells them apart.
        const near = trace({ resource_name: long('𐀀') + 'x' });
        await put(store, P1, [tracker(P1, 'system')], [odd, near]);
        for (const filters of [
          { service_type: long('s') },
          { resource_type: long('t') },
          { resource_id: long('i') },
          { resource_name: long('𐀀') },
          { trace_name: long('n') },
          { user: long('u') },
          { access_key_id: long('k') },
        ]) {
          assert.deepEqual(ids(await store.listTraces(query({ filters }))), [odd.trace_id], Object.keys(filters)[0]);
        }
      }));

    test('delivery reads: max seq per tracker, ranges in commit order with limits, traces round-trip', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        await put(store, P1, [tracker(P1, 'system'), tracker(P1, 'bucketlog')]);
        assert.equal(await store.maxTraceSeq(P1, 'system'), 0);
        const rich = trace({ user_agent: 'sdk/1', content_length: 12, total_time: 34, request: '{"a":1}' });
        const batch = [rich, ...Array.from({ length: 5 }, () => trace())];
        await put(store, P1, [], batch);
        await put(store, P1, [], [trace({ event_type: 'data', tracker_name: 'bucketlog', trace_type: 'ObsAPI' })]);
        const later = trace();
        await put(store, P1, [], [later]);
        const max = await store.maxTraceSeq(P1, 'system');
        const all = await store.readTracesForDelivery(P1, 'system', 0, max, 100);
        assert.deepEqual(
          all.map((r) => r.trace.trace_id),
          [...batch, later].map((t) => t.trace_id),
          'commit order',
        );
        assert.equal(all[all.length - 1]!.seq, max);
        assert.ok(all.every((r, i) => i === 0 || r.seq > all[i - 1]!.seq));
        assert.deepEqual(all[0]!.trace, rich, 'every stored field comes back');
        const middle = await store.readTracesForDelivery(P1, 'system', all[1]!.seq, all[4]!.seq, 2);
        assert.deepEqual(
          middle.map((r) => r.seq),
          [all[2]!.seq, all[3]!.seq],
        );
        assert.equal((await store.readTracesForDelivery(P1, 'bucketlog', 0, Number.MAX_SAFE_INTEGER, 10)).length, 1);
        assert.ok((await store.maxTraceSeq(P1, 'bucketlog')) < max);
        assert.equal(await store.maxTraceSeq(P2, 'system'), 0);
      }));

    test('delivery state, delivered files and digests', () =>
      withStore(kind, async ({ store }) => {
        assert.equal(await store.getDeliveryState('p1000000-system'), undefined);
        const planned = deliveryState({ cursor_seq: 3, pending_to: 9, pending_time: 1234, pending_layout: '{"b":1}' });
        await store.putDeliveryState(planned);
        assert.deepEqual(await store.getDeliveryState('p1000000-system'), planned);
        const delivered = deliveryState({ cursor_seq: 9, digest_start: 1000 });
        await store.completeDelivery(delivered, [file('k2', { delivered_at: 2000 }), file('k1'), file('k3')]);
        // A retry of the same batch records its files once.
        await store.completeDelivery(delivered, [file('k1')]);
        assert.deepEqual(await store.getDeliveryState('p1000000-system'), delivered);
        assert.deepEqual(
          (await store.undigestedFiles('p1000000-system', 1500)).map((f) => f.object_key),
          ['k1', 'k3'],
        );
        assert.deepEqual((await store.undigestedFiles('p1000000-system', 5000))[0], file('k1'));
        const digested = deliveryState({ cursor_seq: 9, digest_start: 3000, last_digest: '{"x":1}' });
        await store.completeDigest(digested, 'digest-1', ['k1', 'k3']);
        assert.deepEqual(
          (await store.undigestedFiles('p1000000-system', 5000)).map((f) => f.object_key),
          ['k2'],
        );
        assert.deepEqual(await store.getDeliveryState('p1000000-system'), digested);
        await store.putDeliveryState(deliveryState({ tracker_id: 'a-first' }));
        assert.deepEqual(
          (await store.listDeliveryStates()).map((s) => s.tracker_id),
          ['a-first', 'p1000000-system'],
        );
        await store.deleteDeliveryState('a-first');
        assert.deepEqual(await store.listDeliveryStates(), [digested]);
      }));

    test('consumer cursors: set, overwrite, list in order, delete', () =>
      withStore(kind, async ({ store }) => {
        assert.equal(await store.getCursor('lts:x'), undefined);
        await store.setCursor('lts:x', 5);
        await store.setCursor('delivery:a', 7);
        await store.setCursor('lts:x', 9);
        assert.equal(await store.getCursor('lts:x'), 9);
        assert.deepEqual(await store.listCursors(), [
          { consumer: 'delivery:a', seq: 7 },
          { consumer: 'lts:x', seq: 9 },
        ]);
        await store.deleteCursor('lts:x');
        assert.deepEqual(await store.listCursors(), [{ consumer: 'delivery:a', seq: 7 }]);
      }));

    test('leases: one holder at a time, renewal keeps the generation, takeover after expiry fences the old holder', () =>
      withStore(kind, async ({ store }) => {
        const a = await store.acquireLease('delivery:t1', 'instance-a', 300);
        assert.ok(a);
        assert.equal(a.holder, 'instance-a');
        assert.equal(await store.acquireLease('delivery:t1', 'instance-b', 300), undefined, 'held by a');
        assert.ok(await store.acquireLease('delivery:t2', 'instance-b', 300), 'another name is free');
        const renewed = await store.acquireLease('delivery:t1', 'instance-a', 300);
        assert.equal(renewed?.generation, a.generation);
        assert.ok(renewed!.expires_at >= a.expires_at);
        await store.putDeliveryState(deliveryState({ cursor_seq: 1 }), renewed);
        await new Promise((r) => setTimeout(r, 400));
        const b = await store.acquireLease('delivery:t1', 'instance-b', 60_000);
        assert.ok(b, 'expired: b takes over');
        assert.ok(b.generation > a.generation);
        // a paused past its lease: its writes are refused and change nothing.
        await assert.rejects(store.putDeliveryState(deliveryState({ cursor_seq: 99 }), a), LeaseLostError);
        await assert.rejects(store.completeDelivery(deliveryState({ cursor_seq: 99 }), [file('x')], a), LeaseLostError);
        await assert.rejects(store.completeDigest(deliveryState({ cursor_seq: 99 }), 'd', ['x'], a), LeaseLostError);
        assert.equal((await store.getDeliveryState('p1000000-system'))?.cursor_seq, 1);
        assert.deepEqual(await store.undigestedFiles('p1000000-system', Number.MAX_SAFE_INTEGER), []);
        await store.completeDelivery(deliveryState({ cursor_seq: 5 }), [file('y')], b);
        assert.equal((await store.getDeliveryState('p1000000-system'))?.cursor_seq, 5);
        // A clean stop hands over at once.
        await store.releaseLease(b);
        await assert.rejects(store.putDeliveryState(deliveryState(), b), LeaseLostError);
        const c = await store.acquireLease('delivery:t1', 'instance-c', 60_000);
        assert.ok(c && c.generation > b.generation);
        await store.releaseLease(a); // a stale release does nothing
        assert.equal(await store.acquireLease('delivery:t1', 'instance-a', 60_000), undefined);
      }));

    test('leases: of 20 holders asking at once, exactly one gets it', () =>
      withStore(kind, async ({ store }) => {
        const got = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.acquireLease('digest:t', `holder-${i}`, 60_000)),
        );
        assert.equal(got.filter((l) => l !== undefined).length, 1);
      }));

    test('signing keys: a new key retires the others, all stay listed', () =>
      withStore(kind, async ({ store }) => {
        const key = (n: number) => ({
          fingerprint: `fp${n}`,
          public_key_pem: `pem${n}`,
          private_key_sealed: `sealed${n}`,
          created_at: n * 1000,
          retired_at: null,
        });
        await store.addSigningKey(key(1));
        await store.addSigningKey(key(2));
        assert.deepEqual(await store.listSigningKeys(), [{ ...key(1), retired_at: 2000 }, key(2)]);
      }));

    test('retention purge: old consumed traces go, young ones and those a consumer has not passed stay', () =>
      withStore(kind, async ({ store }) => {
        await withProjects(store);
        await put(store, P1, [tracker(P1, 'system')]);
        const now = Date.now();
        const old = Array.from({ length: 5 }, () => trace({ record_time: now - 10 * DAY }));
        const young = Array.from({ length: 3 }, () => trace({ record_time: now }));
        await put(store, P1, [], old);
        await put(store, P1, [], young);
        const seqs = (await store.readTracesForDelivery(P1, 'system', 0, Number.MAX_SAFE_INTEGER, 100)).map(
          (r) => r.seq,
        );
        const purgeAll = async () => {
          let total = 0;
          for (;;) {
            const n = await store.purgeTraces(now - 7 * DAY, 1000);
            total += n;
            if (n === 0) return total;
          }
        };
        // A consumer still needs the second old trace: nothing after it may go.
        await store.setCursor('delivery:slow', seqs[0]!);
        await store.putDeliveryState(deliveryState({ cursor_seq: seqs[7]! }));
        const early = await purgeAll();
        assert.ok(early <= 1, 'at most what the consumer passed');
        assert.ok(
          (await store.readTracesForDelivery(P1, 'system', seqs[0]!, Number.MAX_SAFE_INTEGER, 100)).length >= 7,
        );
        await store.setCursor('delivery:slow', seqs[7]!);
        assert.equal(early + (await purgeAll()), 5, 'every expired trace, counted');
        assert.deepEqual(
          ids(await store.listTraces(query())),
          [...young].reverse().map((t) => t.trace_id),
        );
        assert.equal(await store.purgeTraces(now - 7 * DAY, 1000), 0);
        // New traces still go in after the purge.
        await put(store, P1, [], [trace()]);
        assert.equal((await store.listTraces(query())).wire.length, 4);
      }));

    test('everything survives closing and reopening the store', () =>
      withStore(kind, async (opened) => {
        await withProjects(opened.store);
        const key = credential();
        await opened.store.addCredential(key);
        await put(opened.store, P1, [tracker(P1, 'system')], [trace(), trace()]);
        await opened.store.setCursor('c', 1);
        const store = await opened.reopen();
        assert.deepEqual(await store.getCredential(key.access_key_id), key);
        assert.equal((await store.listTrackers(P1)).length, 1);
        assert.equal((await store.listTraces(query())).wire.length, 2);
        assert.equal(await store.getCursor('c'), 1);
        await put(store, P1, [], [trace()]);
        assert.equal((await store.listTraces(query())).wire.length, 3);
      }));

    test('close finishes the writes already queued', () =>
      withStore(kind, async (opened) => {
        await withProjects(opened.store);
        const writes = Array.from({ length: 20 }, (_, i) => opened.store.setCursor(`c${i}`, i));
        await opened.store.close();
        await Promise.all(writes);
        const store = await opened.reopen();
        assert.equal((await store.listCursors()).length, 20);
      }));
  });
}
