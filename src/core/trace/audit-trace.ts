/**
 * Builds the trace of an API call made to OpenCTS itself: CTS is a cloud service too, so creating
 * a tracker is a trace of service `CTS` (spec §2, DESIGN.md "as data flows").
 */
import type { Trace, TraceRating, TraceUser } from './trace.js';
import { recordedBody } from './redact.js';

export const SELF_SERVICE_TYPE = 'CTS';

/** What the API layer knows about a request, independent of HTTP types. */
export interface RequestFacts {
  readonly projectId: string;
  readonly domainId: string;
  /** Undefined when the caller could not be authenticated. */
  readonly user: TraceUser | undefined;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  readonly requestId: string;
  readonly apiVersion: string;
  /** ms since the epoch when the request arrived. */
  readonly time: number;
  readonly requestBody: unknown;
  readonly contentLength: number;
  readonly resourceUrl: string;
  readonly readOnly: boolean;
}

export interface AuditedOperation {
  readonly traceName: string;
  readonly resourceType: string;
  readonly resourceId?: string | undefined;
  readonly resourceName?: string | undefined;
}

export interface CallOutcome {
  readonly httpStatus: number;
  readonly response?: unknown;
  readonly message?: string | undefined;
}

/** normal on success, warning when the caller's request failed, incident when the service failed. */
export function ratingFor(httpStatus: number): TraceRating {
  return httpStatus >= 500 ? 'incident' : httpStatus >= 400 ? 'warning' : 'normal';
}

export function userOf(
  principal: { userId: string; userName: string; domainId: string; accessKeyId: string | undefined },
  createdAt?: number,
): TraceUser {
  const user: TraceUser = {
    id: principal.userId,
    name: principal.userName,
    user_name: principal.userName,
    domain: { id: principal.domainId, name: principal.domainId },
    account_id: principal.domainId,
    principal_urn: `iam::${principal.domainId}:user:${principal.userName}`,
    principal_id: principal.userId,
    principal_is_root_user: 'false',
    type: 'User',
    ...(createdAt !== undefined
      ? { session_context: { attributes: { created_at: String(createdAt), mfa_authenticated: 'false' } } }
      : {}),
  };
  if (principal.accessKeyId !== undefined) user.access_key_id = principal.accessKeyId;
  return user;
}

export function buildApiCallTrace(
  facts: RequestFacts,
  operation: AuditedOperation,
  outcome: CallOutcome,
  ids: { traceId: string; recordTime: number },
): Trace {
  const trace: Trace = {
    trace_id: ids.traceId,
    trace_name: operation.traceName,
    trace_rating: ratingFor(outcome.httpStatus),
    trace_type: 'ApiCall',
    event_type: 'system',
    tracker_name: 'system',
    project_id: facts.projectId,
    domain_id: facts.domainId,
    service_type: SELF_SERVICE_TYPE,
    resource_type: operation.resourceType,
    code: String(outcome.httpStatus),
    api_version: facts.apiVersion,
    time: facts.time,
    record_time: ids.recordTime,
    source_ip: facts.sourceIp,
    request_id: facts.requestId,
    resource_url: facts.resourceUrl,
    enterprise_project_id: '0',
    read_only: facts.readOnly,
    operation_id: `cts:${operation.resourceType}:${operation.traceName}`,
    user: facts.user ?? {},
    content_length: facts.contentLength,
    total_time: Math.max(0, ids.recordTime - facts.time),
  };
  if (operation.resourceId !== undefined) trace.resource_id = operation.resourceId;
  if (operation.resourceName !== undefined) trace.resource_name = operation.resourceName;
  const request = recordedBody(facts.requestBody);
  if (request !== undefined) trace.request = request;
  const response = recordedBody(outcome.response);
  if (response !== undefined) trace.response = response;
  if (outcome.message !== undefined) trace.message = outcome.message;
  if (facts.userAgent !== undefined) trace.user_agent = facts.userAgent;
  return trace;
}
