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

  constructor(
    private readonly db: Database.Database,
    /** Called when a batch's transaction fails as a whole (its writes are all rolled back). */
    private readonly onAbort: () => void = () => undefined,
    /** Called when a batch's transaction has committed, before any caller is answered. */
    private readonly onCommit: () => void = () => undefined,
  ) {
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
    try {
      const outcomes = this.runInOneTransaction(batch);
      this.onCommit();
      batch.forEach((w, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) w.resolve(outcome.value);
        else w.reject(outcome.error);
      });
    } catch (error) {
      // The whole batch is lost (I/O error, disk full): nobody is told it succeeded, and whoever
      // mirrors committed state in memory must forget what these writes did.
      try {
        if (this.db.inTransaction) this.sql.rollback.run();
      } finally {
        this.onAbort();
        for (const w of batch) w.reject(error);
      }
    }
  }

  /** Runs each write in its own savepoint inside one transaction; throws if the transaction fails. */
  private runInOneTransaction(batch: PendingWrite[]): Outcome[] {
    const outcomes: Outcome[] = [];
    this.sql.begin.run();
    for (const w of batch) {
      this.sql.savepoint.run();
      try {
        const value = w.run();
        this.sql.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        // If SQLite already rolled the whole transaction back, this throws and fails the batch.
        this.sql.rollbackTo.run();
        this.sql.release.run();
        outcomes.push({ ok: false, error });
      }
    }
    this.sql.commit.run();
    return outcomes;
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
