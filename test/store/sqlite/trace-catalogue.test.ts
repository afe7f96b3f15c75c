/**
 * The catalogue tables (migration 8): filled from the traces already stored when the migration
 * runs, kept in step with every trace insert, and never left claiming a row whose write rolled
 * back (the cache that skips redundant statements only learns from committed batches).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { Trace } from '../../../src/core/trace/trace.js';
import { SecretBox } from '../../../src/store/secret-box.js';
import { SQLITE_MIGRATIONS, migrate } from '../../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { makeTempDir } from '../../support/service.js';

const PROJECT = 'a1'.repeat(16);
const DOMAIN = 'd1'.repeat(16);

function trace(id: string, service: string, name: string, user: string, time = Date.now()): Trace {
  return {
    trace_id: id,
    trace_name: name,
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    event_type: 'system',
    tracker_name: 'system',
    project_id: PROJECT,
    domain_id: DOMAIN,
    service_type: service,
    resource_type: 'thing',
    time,
    record_time: time,
    user: { name: user },
  };
}

async function withStore(run: (store: SqliteStore, file: string) => Promise<void>, before?: (file: string) => void) {
  const dir = await makeTempDir();
  const file = path.join(dir, 'opencts.db');
  try {
    before?.(file);
    const store = SqliteStore.open({ file, secrets: SecretBox.fromKey(randomBytes(32)) });
    try {
      await run(store, file);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('migration 8 fills the catalogue from the traces already stored', async () => {
  const old = Date.now() - 40 * 86_400_000;
  await withStore(
    async (store) => {
      assert.deepEqual(await store.listSeenOperations(PROJECT), [
        { service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' },
      ]);
      assert.deepEqual(await store.listActiveUsers(PROJECT, 0), ['bob']);
      assert.deepEqual(await store.listActiveUsers(PROJECT, old + 1), []);
      assert.deepEqual(await store.listSeenResources(DOMAIN), [{ service_type: 'ECS', resource_type: 'ecs' }]);
    },
    (file) => {
      const db = new Database(file);
      migrate(
        db,
        SQLITE_MIGRATIONS.filter((m) => m.version < 8),
      );
      db.prepare('INSERT INTO projects VALUES (?, ?, ?, ?)').run(PROJECT, DOMAIN, 'p', 0);
      const insert = db.prepare(
        `INSERT INTO traces (trace_id, project_id, domain_id, tracker_name, event_type, time, record_time,
           service_type, resource_type, trace_name, trace_rating, user_name, wire)
         VALUES (?, ?, ?, 'system', 'system', ?, ?, 'ECS', 'ecs', 'createServer', 'normal', ?, '{}')`,
      );
      insert.run('t1', PROJECT, DOMAIN, old, old, 'bob');
      insert.run('t2', PROJECT, DOMAIN, old - 5, old - 5, 'bob');
      insert.run('t3', PROJECT, DOMAIN, old, old, null);
      db.close();
    },
  );
});

test('a rolled-back write leaves no catalogue row, and the cache does not pretend it did', async () => {
  await withStore(async (store) => {
    await store.ensureProject({ project_id: PROJECT, domain_id: DOMAIN, name: 'p', created_at: 0 });
    // The second trace belongs to another project: the write fails after the first was inserted.
    const bad = { ...trace('x2', 'OBS', 'putObject', 'eve'), project_id: 'b2'.repeat(16) };
    await assert.rejects(
      store.changeTrackers(PROJECT, () => ({
        traces: [trace('x1', 'OBS', 'putObject', 'eve'), bad],
        result: undefined,
      })),
    );
    assert.deepEqual(await store.listSeenOperations(PROJECT), []);
    assert.deepEqual(await store.listActiveUsers(PROJECT, 0), []);
    // The same operation and user in a write that succeeds are recorded.
    await store.changeTrackers(PROJECT, () => ({
      traces: [trace('x3', 'OBS', 'putObject', 'eve')],
      result: undefined,
    }));
    assert.deepEqual(await store.listSeenOperations(PROJECT), [
      { service_type: 'OBS', resource_type: 'thing', trace_name: 'putObject' },
    ]);
    assert.deepEqual(await store.listActiveUsers(PROJECT, 0), ['eve']);
  });
});

test("last_seen follows each user's newest trace to the minute, whatever the order traces arrive in", async () => {
  await withStore(async (store) => {
    await store.ensureProject({ project_id: PROJECT, domain_id: DOMAIN, name: 'p', created_at: 0 });
    const t0 = Date.now() - 10 * 86_400_000;
    const write = (traces: Trace[]) => store.changeTrackers(PROJECT, () => ({ traces, result: undefined }));
    await write([trace('u1', 'ECS', 'a', 'ann', t0)]);
    await write([trace('u2', 'ECS', 'a', 'ann', t0 - 86_400_000)]);
    assert.deepEqual(await store.listActiveUsers(PROJECT, t0), ['ann'], 'an older trace does not move it back');
    await write([trace('u3', 'ECS', 'a', 'ann', t0 + 86_400_000)]);
    assert.deepEqual(await store.listActiveUsers(PROJECT, t0 + 86_400_000 - 60_000), ['ann']);
    await write([trace('u4', 'ECS', 'a', 'ann', t0 + 86_400_000 + 30_000)]);
    assert.deepEqual(await store.listActiveUsers(PROJECT, t0 + 86_400_000 + 60_001), [], 'within the minute');
    // Many traces of the same operation in one batch: one row.
    await write(Array.from({ length: 50 }, (_, i) => trace(`m${i}`, 'ECS', 'a', `user${i % 3}`)));
    assert.deepEqual(await store.listSeenOperations(PROJECT), [
      { service_type: 'ECS', resource_type: 'thing', trace_name: 'a' },
    ]);
    assert.deepEqual(await store.listActiveUsers(PROJECT, Date.now() - 60_000), ['user0', 'user1', 'user2']);
  });
});
