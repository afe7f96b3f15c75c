/**
 * The Store contract on PostgreSQL, each test in a database of its own; then what only
 * PostgreSQL has: several instances on one database, migrations racing, day partitions.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { migratePostgres, PG_MIGRATIONS } from '../../src/store/postgres/pg-migrations.js';
import { dayOf, partitionName } from '../../src/store/postgres/trace-partitions.js';
import { IdentityService } from '../../src/service/identity-service.js';
import { MASTER_KEY_FILE, openStore } from '../../src/store/open-store.js';
import { quietPool } from '../../src/store/postgres/postgres-store.js';
import { LeaseLostError, type DeliveryState, type Store } from '../../src/store/store.js';
import { createTestDatabase } from '../support/postgres.js';
import { openTestStore, storeContract, trace, tracker } from './store.contract.js';
import { tagsAndNotificationsContract } from './tags-notifications.contract.js';

storeContract('postgres');
tagsAndNotificationsContract('postgres');

const P1 = 'p1000000000000000000000000000001';
const D1 = 'd1000000000000000000000000000001';
const DAY = 86_400_000;
const STATE: DeliveryState = {
  tracker_id: 't',
  project_id: P1,
  cursor_seq: 0,
  pending_to: null,
  pending_time: null,
  pending_layout: null,
  digest_start: null,
  last_digest: null,
};

async function partitions(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'traces'::regclass ORDER BY 1`,
    );
    return r.rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL: several instances on one database', () => {
  test('instances starting at once migrate once, under the advisory lock', async () => {
    const db = await createTestDatabase();
    const pools = Array.from({ length: 4 }, () => quietPool(new pg.Pool({ connectionString: db.url, max: 2 })));
    try {
      const ran = await Promise.all(pools.map((p) => migratePostgres(p)));
      assert.deepEqual(
        ran.flat(),
        PG_MIGRATIONS.map((m) => m.version),
        'each migration ran exactly once in all',
      );
      const rows = await pools[0]!.query('SELECT version FROM schema_migrations');
      assert.equal(rows.rowCount, PG_MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });

  test('two instances: no read-modify-write of trackers is lost', async () => {
    const opened = await openTestStore('postgres');
    try {
      const a = opened.store;
      const b = await opened.another();
      await a.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await a.changeTrackers(P1, () => ({ upsert: [tracker(P1, 'system')], result: undefined }));
      const writer = (store: Store, tag: string) =>
        Promise.all(
          Array.from({ length: 150 }, async (_, i) => {
            await new Promise((r) => setTimeout(r, Math.random() * 300));
            return store.changeTrackers(P1, (current) => {
              const t = current[0]!;
              const excluded = [...t.management_event_selector.exclude_service, `${tag}${i}`];
              return {
                upsert: [{ ...t, management_event_selector: { exclude_service: excluded } }],
                traces: [trace()],
                result: undefined,
              };
            });
          }),
        );
      await Promise.all([writer(a, 'A'), writer(b, 'B')]);
      const [t] = await a.listTrackers(P1);
      assert.equal(t!.management_event_selector.exclude_service.length, 300);
    } finally {
      await opened.dispose();
    }
  });

  test('two instances ingesting: a cursor walking seqs up to the max sees every trace once', async () => {
    const opened = await openTestStore('postgres');
    try {
      const a = opened.store;
      const b = await opened.another();
      const reader = await opened.another();
      await a.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await a.changeTrackers(P1, () => ({ upsert: [tracker(P1, 'system')], result: undefined }));
      let writing = true;
      // The delivery worker's way of reading: up to the max seq, then on from there, never back.
      const seen: string[] = [];
      const walk = (async () => {
        let cursor = 0;
        for (;;) {
          const done = !writing;
          const max = await reader.maxTraceSeq(P1, 'system');
          const rows = await reader.readTracesForDelivery(P1, 'system', cursor, max, 100_000);
          seen.push(...rows.map((r) => r.trace.trace_id));
          cursor = max;
          if (done) return;
        }
      })();
      const written: string[] = [];
      const writer = (store: Store) =>
        Promise.all(
          Array.from({ length: 400 }, async (_, i) => {
            await new Promise((r) => setTimeout(r, Math.random() * 400));
            const traces = Array.from({ length: 1 + (i % 3) }, () => trace());
            await store.changeTrackers(P1, () => ({ traces, result: undefined }));
            written.push(...traces.map((x) => x.trace_id));
          }),
        );
      await Promise.all([writer(a), writer(b)]);
      writing = false;
      await walk;
      assert.equal(new Set(seen).size, seen.length, 'no trace twice');
      assert.deepEqual([...seen].sort(), [...written].sort(), 'every acknowledged trace seen');
    } finally {
      await opened.dispose();
    }
  });
});

describe('PostgreSQL: leases between instances', () => {
  test('three instances racing for 30 leases: each has one holder; a write fenced with a lease not held is refused', async () => {
    const opened = await openTestStore('postgres');
    try {
      const stores = [opened.store, await opened.another(), await opened.another()];
      const names = Array.from({ length: 30 }, (_, i) => `delivery:t${i}`);
      const results = await Promise.all(
        stores.flatMap((store, s) =>
          names.map(async (name) => ({ name, lease: await store.acquireLease(name, `i${s}`, 60_000) })),
        ),
      );
      for (const name of names) {
        assert.equal(results.filter((r) => r.name === name && r.lease).length, 1, name);
      }
      // Each instance can write with its own leases and none with another's.
      const mine = results.find((r) => r.lease)!.lease!;
      const other = stores[(Number(mine.holder.slice(1)) + 1) % 3]!;
      const stolen = { ...mine, holder: 'someone-else' };
      await assert.rejects(other.putDeliveryState({ ...STATE, tracker_id: mine.name }, stolen), LeaseLostError);
      await other.putDeliveryState({ ...STATE, tracker_id: mine.name }, mine);
    } finally {
      await opened.dispose();
    }
  });

  test('three instances starting at once on an empty database bootstrap one project and key', async () => {
    const opened = await openTestStore('postgres');
    try {
      const stores = [opened.store, await opened.another(), await opened.another()];
      const issued = await Promise.all(stores.map((store) => new IdentityService(store).bootstrap()));
      assert.equal(issued.filter((c) => c !== undefined).length, 1);
      assert.equal((await opened.store.listProjects()).length, 1);
      assert.equal((await opened.store.listCredentials()).length, 1);
      assert.equal(await new IdentityService(stores[1]!).bootstrap(), undefined, 'and never again');
    } finally {
      await opened.dispose();
    }
  });
});

describe('PostgreSQL: day partitions and the master key', () => {
  test('today and the next days exist after opening; the purge drops whole expired days', async () => {
    const opened = await openTestStore('postgres');
    try {
      const store = opened.store;
      const url = opened.url!;
      const today = dayOf(Date.now());
      const names = await partitions(url);
      for (let d = today; d <= today + 2; d++) assert.ok(names.includes(partitionName(d)), partitionName(d));
      await store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await store.changeTrackers(P1, () => ({
        upsert: [tracker(P1, 'system')],
        traces: [trace({ record_time: Date.now() - 20 * DAY }), trace({ record_time: Date.now() - 9 * DAY }), trace()],
        result: undefined,
      }));
      assert.ok((await partitions(url)).includes(partitionName(today - 20)), 'made on demand');
      assert.equal(await store.purgeTraces(Date.now() - 7 * DAY, 1), 2, 'two whole days, whatever the batch');
      const after = await partitions(url);
      assert.ok(!after.includes(partitionName(today - 20)) && !after.includes(partitionName(today - 9)));
      assert.ok(after.includes(partitionName(today)));
      // Without purgeRows, rows of the day that straddles the cutoff stay.
      assert.equal(await store.purgeTraces(Date.now() + 1000, 1000), 0);
    } finally {
      await opened.dispose();
    }
  });

  test('with a retention under a day, expired rows of today are deleted one by one', async () => {
    const opened = await openTestStore('postgres', { retentionDays: 0.5 });
    try {
      const store = opened.store;
      await store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      const now = Date.now();
      await store.changeTrackers(P1, () => ({
        upsert: [tracker(P1, 'system')],
        traces: [trace({ record_time: now - 2000 }), trace({ record_time: now - 2000 }), trace({ record_time: now })],
        result: undefined,
      }));
      assert.equal(await store.purgeTraces(now - 1000, 1), 1);
      assert.equal(await store.purgeTraces(now - 1000, 10), 1);
      assert.equal(await store.purgeTraces(now - 1000, 10), 0);
    } finally {
      await opened.dispose();
    }
  });

  test('a new master key only for a database that holds no secret yet', async () => {
    const db = await createTestDatabase();
    const dirs = [await mkdtemp(path.join(tmpdir(), 'opencts-pg-')), await mkdtemp(path.join(tmpdir(), 'opencts-pg-'))];
    try {
      const settings = (dataDir: string) => ({
        dataDir,
        store: db.url,
        durability: 'normal' as const,
        retentionDays: 7,
      });
      const first = await openStore(settings(dirs[0]!));
      assert.ok(existsSync(path.join(dirs[0]!, MASTER_KEY_FILE)));
      await first.store.ensureProject({ project_id: P1, domain_id: D1, name: 'one', created_at: 1 });
      await first.store.addCredential({
        access_key_id: 'AKONE',
        secret_access_key: 'sk',
        project_id: P1,
        domain_id: D1,
        user_id: 'u',
        user_name: 'alice',
        role: 'admin',
        created_at: 1,
        revoked_at: null,
        expires_at: null,
        security_token_sha256: null,
      });
      await first.store.close();
      // Another data dir without the key file: refused, not a silently useless new key.
      await assert.rejects(openStore(settings(dirs[1]!)), /master key/);
      assert.ok(!existsSync(path.join(dirs[1]!, MASTER_KEY_FILE)));
    } finally {
      await db.drop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  });
});
