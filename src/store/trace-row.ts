/** A trace as both stores keep it: the indexed columns, and the wire JSON plus stored-only fields. */
import type { Trace } from '../core/trace/trace.js';
import { fromWireAndStored, toWireTrace, type StoredOnlyFields, type WireTrace } from '../core/trace/wire.js';

/** The columns of a trace row, in this order, after `seq`. */
export const TRACE_COLUMNS = [
  'trace_id',
  'project_id',
  'domain_id',
  'tracker_name',
  'event_type',
  'time',
  'record_time',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user_name',
  'access_key_id',
  'enterprise_project_id',
  'user_agent',
  'content_length',
  'total_time',
  'wire',
] as const;

export type TraceRowValues = Array<string | number | null>;

/** The values of TRACE_COLUMNS for a trace. */
export function traceRowValues(t: Trace): TraceRowValues {
  return [
    t.trace_id,
    t.project_id,
    t.domain_id,
    t.tracker_name,
    t.event_type,
    t.time,
    t.record_time,
    t.service_type,
    t.resource_type,
    t.resource_id ?? null,
    t.resource_name ?? null,
    t.trace_name,
    t.trace_rating,
    t.user.name ?? t.user.user_name ?? null,
    t.user.access_key_id ?? null,
    t.enterprise_project_id ?? null,
    t.user_agent ?? null,
    t.content_length ?? null,
    t.total_time ?? null,
    JSON.stringify(toWireTrace(t)),
  ];
}

/** The columns a delivery reads back. */
export interface DeliveryRow {
  seq: number;
  wire: string;
  event_type: Trace['event_type'];
  tracker_name: string;
  project_id: string;
  domain_id: string;
  user_agent: string | null;
  content_length: number | null;
  total_time: number | null;
}

export function traceFromRow(r: DeliveryRow): { seq: number; trace: Trace } {
  const stored: StoredOnlyFields = {
    event_type: r.event_type,
    tracker_name: r.tracker_name,
    project_id: r.project_id,
    domain_id: r.domain_id,
  };
  if (r.user_agent !== null) stored.user_agent = r.user_agent;
  if (r.content_length !== null) stored.content_length = r.content_length;
  if (r.total_time !== null) stored.total_time = r.total_time;
  return { seq: r.seq, trace: fromWireAndStored(JSON.parse(r.wire) as WireTrace, stored) };
}
