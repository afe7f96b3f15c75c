/**
 * ListTraces on SQLite: one prepared statement per shape of query (which filters, paging or not),
 * built on first use. The index is named explicitly instead of left to the planner: without
 * fresh statistics SQLite picks the scope index for filtered queries, 12–27× slower
 * (perf-limits §3), and a fixed most-selective-first choice is predictable at any table size.
 */
import type Database from 'better-sqlite3';
import type { TracePage, TraceFilter, TraceQuery } from '../store.js';

const FILTER_COLUMNS: Readonly<Record<TraceFilter, string>> = {
  service_type: 'service_type',
  user: 'user_name',
  resource_id: 'resource_id',
  resource_name: 'resource_name',
  resource_type: 'resource_type',
  trace_name: 'trace_name',
  trace_rating: 'trace_rating',
  access_key_id: 'access_key_id',
  enterprise_project_id: 'enterprise_project_id',
};

/**
 * Filters that lead an index of their own (see migrations 2 and 6), most selective first: a resource
 * id or name picks a few traces; a user spans fewer traces than a service. The user, service and
 * scope indexes also hold every other low-cardinality filter column, so the remaining filters are
 * checked on index entries and only matching rows are read.
 */
const INDEXED_FILTERS: ReadonlyArray<[TraceFilter, string]> = [
  ['resource_id', 'traces_resource_id'],
  ['resource_name', 'traces_resource_name'],
  ['user', 'traces_user'],
  ['service_type', 'traces_service'],
];

interface Row {
  wire: string;
  time: number;
  trace_id: string;
}

function chooseIndex(query: TraceQuery): string | undefined {
  if (query.trackerName === undefined) return undefined;
  for (const [filter, index] of INDEXED_FILTERS) if (query.filters[filter] !== undefined) return index;
  return 'traces_scope';
}

function buildSql(query: TraceQuery, filters: readonly TraceFilter[]): string {
  const index = chooseIndex(query);
  const where = ['project_id = @project_id', 'event_type = @event_type'];
  if (query.trackerName !== undefined) where.push('tracker_name = @tracker_name');
  where.push('time > @from', 'time < @to');
  for (const f of filters) where.push(`${FILTER_COLUMNS[f]} = @f_${f}`);
  if (query.after) {
    // The plain `time <= ?` bound lets the index seek straight to the marker (perf-limits §3).
    where.push('time <= @after_time', '(time < @after_time OR trace_id < @after_id)');
  }
  return `SELECT wire, time, trace_id FROM traces${index ? ` INDEXED BY ${index}` : ''}
    WHERE ${where.join(' AND ')} ORDER BY time DESC, trace_id DESC LIMIT @limit`;
}

const BY_ID_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = @trace_id AND project_id = @project_id AND event_type = @event_type AND time > @from
  ORDER BY tracker_name LIMIT @limit`;
const BY_ID_IN_TRACKER_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = @trace_id AND tracker_name = @tracker_name AND project_id = @project_id
    AND event_type = @event_type AND time > @from LIMIT @limit`;

export class TraceQueryCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private statement(key: string, sql: () => string): Database.Statement {
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  run(query: TraceQuery): TracePage {
    const params: Record<string, string | number> = {
      project_id: query.projectId,
      event_type: query.eventType,
      from: query.from,
      // One extra row tells whether another page follows.
      limit: query.limit + 1,
    };
    if (query.trackerName !== undefined) params['tracker_name'] = query.trackerName;
    let stmt: Database.Statement;
    if (query.traceId !== undefined) {
      params['trace_id'] = query.traceId;
      stmt =
        query.trackerName === undefined
          ? this.statement('by-id', () => BY_ID_SQL)
          : this.statement('by-id-in-tracker', () => BY_ID_IN_TRACKER_SQL);
    } else {
      params['to'] = query.to;
      const filters = (Object.keys(FILTER_COLUMNS) as TraceFilter[]).filter((f) => query.filters[f] !== undefined);
      for (const f of filters) params[`f_${f}`] = query.filters[f]!;
      if (query.after) {
        params['after_time'] = query.after.time;
        params['after_id'] = query.after.traceId;
      }
      const key = `${query.trackerName === undefined ? 'all' : 'one'}|${filters.join(',')}|${query.after ? 'after' : ''}`;
      stmt = this.statement(key, () => buildSql(query, filters));
    }
    const rows = stmt.all(params) as Row[];
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    const last = page[page.length - 1];
    return {
      wire: page.map((r) => r.wire),
      next: more && last ? { time: last.time, traceId: last.trace_id } : undefined,
    };
  }
}
