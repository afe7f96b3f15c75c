/**
 * ListTraces on SQLite: the newest keys of the in-memory index and of each run in the window
 * (trace-index.ts), merged, then the wire JSON of the page's traces. One prepared statement per run
 * and shape of query (which filters, paging or not), built on first use. The index is named
 * explicitly instead of left to the planner: without fresh statistics SQLite picks the scope index
 * for filtered queries, 12–27× slower (perf-limits §3), and a fixed most-selective-first choice is
 * predictable at any table size.
 */
import type Database from 'better-sqlite3';
import type { TracePage, TraceFilter, TraceQuery } from '../store.js';
import { runTable, type RunIndex, type TraceIndex } from './trace-index.js';
import { FILTER_COLUMNS } from './recent-traces.js';

/**
 * Filters that lead an index of their own (see trace-index.ts), most selective first: a resource
 * id or name picks a few traces; a user spans fewer traces than a service, and a user's traces of
 * one service fewer still. The user, service and scope indexes also hold every other
 * low-cardinality filter column, so the remaining filters are checked on index entries.
 */
const INDEXED_FILTERS: ReadonlyArray<[TraceFilter, RunIndex]> = [
  ['resource_id', 'resource_id'],
  ['resource_name', 'resource_name'],
  ['user', 'user'],
  ['service_type', 'service'],
];

interface Key {
  seq: number;
  time: number;
  trace_id: string;
}

function chooseIndex(query: TraceQuery): RunIndex | undefined {
  if (query.trackerName === undefined) return undefined;
  const { filters } = query;
  if (filters.resource_id === undefined && filters.resource_name === undefined) {
    if (filters.user !== undefined && filters.service_type !== undefined) return 'user_service';
  }
  for (const [filter, index] of INDEXED_FILTERS) if (query.filters[filter] !== undefined) return index;
  return 'scope';
}

/** The newest `limit` keys of one run (trace-index.ts). */
function buildSql(run: number, query: TraceQuery, filters: readonly TraceFilter[]): string {
  const index = chooseIndex(query);
  const where = ['seq >= @floor', 'project_id = @project_id', 'event_type = @event_type'];
  if (query.trackerName !== undefined) where.push('tracker_name = @tracker_name');
  where.push('time > @from', 'time < @to');
  for (const f of filters) where.push(`${FILTER_COLUMNS[f]} = @f_${f}`);
  if (query.after) {
    // The plain `time <= ?` bound lets the index seek straight to the marker (perf-limits §3).
    where.push('time <= @after_time', '(time < @after_time OR trace_id < @after_id)');
  }
  const table = runTable(run);
  return `SELECT seq, time, trace_id FROM ${table}${index ? ` INDEXED BY ${table}_${index}` : ''}
    WHERE ${where.join(' AND ')} ORDER BY time DESC, trace_id DESC LIMIT @limit`;
}

/** Newest first, as every source returns them. */
function newestFirst(a: Key, b: Key): number {
  if (a.time !== b.time) return b.time - a.time;
  return a.trace_id < b.trace_id ? 1 : a.trace_id > b.trace_id ? -1 : 0;
}

const BY_ID_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = @trace_id AND project_id = @project_id AND event_type = @event_type AND time > @from
  ORDER BY tracker_name LIMIT @limit`;
const BY_ID_IN_TRACKER_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = @trace_id AND tracker_name = @tracker_name AND project_id = @project_id
    AND event_type = @event_type AND time > @from LIMIT @limit`;

export class TraceQueryCache {
  private readonly byId = new Map<string, Database.Statement>();
  /** Per run, its statements by query shape. */
  private readonly inRuns = new Map<number, Map<string, Database.Statement>>();
  private dropGeneration = 0;
  private readonly wireOf: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly index: TraceIndex,
  ) {
    this.wireOf = db.prepare('SELECT wire FROM traces WHERE seq = ?').pluck();
  }

  private runStatement(run: number, shape: string, sql: () => string): Database.Statement {
    let statements = this.inRuns.get(run);
    if (!statements) {
      statements = new Map();
      this.inRuns.set(run, statements);
    }
    let stmt = statements.get(shape);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      statements.set(shape, stmt);
    }
    return stmt;
  }

  /**
   * The wire JSON of a page's traces. Rows are read in file order (ascending seq), not page order:
   * when they are not cached, the OS reads ahead instead of seeking backwards row by row.
   */
  private wires(keys: readonly Key[]): string[] {
    const bySeq = keys.map((key, at) => ({ seq: key.seq, at })).sort((a, b) => a.seq - b.seq);
    const out = new Array<string>(keys.length);
    for (const { seq, at } of bySeq) out[at] = this.wireOf.get(seq) as string;
    return out;
  }

  /** Forgets the statements of runs the purge dropped. */
  private forgetDroppedRuns(): void {
    if (this.dropGeneration === this.index.dropGeneration) return;
    this.dropGeneration = this.index.dropGeneration;
    const runs = this.index.allRuns();
    for (const run of this.inRuns.keys()) if (!runs.has(run)) this.inRuns.delete(run);
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
    if (query.traceId !== undefined) {
      params['trace_id'] = query.traceId;
      const key = query.trackerName === undefined ? BY_ID_SQL : BY_ID_IN_TRACKER_SQL;
      let stmt = this.byId.get(key);
      if (!stmt) this.byId.set(key, (stmt = this.db.prepare(key)));
      return page(stmt.all(params) as Array<Key & { wire: string }>, query.limit, (rows) => rows.map((r) => r.wire));
    }
    const keys: Key[] = this.index.recent.query(query, query.limit + 1);
    const { runs, floor } = this.index.runsFor(query.from, query.to);
    if (runs.length > 0) {
      this.forgetDroppedRuns();
      params['to'] = query.to;
      params['floor'] = floor;
      const filters = (Object.keys(FILTER_COLUMNS) as TraceFilter[]).filter((f) => query.filters[f] !== undefined);
      for (const f of filters) params[`f_${f}`] = query.filters[f]!;
      if (query.after) {
        params['after_time'] = query.after.time;
        params['after_id'] = query.after.traceId;
      }
      const shape = `${query.trackerName === undefined ? 'all' : 'one'}|${filters.join(',')}|${query.after ? 'after' : ''}`;
      const wanted = query.limit + 1;
      keys.sort(newestFirst);
      for (const { run, max_time } of runs) {
        // Once a page is full, a run whose newest trace is older than the page's last cannot add to it.
        if (keys.length >= wanted && max_time < keys[wanted - 1]!.time) break;
        const stmt = this.runStatement(run, shape, () => buildSql(run, query, filters));
        const found = stmt.all(params) as Key[];
        if (found.length === 0) continue;
        for (const key of found) keys.push(key);
        keys.sort(newestFirst);
        if (keys.length > wanted) keys.length = wanted;
      }
    }
    return page(keys, query.limit, (shown) => this.wires(shown));
  }
}

/** The first `limit` of the newest-first keys as wire JSON, and where the next page starts. */
function page<K extends Omit<Key, 'seq'>>(keys: K[], limit: number, wires: (shown: K[]) => string[]): TracePage {
  const more = keys.length > limit;
  const shown = more ? keys.slice(0, limit) : keys;
  const last = shown[shown.length - 1];
  return {
    wire: wires(shown),
    next: more && last ? { time: last.time, traceId: last.trace_id } : undefined,
  };
}
