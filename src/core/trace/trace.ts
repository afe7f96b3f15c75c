/**
 * A trace: one recorded operation (spec §2). Stored in the shape of §2.2 (with the stored-only
 * fields); the list API (§2.1) emits a subset of it.
 */
export const TRACE_RATINGS = ['normal', 'warning', 'incident'] as const;
export type TraceRating = (typeof TRACE_RATINGS)[number];

export const MANAGEMENT_TRACE_TYPES = ['ConsoleAction', 'ApiCall', 'SystemAction'] as const;
export const DATA_TRACE_TYPES = ['ObsSDK', 'ObsAPI'] as const;
export const TRACE_TYPES = [...MANAGEMENT_TRACE_TYPES, ...DATA_TRACE_TYPES] as const;
export type TraceType = (typeof TRACE_TYPES)[number];

/** `system` for management traces, `data` for OBS data-plane traces (§2.2 event_type). */
export type EventType = 'system' | 'data';

export interface TraceUser {
  id?: string;
  name?: string;
  user_name?: string;
  domain?: { id?: string; name?: string };
  account_id?: string;
  access_key_id?: string;
  principal_urn?: string;
  principal_id?: string;
  principal_is_root_user?: string;
  type?: string;
  invoked_by?: string[];
  session_context?: { attributes?: { created_at?: string; mfa_authenticated?: string } };
}

export interface Trace {
  trace_id: string;
  trace_name: string;
  trace_rating: TraceRating;
  trace_type: TraceType;
  event_type: EventType;
  tracker_name: string;
  project_id: string;
  domain_id: string;
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
  user_agent?: string;
  content_length?: number;
  total_time?: number;
}
