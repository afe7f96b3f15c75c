/**
 * Traces reported by other services (an OpenCTS extension, like CloudTrail Lake's
 * PutAuditEvents): server-assigned id and record time, the caller's project and domain, and one
 * stored copy per tracker that records it (spec §1.2, §2.2).
 */
import type { DataEvent, Tracker } from '../tracker/tracker.js';
import { dataTrackersRecording, systemTrackerRecording } from './recording.js';
import { DATA_TRACE_TYPES, type Trace, type TraceRating, type TraceType, type TraceUser } from './trace.js';
import { CtsError } from '../error-catalog.js';
import { recordedBody } from './redact.js';

export const MAX_TRACES_PER_CALL = 100;
export const MAX_INGEST_BYTES = 1024 * 1024;

/** One reported trace, as validated by the ingest schema. */
export interface IngestedTrace {
  time: number;
  user: TraceUser;
  service_type: string;
  resource_type: string;
  trace_name: string;
  trace_rating: TraceRating;
  trace_type: TraceType;
  resource_id?: string;
  resource_name?: string;
  request?: unknown;
  response?: unknown;
  code?: string | number;
  api_version?: string;
  message?: string;
  source_ip?: string;
  request_id?: string;
  location_info?: string;
  endpoint?: string;
  resource_url?: string;
  enterprise_project_id?: string;
  resource_account_id?: string;
  read_only?: boolean;
  operation_id?: string;
  user_agent?: string;
  content_length?: number;
  total_time?: number;
}

const OPTIONAL_TEXT = [
  'resource_id',
  'resource_name',
  'api_version',
  'message',
  'source_ip',
  'request_id',
  'location_info',
  'endpoint',
  'resource_url',
  'resource_account_id',
  'operation_id',
  'user_agent',
] as const;

/** A reported request/response body as stored: JSON text with secret fields redacted. */
function recordedText(value: unknown): string | undefined {
  if (typeof value !== 'string') return recordedBody(value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value; // not JSON: stored as sent
  }
  // Outside the try: JSON too deep to redact is refused, never stored unredacted.
  return recordedBody(parsed) ?? value;
}

export function isDataTrace(item: Pick<IngestedTrace, 'trace_type'>): boolean {
  return (DATA_TRACE_TYPES as readonly string[]).includes(item.trace_type);
}

/**
 * A data-plane trace names its object as `bucket` or `bucket/key` in resource_name, and says
 * whether it read or wrote with read_only.
 */
export function dataTarget(item: IngestedTrace, index: number): { bucket: string; event: DataEvent } {
  const bucket = item.resource_name?.split('/')[0];
  if (!bucket) {
    throw new CtsError('CTS.0003', `(traces[${index}]: a ${item.trace_type} trace needs resource_name "bucket/key")`);
  }
  if (typeof item.read_only !== 'boolean') {
    throw new CtsError('CTS.0003', `(traces[${index}]: a ${item.trace_type} trace needs read_only)`);
  }
  return { bucket, event: item.read_only ? 'READ' : 'WRITE' };
}

export interface IngestContext {
  readonly projectId: string;
  readonly domainId: string;
  readonly traceId: string;
  readonly recordTime: number;
}

function storedTrace(item: IngestedTrace, ctx: IngestContext, trackerName: string): Trace {
  const trace: Trace = {
    trace_id: ctx.traceId,
    trace_name: item.trace_name,
    trace_rating: item.trace_rating,
    trace_type: item.trace_type,
    event_type: isDataTrace(item) ? 'data' : 'system',
    tracker_name: trackerName,
    project_id: ctx.projectId,
    domain_id: ctx.domainId,
    service_type: item.service_type,
    resource_type: item.resource_type,
    time: item.time,
    record_time: ctx.recordTime,
    user: item.user,
    enterprise_project_id: item.enterprise_project_id ?? '0',
  };
  for (const field of OPTIONAL_TEXT) {
    const value = item[field];
    if (value !== undefined) trace[field] = value;
  }
  const request = recordedText(item.request);
  if (request !== undefined) trace.request = request;
  const response = recordedText(item.response);
  if (response !== undefined) trace.response = response;
  if (item.code !== undefined) trace.code = String(item.code);
  if (item.read_only !== undefined) trace.read_only = item.read_only;
  if (item.content_length !== undefined) trace.content_length = item.content_length;
  if (item.total_time !== undefined) trace.total_time = item.total_time;
  return trace;
}

/** The stored copies of one reported trace: none when no tracker records it. */
export function tracesToStore(
  item: IngestedTrace,
  index: number,
  trackers: readonly Tracker[],
  ctx: IngestContext,
): Trace[] {
  if (!isDataTrace(item)) return systemTrackerRecording(trackers) ? [storedTrace(item, ctx, 'system')] : [];
  const { bucket, event } = dataTarget(item, index);
  return dataTrackersRecording(trackers, bucket, event).map((t) => storedTrace(item, ctx, t.tracker_name));
}
