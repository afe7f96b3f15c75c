/**
 * Group commit for PostgreSQL: the writes queued while the previous batch commits run together
 * in one transaction on one pooled connection, and every caller is answered only after the
 * shared COMMIT has returned. One batch is in flight per store, as with SQLite's single writer.
 *
 * A batch first runs without savepoints (one round trip per statement, none per write). A write
 * that fails before it wrote anything (a rule the planner refused) is rejected alone. A write
 * that fails after writing would leave the transaction half done: the batch is rolled back and
 * run again with each write in its own savepoint, so that write rolls back alone and the others
 * commit. Writes are therefore re-runnable: they decide from the rows they read, not from memory.
 */
import type pg from 'pg';
import { LOCK_KEYS } from './pg-migrations.js';
import { pgSafe } from './pg-text.js';

/** One transaction as a write sees it. */
export class PgTransaction {
  /** Set once the write in progress has sent a statement that changes rows. */
  wrote = false;
  /** Per-transaction memo of the store (e.g. a project's trackers as this transaction sees them). */
  readonly memo = new Map<string, unknown>();
  private readonly committed: Array<() => void> = [];

  constructor(private readonly client: pg.PoolClient) {}

  /** A statement that reads only. */
  read<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(pgSafe(config));
  }

  /** A statement that changes rows (or the schema). */
  write<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    this.wrote = true;
    return this.client.query<R>(pgSafe(config));
  }

  /** Runs after the transaction has committed, before any caller is answered. */
  afterCommit(action: () => void): void {
    this.committed.push(action);
  }

  /** @internal Forgets what a write that rolled back asked for. */
  startWrite(): () => void {
    this.wrote = false;
    const mark = this.committed.length;
    return () => void this.committed.splice(mark);
  }

  /** @internal */
  runAfterCommit(): void {
    for (const action of this.committed) action();
  }
}

export interface PgWriteOptions {
  /** Inserts traces or changes trace partitions: the batch takes the trace lock first. */
  readonly traces?: boolean;
}

interface PendingWrite {
  readonly run: (tx: PgTransaction) => Promise<unknown>;
  readonly traces: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Upper bound on writes per transaction, so one huge burst cannot hold the trace lock for long. */
const MAX_WRITES_PER_COMMIT = 1000;

class RetryIsolated extends Error {}

export class PgGroupCommit {
  private queue: PendingWrite[] = [];
  private active: Promise<void> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  run<T>(write: (tx: PgTransaction) => Promise<T>, options: PgWriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: write,
        traces: options.traces ?? false,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.active ??= this.loop();
    });
  }

  /** Resolves once every write queued so far has been committed or rejected. */
  async drain(): Promise<void> {
    while (this.active) await this.active;
  }

  private async loop(): Promise<void> {
    // Let the writes of this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_WRITES_PER_COMMIT));
    } finally {
      this.active = undefined;
    }
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.pool.connect();
      let outcomes: Outcome[];
      let tx: PgTransaction;
      try {
        tx = new PgTransaction(client);
        outcomes = await this.attempt(client, tx, batch, false);
      } catch (err) {
        if (!(err instanceof RetryIsolated)) throw err;
        tx = new PgTransaction(client);
        outcomes = await this.attempt(client, tx, batch, true);
      }
      tx.runAfterCommit();
      batch.forEach((w, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) w.resolve(outcome.value);
        else w.reject(outcome.error);
      });
    } catch (error) {
      // The whole batch is lost (connection gone, COMMIT refused): nobody is told it succeeded.
      broken = error as Error;
      for (const w of batch) w.reject(error);
    } finally {
      client?.release(broken);
    }
  }

  private async attempt(
    client: pg.PoolClient,
    tx: PgTransaction,
    batch: readonly PendingWrite[],
    isolated: boolean,
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    await client.query('BEGIN');
    try {
      if (batch.some((w) => w.traces)) {
        await client.query({ text: 'SELECT pg_advisory_xact_lock($1)', values: [LOCK_KEYS.traces.toString()] });
      }
      for (const w of batch) {
        const forget = tx.startWrite();
        if (isolated) await client.query('SAVEPOINT write');
        try {
          const value = await w.run(tx);
          if (isolated) await client.query('RELEASE SAVEPOINT write');
          outcomes.push({ ok: true, value });
        } catch (error) {
          forget();
          if (isolated) {
            await client.query('ROLLBACK TO SAVEPOINT write');
            await client.query('RELEASE SAVEPOINT write');
          } else if (tx.wrote && batch.length > 1) {
            throw new RetryIsolated();
          } else if (tx.wrote) {
            // Alone in its batch: rolling the transaction back undoes exactly this write.
            await client.query('ROLLBACK');
            return [{ ok: false, error }];
          }
          // A read-only failure (a refused plan, a read error) leaves nothing to undo, unless
          // the failed statement aborted the transaction: then COMMIT fails and the batch reruns.
          outcomes.push({ ok: false, error });
        }
      }
      const commit = await client.query('COMMIT');
      // COMMIT of an aborted transaction answers ROLLBACK instead of failing.
      if (commit.command === 'ROLLBACK') {
        if (isolated) throw new Error('the transaction was aborted');
        throw new RetryIsolated();
      }
      return outcomes;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
