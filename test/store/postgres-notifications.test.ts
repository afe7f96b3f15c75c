/**
 * What only PostgreSQL has among issue 7's tables: migration 3 fills the catalogue from the
 * traces already stored, topic secrets are sealed in the shared database, notifications and
 * dead letters written by one instance are seen by another, and the commit signal reaches the
 * other instances through LISTEN/NOTIFY.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { migratePostgres, PG_MIGRATIONS } from '../../src/store/postgres/pg-migrations.js';
import { dayOf, partitionName, PARTITION_MS } from '../../src/store/postgres/trace-partitions.js';
import { createTestDatabase } from '../support/postgres.js';
import { openTestStore, trace, tracker } from './store.contract.js';
import { openStore } from '../../src/store/open-store.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const P1 = 'p1000000000000000000000000000001';
const D1 = 'd1000000000000000000000000000001';

describe('PostgreSQL: notifications, topics and catalogue', () => {
  test('migration 3 fills the catalogue from the traces already stored', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'opencts-pg3-'));
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => undefined);
    try {
      await migratePostgres(
        pool,
        PG_MIGRATIONS.filter((m) => m.version < 3),
      );
      const old = Date.now() - 40 * 86_400_000;
      const day = dayOf(old);
      await pool.query(`CREATE TABLE ${partitionName(day)} PARTITION OF traces
        FOR VALUES FROM (${day * PARTITION_MS}) TO (${(day + 1) * PARTITION_MS})`);
      await pool.query('INSERT INTO projects VALUES ($1, $2, $3, $4)', [P1, D1, 'p', 0]);
      for (const [id, time, user] of [
        ['t1', old, 'bob'],
        ['t2', old - 5, 'bob'],
        ['t3', old, null],
      ] as const) {
        await pool.query(
          `INSERT INTO traces (trace_id, project_id, domain_id, tracker_name, event_type, time, record_time,
             service_type, resource_type, trace_name, trace_rating, user_name, wire)
           VALUES ($1, $2, $3, 'system', 'system', $4, $4, 'ECS', 'ecs', 'createServer', 'normal', $5, '{}')`,
          [id, P1, D1, time, user],
        );
      }
      await pool.end();
      const { store } = await openStore({ dataDir, store: db.url, durability: 'normal', retentionDays: 7 });
      try {
        assert.deepEqual(await store.listSeenOperations(P1), [
          { service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' },
        ]);
        assert.deepEqual(await store.listSeenResources(D1), [{ service_type: 'ECS', resource_type: 'ecs' }]);
        assert.deepEqual(await store.listActiveUsers(P1, old), ['bob'], 'the newest trace of the user counts');
        assert.deepEqual(await store.listActiveUsers(P1, old + 1), []);
      } finally {
        await store.close();
      }
    } finally {
      await pool.end().catch(() => undefined);
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('topic secrets are sealed in the database; another instance opens them and sees the same state', async () => {
    const opened = await openTestStore('postgres');
    try {
      const a = opened.store;
      const b = await opened.another();
      await a.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await a.changeTrackers(P1, () => ({ upsert: [tracker(P1, 'system')], result: undefined }));
      const secret = 'plain-secret-' + 'x'.repeat(20);
      const urn = `urn:smn:region:${P1}:t`;
      await a.changeNotifications(P1, () => ({
        addTopics: [{ urn, project_id: P1, url: 'http://127.0.0.1:9/', created_at: 1, secret }],
        result: undefined,
      }));
      const client = new pg.Client({ connectionString: opened.url });
      await client.connect();
      try {
        const stored = (await client.query<{ s: string }>('SELECT secret_sealed AS s FROM topics')).rows[0]!.s;
        assert.ok(!stored.includes(secret), 'not in plaintext');
        assert.match(stored, /^v1\./);
      } finally {
        await client.end();
      }
      assert.equal((await b.getTopicSecret(P1, urn))?.secret, secret);
      await b.changeTags(P1, tracker(P1, 'system').id, () => ({ tags: [{ key: 'k', value: 'v' }], result: undefined }));
      assert.deepEqual(await a.listTags(P1), [{ tracker_id: tracker(P1, 'system').id, key: 'k', value: 'v' }]);
    } finally {
      await opened.dispose();
    }
  });

  test("the commit signal: this instance's commits at once, another instance's by LISTEN/NOTIFY, rolled-back ones never", async () => {
    const opened = await openTestStore('postgres');
    try {
      const a = opened.store;
      const b = await opened.another();
      await a.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await a.changeTrackers(P1, () => ({ upsert: [tracker(P1, 'system')], result: undefined }));
      let heard = 0;
      const stop = a.onTracesCommitted(() => heard++);
      const until = async (done: () => boolean) => {
        for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
      };
      // Listening starts with the first listener: commit until the connection hears.
      for (let i = 0; i < 100 && heard === 0; i++) {
        await b.changeTrackers(P1, () => ({ traces: [trace()], result: undefined }));
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(heard > 0, 'listening');
      await new Promise((r) => setTimeout(r, 200));
      heard = 0;
      await b.changeTrackers(P1, () => ({ traces: [trace()], result: undefined }));
      await until(() => heard > 0);
      assert.equal(heard, 1, "another instance's commit");
      await a.changeTrackers(P1, () => ({ traces: [trace(), trace()], result: undefined }));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(heard, 2, 'its own commit once (its own notification is ignored)');
      // A write that fails after inserting its traces rolls back its NOTIFY too.
      await assert.rejects(
        b.changeTrackers(P1, () => ({
          upsert: [{ ...tracker(P1, 'other'), id: 'x', tracker_name: 'system' }],
          traces: [trace()],
          result: undefined,
        })),
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(heard, 2, 'nothing committed, nothing heard');
      // The listening connection breaks: it is opened again, says it may have missed some, and hears on.
      const admin = new pg.Client({ connectionString: opened.url });
      await admin.connect();
      try {
        const killed = await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'opencts-listen' AND datname = current_database()",
        );
        assert.equal(killed.rowCount, 1);
      } finally {
        await admin.end();
      }
      await until(() => heard > 2);
      assert.equal(heard, 3, 'the catch-up signal after re-opening');
      await b.changeTrackers(P1, () => ({ traces: [trace()], result: undefined }));
      await until(() => heard > 3);
      assert.equal(heard, 4, 'heard again');
      stop();
    } finally {
      await opened.dispose();
    }
  });
});
