/**
 * The catalogue tables on PostgreSQL (trace_operations, trace_users; migration 3): kept up to
 * date in the transaction that inserts the traces, one statement per table for a whole write,
 * and read by the catalogue endpoints without scanning the traces.
 *
 * As on SQLite, a cache of what committed skips the statements that would change nothing (an
 * operation already listed, a user whose last_seen is already within the resolution of the
 * trace). It learns only after a commit (PgTransaction.afterCommit, forgotten when the write
 * rolls back), so it never claims a row that is not there. Other instances only ever add rows
 * or move last_seen forward, so a cache that misses their rows costs a redundant statement at
 * most (ON CONFLICT settles it).
 */
import type { OperationEntry } from '../../core/catalogue/operations.js';
import type { Trace } from '../../core/trace/trace.js';
import { USER_SEEN_RESOLUTION_MS } from '../sqlite/trace-catalogue.js';
import type { PgTransaction } from './pg-group-commit.js';

/** Cache entries before the cache starts over (it only saves statements). */
const CACHE_MAX = 100_000;

type Reader = Pick<PgTransaction, 'read'>;

const SQL = {
  operations: `INSERT INTO trace_operations (project_id, service_type, resource_type, trace_name)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    ON CONFLICT (project_id, operation_md5) DO NOTHING`,
  users: `INSERT INTO trace_users AS u (project_id, user_name, last_seen)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
    ON CONFLICT (project_id, user_md5) DO UPDATE SET last_seen = greatest(u.last_seen, excluded.last_seen)`,
  seenOperations: `SELECT service_type, resource_type, trace_name FROM trace_operations WHERE project_id = $1
    ORDER BY service_type, resource_type, trace_name`,
  seenResources: `SELECT DISTINCT o.service_type, o.resource_type FROM projects p
    JOIN trace_operations o ON o.project_id = p.project_id WHERE p.domain_id = $1
    ORDER BY o.service_type, o.resource_type`,
  activeUsers: 'SELECT user_name FROM trace_users WHERE project_id = $1 AND last_seen >= $2 ORDER BY user_name',
} as const;

export class PgTraceCatalogue {
  private readonly operations = new Set<string>();
  private readonly users = new Map<string, number>();

  /** Runs inside the write's transaction (under the trace lock), after its traces were inserted. */
  async record(tx: PgTransaction, traces: readonly Trace[]): Promise<void> {
    const operations = new Map<string, Trace>();
    const users = new Map<string, { project: string; name: string; time: number }>();
    for (const trace of traces) {
      const operation = JSON.stringify([trace.project_id, trace.service_type, trace.resource_type, trace.trace_name]);
      if (!this.operations.has(operation)) operations.set(operation, trace);
      const name = trace.user.name ?? trace.user.user_name;
      if (!name) continue;
      const user = JSON.stringify([trace.project_id, name]);
      const seen = this.users.get(user);
      if (seen !== undefined && trace.time <= seen + USER_SEEN_RESOLUTION_MS) continue;
      // One row per user and statement: ON CONFLICT DO UPDATE may not touch a row twice.
      const pending = users.get(user);
      if (!pending || trace.time > pending.time) users.set(user, { project: trace.project_id, name, time: trace.time });
    }
    if (operations.size > 0) {
      const rows = [...operations.values()];
      await tx.write({
        name: 'catalogue-operations',
        text: SQL.operations,
        values: [
          rows.map((t) => t.project_id),
          rows.map((t) => t.service_type),
          rows.map((t) => t.resource_type),
          rows.map((t) => t.trace_name),
        ],
      });
    }
    if (users.size > 0) {
      const rows = [...users.values()];
      await tx.write({
        name: 'catalogue-users',
        text: SQL.users,
        values: [rows.map((u) => u.project), rows.map((u) => u.name), rows.map((u) => u.time)],
      });
    }
    if (operations.size === 0 && users.size === 0) return;
    tx.afterCommit(() => {
      if (this.operations.size > CACHE_MAX) this.operations.clear();
      if (this.users.size > CACHE_MAX) this.users.clear();
      for (const operation of operations.keys()) this.operations.add(operation);
      for (const [user, { time }] of users) this.users.set(user, Math.max(time, this.users.get(user) ?? time));
    });
  }

  static async seenOperations(db: Reader, projectId: string): Promise<OperationEntry[]> {
    return (await db.read<OperationEntry>({ text: SQL.seenOperations, values: [projectId] })).rows;
  }

  static async seenResources(
    db: Reader,
    domainId: string,
  ): Promise<Array<Pick<OperationEntry, 'service_type' | 'resource_type'>>> {
    return (
      await db.read<Pick<OperationEntry, 'service_type' | 'resource_type'>>({
        text: SQL.seenResources,
        values: [domainId],
      })
    ).rows;
  }

  static async activeUsers(db: Reader, projectId: string, since: number): Promise<string[]> {
    return (await db.read<{ user_name: string }>({ text: SQL.activeUsers, values: [projectId, since] })).rows.map(
      (r) => r.user_name,
    );
  }
}
