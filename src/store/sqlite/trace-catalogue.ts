/**
 * Keeps the catalogue tables (trace_operations, trace_users; migration 8) up to date as traces
 * are inserted, in the same transaction as the traces. A committed-state cache skips the
 * statement when it would change nothing: an operation already listed, or a user whose
 * last_seen is already within USER_SEEN_RESOLUTION_MS of the trace. What a write adds becomes
 * part of the cache only once its batch has committed (like the tracker cache), so a rolled-back
 * write can never make the cache claim a row that is not there.
 */
import type Database from 'better-sqlite3';
import type { Trace } from '../../core/trace/trace.js';

/** last_seen is kept to the minute: the user-resources window is 30 days. */
export const USER_SEEN_RESOLUTION_MS = 60_000;
/** Cache entries before the cache starts over (it only saves statements). */
const CACHE_MAX = 100_000;

/** What one write added; accepted into the batch only if the write succeeded. */
export interface CatalogueNotes {
  readonly operations: string[];
  readonly users: Array<[string, number]>;
}

export function newNotes(): CatalogueNotes {
  return { operations: [], users: [] };
}

export class TraceCatalogue {
  private readonly operations = new Set<string>();
  private readonly users = new Map<string, number>();
  private pending: CatalogueNotes[] = [];
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      operation: db.prepare(
        'INSERT OR IGNORE INTO trace_operations (project_id, service_type, resource_type, trace_name) VALUES (?, ?, ?, ?)',
      ),
      user: db.prepare(
        `INSERT INTO trace_users (project_id, user_name, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (project_id, user_name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
      ),
    };
  }

  /** Runs inside the write's transaction, for each inserted trace. */
  record(trace: Trace, notes: CatalogueNotes): void {
    const operation = JSON.stringify([trace.project_id, trace.service_type, trace.resource_type, trace.trace_name]);
    if (!this.operations.has(operation)) {
      this.stmt.operation.run(trace.project_id, trace.service_type, trace.resource_type, trace.trace_name);
      notes.operations.push(operation);
    }
    const name = trace.user.name ?? trace.user.user_name;
    if (!name) return;
    const user = JSON.stringify([trace.project_id, name]);
    const seen = this.users.get(user);
    if (seen !== undefined && trace.time <= seen + USER_SEEN_RESOLUTION_MS) return;
    this.stmt.user.run(trace.project_id, name, trace.time);
    notes.users.push([user, trace.time]);
  }

  /** The write that made these notes succeeded (its savepoint was released). */
  accept(notes: CatalogueNotes): void {
    if (notes.operations.length > 0 || notes.users.length > 0) this.pending.push(notes);
  }

  /** The batch committed: what its writes added is now true of the tables. */
  committed(): void {
    if (this.operations.size > CACHE_MAX) this.operations.clear();
    if (this.users.size > CACHE_MAX) this.users.clear();
    for (const notes of this.pending) {
      for (const op of notes.operations) this.operations.add(op);
      for (const [user, time] of notes.users) this.users.set(user, Math.max(time, this.users.get(user) ?? time));
    }
    this.pending = [];
  }

  /** The batch rolled back: forget what its writes added. */
  aborted(): void {
    this.pending = [];
  }
}
