/**
 * The trace as `GET /v3/{project_id}/traces` returns it (spec §2.1): the stored-only fields of
 * §2.2 are left out, and `code`, `request`, `response`, `message` are strings (Go clients decode
 * them into `string`, spec §6a pitfall 1).
 */
import type { Trace, TraceUser } from './trace.js';

export interface WireTrace {
  trace_id: string;
  trace_name: string;
  trace_rating: string;
  trace_type: string;
  service_type: string;
  resource_type: string;
  resource_id?: string;
  resource_name?: string;
  request?: string;
  response?: string;
  code?: string;
  api_version?: string;
  message?: string;
  time: number;
  record_time: number;
  source_ip?: string;
  request_id?: string;
  location_info?: string;
  endpoint?: string;
  resource_url?: string;
  enterprise_project_id?: string;
  resource_account_id?: string;
  read_only?: boolean;
  operation_id?: string;
  user: TraceUser;
}

const WIRE_FIELDS = [
  'trace_id',
  'trace_name',
  'trace_rating',
  'trace_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'request',
  'response',
  'code',
  'api_version',
  'message',
  'time',
  'record_time',
  'source_ip',
  'request_id',
  'location_info',
  'endpoint',
  'resource_url',
  'enterprise_project_id',
  'resource_account_id',
  'read_only',
  'operation_id',
  'user',
] as const satisfies ReadonlyArray<keyof Trace & keyof WireTrace>;

export function toWireTrace(trace: Trace): WireTrace {
  const out: Record<string, unknown> = {};
  for (const field of WIRE_FIELDS) {
    const value = trace[field];
    if (value !== undefined) out[field] = value;
  }
  return out as unknown as WireTrace;
}

/** Fields that exist only in the stored and delivered shape (spec §2.2). */
export interface StoredOnlyFields {
  event_type: Trace['event_type'];
  tracker_name: string;
  project_id: string;
  domain_id: string;
  user_agent?: string;
  content_length?: number;
  total_time?: number;
}

export function fromWireAndStored(wire: WireTrace, stored: StoredOnlyFields): Trace {
  return { ...wire, ...stored } as Trace;
}
