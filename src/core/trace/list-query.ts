/**
 * The ListTraces query (spec §1.6) turned into a store query: defaults (system traces, 10 per
 * page, the last hour), bounds (1–200, the retention window) and the meaning of `trace_id`.
 */
import { CtsError } from '../error-catalog.js';
import type { TraceFilter } from './trace-filter.js';
import { TRACE_FILTER_NAMES } from './trace-filter.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 200;
export const DEFAULT_WINDOW_MS = 60 * 60 * 1000;

export interface ListTracesParams {
  trace_type?: string;
  limit?: number;
  from?: number;
  to?: number;
  next?: string;
  tracker_name?: string;
  trace_id?: string;
  service_type?: string;
  user?: string;
  resource_id?: string;
  resource_name?: string;
  resource_type?: string;
  trace_name?: string;
  trace_rating?: string;
  access_key_id?: string;
  enterprise_project_id?: string;
}

export interface ParsedTraceQuery {
  readonly eventType: 'system' | 'data';
  readonly trackerName: string | undefined;
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly marker: string | undefined;
  readonly traceId: string | undefined;
  readonly filters: Partial<Record<TraceFilter, string>>;
}

export function parseListTraces(params: ListTracesParams, now: number, retentionMs: number): ParsedTraceQuery {
  const eventType = params.trace_type ?? 'system';
  if (eventType !== 'system' && eventType !== 'data') {
    throw new CtsError('CTS.9400', '(trace_type must be system or data)');
  }
  const limit = params.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new CtsError('CTS.9400', `(limit must be an integer from 1 to ${MAX_LIMIT})`);
  }
  const oldestQueryable = now - retentionMs;
  const to = params.to ?? now;
  const from = params.from ?? Math.min(to, now) - DEFAULT_WINDOW_MS;
  if (from >= to) throw new CtsError('CTS.9400', '(from must be earlier than to)');
  const filters: Partial<Record<TraceFilter, string>> = {};
  for (const name of TRACE_FILTER_NAMES) {
    const value = params[name];
    if (value !== undefined && value !== '') filters[name] = value;
  }
  return {
    eventType,
    trackerName: params.tracker_name || (eventType === 'system' ? 'system' : undefined),
    // Only the retention window is queryable (7 days by default, as CTS).
    from: Math.max(from, oldestQueryable - 1),
    to,
    limit,
    marker: params.next || undefined,
    traceId: params.trace_id || undefined,
    filters,
  };
}
