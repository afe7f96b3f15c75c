/**
 * Traces of what OpenCTS itself does without a caller (trace_type SystemAction, spec §2.1): a
 * tracker going to `error` because its bucket vanished, and back to `enabled` when delivery works
 * again.
 */
import type { Tracker } from '../tracker/tracker.js';
import type { Trace } from './trace.js';
import { SELF_SERVICE_TYPE } from './audit-trace.js';

export function trackerStatusTrace(
  before: Tracker,
  after: Tracker,
  ids: { traceId: string; time: number },
  reason: string,
): Trace {
  const failed = after.status === 'error';
  return {
    trace_id: ids.traceId,
    trace_name: 'updateTrackerStatus',
    trace_rating: failed ? 'warning' : 'normal',
    trace_type: 'SystemAction',
    event_type: 'system',
    tracker_name: 'system',
    project_id: after.project_id,
    domain_id: after.domain_id,
    service_type: SELF_SERVICE_TYPE,
    resource_type: 'tracker',
    resource_id: after.id,
    resource_name: after.tracker_name,
    request: JSON.stringify({ status: before.status, ...(before.detail ? { detail: before.detail } : {}) }),
    response: JSON.stringify({ status: after.status, ...(after.detail ? { detail: after.detail } : {}) }),
    message: reason,
    time: ids.time,
    record_time: ids.time,
    source_ip: '',
    enterprise_project_id: '0',
    read_only: false,
    operation_id: 'cts:tracker:updateTrackerStatus',
    user: {},
  };
}
