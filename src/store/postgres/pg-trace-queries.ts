/**
 * ListTraces on PostgreSQL. The planner picks the index: each filter index ends in the page
 * order (time, trace_id), so an equality filter reads its page straight from the index, newest
 * first, and the statistics choose the most selective one. Statements are unnamed on purpose:
 * each is planned for its actual values (a cached generic plan would pick one index for a
 * filter value that matches 3 rows and for one that matches 3 million).
 */
import type pg from 'pg';
import type { TraceFilter, TracePage, TraceQuery } from '../store.js';
import { INDEXED_CHARS } from './pg-migrations.js';
import { pgSafe } from './pg-text.js';

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

/** Filters with an index of their own (pg-migrations.ts); trace_rating and enterprise_project_id have none. */
const INDEXED_FILTERS: ReadonlySet<TraceFilter> = new Set([
  'service_type',
  'user',
  'resource_id',
  'resource_name',
  'resource_type',
  'trace_name',
  'access_key_id',
]);

interface Row {
  wire: string;
  time: number;
  trace_id: string;
}

function buildSql(query: TraceQuery, filters: readonly TraceFilter[]): string {
  let count = 0;
  const param = () => `$${++count}`;
  const where = [`project_id = ${param()}`, `event_type = ${param()}`];
  if (query.trackerName !== undefined) where.push(`tracker_name = ${param()}`);
  where.push(`time > ${param()}`, `time < ${param()}`);
  for (const f of filters) {
    const column = FILTER_COLUMNS[f];
    const value = param();
    // The index holds a prefix (INDEXED_CHARS); the column itself settles equality.
    where.push(
      INDEXED_FILTERS.has(f)
        ? `left(${column}, ${INDEXED_CHARS}) = left(${value}, ${INDEXED_CHARS}) AND ${column} = ${value}`
        : `${column} = ${value}`,
    );
  }
  if (query.after) where.push(`(time, trace_id) < (${param()}, ${param()})`);
  return `SELECT wire, time, trace_id FROM traces WHERE ${where.join(' AND ')}
    ORDER BY time DESC, trace_id DESC LIMIT ${param()}`;
}

const BY_ID_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = $1 AND project_id = $2 AND event_type = $3 AND time > $4
  ORDER BY tracker_name LIMIT $5`;
const BY_ID_IN_TRACKER_SQL = `SELECT wire, time, trace_id FROM traces
  WHERE trace_id = $1 AND project_id = $2 AND event_type = $3 AND time > $4 AND tracker_name = $6
  LIMIT $5`;

export async function listTracesPg(pool: pg.Pool, query: TraceQuery): Promise<TracePage> {
  // One extra row tells whether another page follows.
  const limit = query.limit + 1;
  let config: pg.QueryConfig;
  if (query.traceId !== undefined) {
    const values: unknown[] = [query.traceId, query.projectId, query.eventType, query.from, limit];
    config =
      query.trackerName === undefined
        ? { text: BY_ID_SQL, values }
        : { text: BY_ID_IN_TRACKER_SQL, values: [...values, query.trackerName] };
  } else {
    const filters = (Object.keys(FILTER_COLUMNS) as TraceFilter[]).filter((f) => query.filters[f] !== undefined);
    const values: unknown[] = [query.projectId, query.eventType];
    if (query.trackerName !== undefined) values.push(query.trackerName);
    values.push(query.from, query.to);
    for (const f of filters) values.push(query.filters[f]);
    if (query.after) values.push(query.after.time, query.after.traceId);
    values.push(limit);
    config = { text: buildSql(query, filters), values };
  }
  const rows = (await pool.query<Row>(pgSafe(config))).rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    wire: page.map((r) => r.wire),
    next: more && last ? { time: last.time, traceId: last.trace_id } : undefined,
  };
}
