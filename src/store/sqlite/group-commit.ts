/**
 * Group commit for SQLite. One commit per request caps traced writes near the disk's commit rate
 * (about 4–5k/s here, spec perf-limits §2). Writes queued during one turn of the event loop run
 * in a single transaction, each inside its own savepoint so that one failing write rolls back
 * alone; every caller is answered only after the shared COMMIT has returned.
 */
import type Database from 'better-sqlite3';

interface PendingWrite {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** Upper bound on writes per transaction, so one huge burst cannot hold the writer for long. */
const MAX_WRITES_PER_COMMIT = 1000;

export class GroupCommit {
  private queue: PendingWrite[] = [];
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  private readonly sql;

  constructor(private readonly db: Database.Database) {
    // Prepared once: db.exec() would parse these for every batch and savepoint.
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT write'),
      release: db.prepare('RELEASE write'),
      rollbackTo: db.prepare('ROLLBACK TO write'),
    };
  }

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: write, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every write queued so far has been committed or rejected. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, MAX_WRITES_PER_COMMIT);
    if (batch.length > 0) this.commit(batch);
    if (this.queue.length > 0) this.schedule();
    else for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private commit(batch: PendingWrite[]): void {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.sql.begin.run();
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) {
      this.sql.savepoint.run();
      try {
        const value = w.run();
        this.sql.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.sql.rollbackTo.run();
        this.sql.release.run();
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.sql.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.sql.rollback.run();
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) w.resolve(outcome.value);
      else w.reject(outcome.error);
    });
  }
}
