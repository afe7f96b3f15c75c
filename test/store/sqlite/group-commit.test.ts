/** Group commit: shared transactions, isolated failures, and all-or-nothing when the commit fails. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from '../../../src/store/sqlite/group-commit.js';

function openDb(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE item (id INTEGER PRIMARY KEY, v TEXT NOT NULL,
      parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`);
  return db;
}

test('writes queued in one turn run inside one open transaction and each gets its own result', async () => {
  const db = openDb();
  const writer = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
  const seenInTransaction: boolean[] = [];
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      writer.run(() => {
        seenInTransaction.push(db.inTransaction);
        return Number(insert.run(`v${i}`).lastInsertRowid);
      }),
    ),
  );
  assert.ok(seenInTransaction.every(Boolean));
  assert.deepEqual(
    results,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.equal((db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n, 50);
  assert.equal(db.inTransaction, false);
});

test('a failing write rolls back alone; the others in its batch commit', async () => {
  const db = openDb();
  const writer = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
  const outcomes = await Promise.allSettled([
    writer.run(() => insert.run('a')),
    writer.run(() => {
      insert.run('half-done');
      throw new Error('rule violated');
    }),
    writer.run(() => insert.run('c')),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(
    (db.prepare('SELECT v FROM item ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v),
    ['a', 'c'],
  );
});

test('when the commit itself fails, every write of the batch is rejected, nothing stays, onAbort runs', async () => {
  const db = openDb();
  let aborted = 0;
  const writer = new GroupCommit(db, () => aborted++);
  const insert = db.prepare('INSERT INTO item (v, parent) VALUES (?, ?)');
  // A deferred foreign key is checked only at COMMIT: the whole transaction fails there.
  const outcomes = await Promise.allSettled([
    writer.run(() => insert.run('ok', null)),
    writer.run(() => insert.run('dangling', 42)),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'rejected'],
  );
  assert.equal(aborted, 1);
  assert.equal((db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n, 0);
  assert.equal(db.inTransaction, false);
  // The writer keeps working afterwards.
  await writer.run(() => insert.run('after', null));
  assert.equal((db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n, 1);
});

test('drain waits for queued writes', async () => {
  const db = openDb();
  const writer = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
  void writer.run(() => insert.run('x'));
  await writer.drain();
  assert.equal((db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n, 1);
});
