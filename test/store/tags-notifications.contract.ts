/**
 * The Store contract of issue 7's methods, run unchanged against SQLite and PostgreSQL by
 * sqlite-store.test.ts and postgres-store.test.ts: tracker tags, project configuration, the
 * catalogue of seen operations and users, key-event notifications with their topics, cursors
 * and dead letters, and the signal after a commit that added traces. Every change and its
 * traces commit together or not at all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Notification } from '../../src/core/notification/notification.js';
import {
  notificationConsumer,
  type DeadLetter,
  type NotificationChange,
  type Store,
  type TopicWithSecret,
} from '../../src/store/store.js';
import type { StoreKind } from '../support/service.js';
import { openTestStore, trace, tracker, type OpenedStore } from './store.contract.js';

const P1 = 'p1000000000000000000000000000001';
const P2 = 'p2000000000000000000000000000002';
const D1 = 'd1000000000000000000000000000001';
const D2 = 'd2000000000000000000000000000002';
const MINUTE = 60_000;

async function withStore(kind: StoreKind, work: (opened: OpenedStore) => Promise<void>): Promise<void> {
  const opened = await openTestStore(kind);
  try {
    await opened.store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
    await opened.store.ensureProject({ project_id: P2, domain_id: D2, name: 'two', created_at: 2 });
    await work(opened);
  } finally {
    await opened.dispose();
  }
}

function put(store: Store, projectId: string, trackers: ReturnType<typeof tracker>[], traces = [trace()]) {
  return store.changeTrackers(projectId, () => ({ upsert: trackers, traces, result: undefined }));
}

async function traceNames(store: Store, projectId = P1): Promise<string[]> {
  const page = await store.listTraces({
    projectId,
    eventType: 'system',
    trackerName: 'system',
    from: 0,
    to: Number.MAX_SAFE_INTEGER,
    limit: 1000,
    filters: {},
  });
  return page.wire.map((w) => (JSON.parse(w) as { trace_name: string }).trace_name).sort();
}

function notification(name: string, overrides: Partial<Notification> = {}): Notification {
  return {
    notification_id: `n-${name}`,
    notification_name: name,
    operation_type: 'complete',
    operations: [],
    notify_user_list: [],
    status: 'enabled',
    topic_id: 'urn:smn:region:p1:topic',
    notification_type: 'smn',
    project_id: P1,
    domain_id: D1,
    create_time: 1_795_000_000_000,
    ...overrides,
  };
}

function topic(name: string, overrides: Partial<TopicWithSecret> = {}): TopicWithSecret {
  return {
    urn: `urn:smn:region:${P1}:${name}`,
    project_id: P1,
    url: `http://127.0.0.1:9/${name}`,
    created_at: 1_795_000_000_000,
    secret: `secret-of-${name}`,
    ...overrides,
  };
}

function letter(traceId: string, overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: `dl-${traceId}`,
    project_id: P1,
    notification_id: 'n-alerts',
    notification_name: 'alerts',
    topic_urn: topic('t').urn,
    trace_id: traceId,
    trace_seq: 1,
    body: '{"trace_id":"x"}',
    attempts: 3,
    last_error: 'HTTP 500',
    failed_at: 1000,
    retry_requested_at: null,
    ...overrides,
  };
}

function changeNotifications<T>(store: Store, change: Omit<NotificationChange<T>, 'result'> & { result?: T }) {
  return store.changeNotifications(P1, () => ({ result: undefined as T, ...change }));
}

export function tagsAndNotificationsContract(kind: StoreKind): void {
  describe(`Store contract on ${kind}: tags, configuration, catalogue, notifications`, () => {
    test('tags: a change replaces the tracker tag set with its traces; the planner sees the current state', () =>
      withStore(kind, async ({ store }) => {
        const system = tracker(P1, 'system');
        const data = tracker(P1, 'bucketlog');
        await put(store, P1, [system, data], []);
        await put(store, P2, [tracker(P2, 'system')], []);
        assert.deepEqual(await store.listTags(P1), []);
        const seen: unknown[] = [];
        const result = await store.changeTags(P1, data.id, (trackers, tags) => {
          seen.push([trackers.map((t) => t.tracker_name), tags]);
          return {
            tags: [
              { key: 'team', value: 'ops' },
              { key: 'env', value: 'prod' },
            ],
            traces: [trace({ trace_name: 'batchCreateTags' })],
            result: 'done',
          };
        });
        assert.equal(result, 'done');
        await store.changeTags(P1, system.id, (_, tags) => {
          seen.push(tags);
          return { tags: [{ key: 'owner', value: '' }], result: undefined };
        });
        await store.changeTags(P2, tracker(P2, 'system').id, () => ({
          tags: [{ key: 'other', value: 'project' }],
          result: undefined,
        }));
        assert.deepEqual(seen, [[['system', 'bucketlog'], []], []]);
        assert.deepEqual(await store.listTags(P1), [
          { tracker_id: data.id, key: 'env', value: 'prod' },
          { tracker_id: data.id, key: 'team', value: 'ops' },
          { tracker_id: system.id, key: 'owner', value: '' },
        ]);
        assert.deepEqual(await traceNames(store), ['batchCreateTags']);
        // The next change sees the committed set, and replaces it whole.
        await store.changeTags(P1, data.id, (_, tags) => {
          assert.deepEqual(tags, [
            { key: 'env', value: 'prod' },
            { key: 'team', value: 'ops' },
          ]);
          return { tags: [{ key: 'team', value: 'dev' }], result: undefined };
        });
        assert.deepEqual(
          (await store.listTags(P1)).filter((t) => t.tracker_id === data.id),
          [{ tracker_id: data.id, key: 'team', value: 'dev' }],
        );
        assert.deepEqual(await store.listTags(P2), [
          { tracker_id: tracker(P2, 'system').id, key: 'other', value: 'project' },
        ]);
      }));

    test('tags: a refused change and a change of an unknown tracker leave nothing; deleting a tracker deletes its tags', () =>
      withStore(kind, async ({ store }) => {
        const data = tracker(P1, 'bucketlog');
        await put(store, P1, [tracker(P1, 'system'), data], []);
        await store.changeTags(P1, data.id, () => ({ tags: [{ key: 'k', value: 'v' }], result: undefined }));
        await assert.rejects(
          store.changeTags(P1, data.id, () => {
            throw new Error('too many tags');
          }),
          /too many tags/,
        );
        await assert.rejects(
          store.changeTags(P1, 'no-such-tracker', () => ({
            tags: [{ key: 'k', value: 'v' }],
            traces: [trace({ trace_name: 'lost' })],
            result: undefined,
          })),
        );
        await assert.rejects(
          store.changeTags(P2, data.id, () => ({ tags: [], result: undefined })),
          'a tracker of another project',
        );
        assert.deepEqual(await store.listTags(P1), [{ tracker_id: data.id, key: 'k', value: 'v' }]);
        assert.deepEqual(await traceNames(store), []);
        await store.changeTrackers(P1, () => ({ remove: [data.id], result: undefined }));
        assert.deepEqual(await store.listTags(P1), []);
        // A tracker of the same name created again starts without tags.
        await put(store, P1, [data], []);
        assert.deepEqual(await store.listTags(P1), []);
      }));

    test('a tag write that fails after writing rolls back alone: its tags, traces and catalogue entries are gone', () =>
      withStore(kind, async ({ store }) => {
        const data = tracker(P1, 'bucketlog');
        await put(store, P1, [tracker(P1, 'system'), data], []);
        await store.changeTags(P1, data.id, () => ({ tags: [{ key: 'k', value: 'v' }], result: undefined }));
        const outcomes = await Promise.allSettled([
          put(store, P1, [], [trace({ trace_name: 'kept' })]),
          // The same key twice breaks the primary key when the new set is written (after the old one was deleted).
          store.changeTags(P1, data.id, () => ({
            tags: [
              { key: 'dup', value: '1' },
              { key: 'dup', value: '2' },
            ],
            traces: [trace({ trace_name: 'lost' })],
            result: undefined,
          })),
          put(store, P1, [], [trace({ trace_name: 'kept2' })]),
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.deepEqual(await store.listTags(P1), [{ tracker_id: data.id, key: 'k', value: 'v' }]);
        assert.deepEqual(await traceNames(store), ['kept', 'kept2']);
        assert.deepEqual((await store.listSeenOperations(P1)).map((o) => o.trace_name).sort(), ['kept', 'kept2']);
        await store.changeTags(P1, data.id, () => ({
          tags: [],
          traces: [trace({ trace_name: 'lost' })],
          result: undefined,
        }));
        assert.ok((await store.listSeenOperations(P1)).some((o) => o.trace_name === 'lost'));
      }));

    test('configuration: undefined until set, replaced whole with its traces, refused changes leave nothing', () =>
      withStore(kind, async ({ store }) => {
        await put(store, P1, [tracker(P1, 'system')], []);
        assert.equal(await store.getConfiguration(P1), undefined);
        const first = { is_sync_global_trace: true, is_support_read_only: false, support_read_only_services: [] };
        const seen: unknown[] = [];
        await store.changeConfiguration(P1, (trackers, current) => {
          seen.push([trackers.length, current]);
          return { configuration: first, traces: [trace({ trace_name: 'updateConfiguration' })], result: undefined };
        });
        const second = { is_sync_global_trace: false, is_support_read_only: true, support_read_only_services: ['ECS'] };
        const result = await store.changeConfiguration(P1, (_, current) => {
          seen.push(current);
          return { configuration: second, result: 7 };
        });
        assert.equal(result, 7);
        assert.deepEqual(seen, [[1, undefined], first]);
        assert.deepEqual(await store.getConfiguration(P1), second);
        assert.equal(await store.getConfiguration(P2), undefined);
        await assert.rejects(
          store.changeConfiguration(P1, () => {
            throw new Error('refused');
          }),
          /refused/,
        );
        assert.deepEqual(await store.getConfiguration(P1), second);
        assert.deepEqual(await traceNames(store), ['updateConfiguration']);
      }));

    test('catalogue: operations per project, resources per domain, active users to the minute', () =>
      withStore(kind, async ({ store }) => {
        await put(store, P1, [tracker(P1, 'system')], []);
        await put(store, P2, [tracker(P2, 'system')], []);
        const t0 = 1_795_100_000_000;
        await put(
          store,
          P1,
          [],
          [
            trace({ time: t0, service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' }),
            trace({ time: t0 + 1, service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' }),
            trace({ time: t0 + 2, service_type: 'ECS', resource_type: 'ecs', trace_name: 'deleteServer' }),
            trace({ time: t0 + 3, service_type: 'VPC', resource_type: 'vpc', trace_name: 'createVpc' }),
            trace({ time: t0 + 4, user: { name: 'bob' } }),
            trace({ time: t0 + 5, user: { id: 'no-name' } }),
          ],
        );
        await put(
          store,
          P2,
          [],
          [trace({ project_id: P2, domain_id: D2, service_type: 'OBS', resource_type: 'bucket', time: t0 })],
        );
        const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
        assert.deepEqual(
          sorted(await store.listSeenOperations(P1)),
          sorted([
            { service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' },
            { service_type: 'ECS', resource_type: 'ecs', trace_name: 'deleteServer' },
            { service_type: 'VPC', resource_type: 'vpc', trace_name: 'createVpc' },
          ]),
        );
        assert.deepEqual(
          sorted(await store.listSeenResources(D1)),
          sorted([
            { service_type: 'ECS', resource_type: 'ecs' },
            { service_type: 'VPC', resource_type: 'vpc' },
          ]),
        );
        assert.deepEqual(await store.listSeenResources(D2), [{ service_type: 'OBS', resource_type: 'bucket' }]);
        assert.deepEqual(await store.listActiveUsers(P1, 0), ['alice', 'bob']);
        assert.deepEqual(await store.listActiveUsers(P1, t0 + 4), ['bob']);
        assert.deepEqual(await store.listActiveUsers(P1, t0 + 2 * MINUTE), []);
        // A later trace moves last_seen on; an older one never moves it back.
        await put(
          store,
          P1,
          [],
          [trace({ time: t0 + 10 * MINUTE }), trace({ time: t0 - MINUTE, user: { name: 'bob' } })],
        );
        assert.deepEqual(await store.listActiveUsers(P1, t0 + 5 * MINUTE), ['alice']);
        assert.deepEqual(await store.listActiveUsers(P1, t0 + 4), ['alice', 'bob']);
        assert.deepEqual(await store.listActiveUsers(P2, 0), ['alice']);
        // Changes of tags and configuration add to the catalogue too.
        await store.changeConfiguration(P1, () => ({
          configuration: { is_sync_global_trace: false, is_support_read_only: false, support_read_only_services: [] },
          traces: [trace({ service_type: 'CTS', resource_type: 'configuration', trace_name: 'updateConfiguration' })],
          result: undefined,
        }));
        assert.ok(
          (await store.listSeenOperations(P1)).some((o) => o.trace_name === 'updateConfiguration'),
          'recorded with the configuration change',
        );
      }));

    test('catalogue: a write that rolled back is not listed, and the same operation written later is', () =>
      withStore(kind, async ({ store }) => {
        await put(store, P1, [tracker(P1, 'system')], []);
        const rolledBack = trace({ service_type: 'RDS', resource_type: 'rds', trace_name: 'rolledBack' });
        const results = await Promise.allSettled([
          put(store, P1, [], [trace({ trace_name: 'neighbour' })]),
          // The second trace belongs to another project: the write fails, its first trace with it.
          put(store, P1, [], [rolledBack, trace({ project_id: P2, domain_id: D2, trace_name: 'foreign' })]),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected'],
        );
        const names = async () => (await store.listSeenOperations(P1)).map((o) => o.trace_name).sort();
        assert.deepEqual(await names(), ['neighbour']);
        await put(store, P1, [], [rolledBack]);
        assert.deepEqual(await names(), ['neighbour', 'rolledBack']);
        assert.deepEqual(await store.listSeenOperations(P2), []);
      }));

    test('notifications: upsert, list, enable and disable move the delivery cursor; traces commit with the change', () =>
      withStore(kind, async ({ store }) => {
        await put(store, P1, [tracker(P1, 'system')], [trace(), trace()]);
        const newest = await store.maxTraceSeq(P1, 'system');
        const alerts = notification('alerts');
        const quiet = notification('quiet', { status: 'disabled' });
        const result = await store.changeNotifications(P1, (state) => {
          assert.deepEqual(state.notifications, []);
          assert.deepEqual(state.topics, []);
          assert.deepEqual(state.deadLetters(), []);
          assert.deepEqual(
            state.trackers.map((t) => t.tracker_name),
            ['system'],
          );
          return {
            upsert: [alerts, quiet],
            addTopics: [topic('t')],
            traces: [trace({ trace_name: 'createNotification' })],
            result: 'created',
          };
        });
        assert.equal(result, 'created');
        assert.deepEqual(await store.listNotifications(P1), [alerts, quiet], 'in creation order');
        assert.deepEqual(await store.listNotifications(P2), []);
        assert.deepEqual(await store.listEnabledNotifications(), [alerts]);
        assert.equal(
          await store.getCursor(notificationConsumer(alerts.notification_id)),
          newest,
          'enabled: starts after the newest trace committed before the change',
        );
        assert.equal(await store.getCursor(notificationConsumer(quiet.notification_id)), undefined);
        assert.ok((await traceNames(store)).includes('createNotification'));
        // The cursor only moves forward, and only while the notification has one.
        assert.equal(await store.advanceNotificationCursor(alerts.notification_id, newest + 5), true);
        assert.equal(await store.advanceNotificationCursor(alerts.notification_id, newest + 1), true);
        assert.equal(await store.getCursor(notificationConsumer(alerts.notification_id)), newest + 5);
        assert.equal(await store.advanceNotificationCursor(quiet.notification_id, 99), false);
        assert.equal(await store.getCursor(notificationConsumer(quiet.notification_id)), undefined);
        // Re-saving an enabled notification keeps its cursor; an update keeps the list order.
        await changeNotifications(store, { upsert: [{ ...alerts, operation_type: 'customized' }] });
        assert.equal(await store.getCursor(notificationConsumer(alerts.notification_id)), newest + 5);
        assert.deepEqual(
          (await store.listNotifications(P1)).map((n) => [n.notification_name, n.operation_type]),
          [
            ['alerts', 'customized'],
            ['quiet', 'complete'],
          ],
        );
        // Disable: the cursor goes (it must not hold back the purge); enable again: a new one.
        await changeNotifications(store, { upsert: [{ ...alerts, status: 'disabled' }] });
        assert.equal(await store.getCursor(notificationConsumer(alerts.notification_id)), undefined);
        assert.deepEqual(await store.listEnabledNotifications(), []);
        await changeNotifications(store, { upsert: [{ ...quiet, status: 'enabled' }] });
        assert.ok((await store.getCursor(notificationConsumer(quiet.notification_id))) !== undefined);
        await changeNotifications(store, { remove: [quiet.notification_id] });
        assert.equal(await store.getCursor(notificationConsumer(quiet.notification_id)), undefined);
        assert.deepEqual(
          (await store.listNotifications(P1)).map((n) => n.notification_name),
          ['alerts'],
        );
        // A refused plan leaves nothing.
        await assert.rejects(
          store.changeNotifications(P1, () => {
            throw new Error('quota');
          }),
          /quota/,
        );
        await assert.rejects(
          changeNotifications(store, {
            upsert: [notification('dup', { notification_id: 'n-other', notification_name: 'alerts' })],
          }),
          'a second notification of the same name',
        );
        assert.equal((await store.listNotifications(P1)).length, 1);
      }));

    test('topics: secrets are opened for the notifier, never listed; removed topics are gone', () =>
      withStore(kind, async (opened) => {
        const { store } = opened;
        await changeNotifications(store, { addTopics: [topic('a'), topic('b')] });
        assert.deepEqual(await store.listTopics(P1), [
          { urn: topic('a').urn, project_id: P1, url: topic('a').url, created_at: topic('a').created_at },
          { urn: topic('b').urn, project_id: P1, url: topic('b').url, created_at: topic('b').created_at },
        ]);
        assert.deepEqual(await store.getTopicSecret(P1, topic('a').urn), topic('a'));
        assert.equal(await store.getTopicSecret(P2, topic('a').urn), undefined, 'of its project only');
        await assert.rejects(changeNotifications(store, { addTopics: [topic('a')] }), 'the same urn twice');
        await changeNotifications(store, { removeTopics: [topic('a').urn] });
        assert.equal(await store.getTopicSecret(P1, topic('a').urn), undefined);
        const reopened = await opened.reopen();
        assert.deepEqual(await reopened.getTopicSecret(P1, topic('b').urn), topic('b'), 'opened after a reopen');
        assert.deepEqual(await reopened.listTopics(P2), []);
      }));

    test('dead letters: one per notification and trace, retry requests, resolve and failed retries', () =>
      withStore(kind, async ({ store }) => {
        await store.deadLetterNotification(letter('t1', { failed_at: 2000 }));
        await store.deadLetterNotification(letter('t2', { failed_at: 1000 }));
        // The same message failing again (after a crash) adds its attempts to the one letter.
        await store.deadLetterNotification(
          letter('t1', { id: 'dl-again', attempts: 2, last_error: 'timeout', failed_at: 3000 }),
        );
        await store.deadLetterNotification(letter('t9', { project_id: P2, notification_id: 'n-p2' }));
        assert.deepEqual(await store.listDeadLetters(P1), [
          letter('t2', { failed_at: 1000 }),
          letter('t1', { attempts: 5, last_error: 'timeout', failed_at: 3000 }),
        ]);
        assert.deepEqual(await store.listRetryRequested(10), []);
        await store.changeNotifications(P1, (state) => {
          assert.deepEqual(
            state.deadLetters().map((l) => l.id),
            ['dl-t2', 'dl-t1'],
            'the planner reads them in the transaction',
          );
          return { retryDeadLetters: ['dl-t1', 'dl-t2', 'dl-t9'], result: undefined };
        });
        const requested = await store.listRetryRequested(10);
        assert.deepEqual(requested.map((l) => l.id).sort(), ['dl-t1', 'dl-t2'], 'not the letter of another project');
        assert.ok(requested.every((l) => typeof l.retry_requested_at === 'number'));
        assert.equal((await store.listRetryRequested(1)).length, 1);
        await store.resolveDeadLetter('dl-t2');
        await store.failDeadLetterRetry('dl-t1', 6, 'HTTP 503', 4000);
        assert.deepEqual(await store.listDeadLetters(P1), [
          letter('t1', { attempts: 6, last_error: 'HTTP 503', failed_at: 4000 }),
        ]);
        assert.deepEqual(await store.listRetryRequested(10), []);
        assert.equal((await store.listDeadLetters(P2)).length, 1);
      }));

    test('the commit signal: once per commit that added traces, not for other writes, until unsubscribed', () =>
      withStore(kind, async ({ store }) => {
        await put(store, P1, [tracker(P1, 'system')], []);
        const settle = () => new Promise((r) => setTimeout(r, 20));
        await settle();
        let calls = 0;
        let twice = 0;
        const listener = () => twice++;
        const unsubscribe = store.onTracesCommitted(() => {
          calls++;
          throw new Error('a failing listener does not fail the write');
        });
        const unsubscribeA = store.onTracesCommitted(listener);
        const unsubscribeB = store.onTracesCommitted(listener);
        await put(store, P1, [], [trace()]);
        await settle();
        assert.ok(calls >= 1, 'told after a commit with traces');
        assert.equal(twice, 2 * calls, 'the same function subscribed twice is called twice');
        const before = calls;
        await store.setCursor('c', 1);
        await put(store, P1, [], []);
        await store.changeTags(P1, tracker(P1, 'system').id, () => ({ tags: [], result: undefined }));
        await settle();
        assert.equal(calls, before, 'writes without traces are not signalled');
        for (const write of [
          () =>
            store.changeTags(P1, tracker(P1, 'system').id, () => ({ tags: [], traces: [trace()], result: undefined })),
          () => changeNotifications(store, { traces: [trace()] }),
          () =>
            store.changeConfiguration(P1, () => ({
              configuration: {
                is_sync_global_trace: false,
                is_support_read_only: false,
                support_read_only_services: [],
              },
              traces: [trace()],
              result: undefined,
            })),
        ]) {
          const was = calls;
          await write();
          await settle();
          assert.ok(calls > was, 'traces of every kind of change are signalled');
        }
        unsubscribe();
        unsubscribeA();
        const after = calls;
        await put(store, P1, [], [trace()]);
        await settle();
        assert.equal(calls, after, 'unsubscribed');
        assert.equal(twice, 2 * after + 1, 'the other subscription of the same function still hears');
        unsubscribeB();
      }));
  });
}
