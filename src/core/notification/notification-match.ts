/**
 * Which traces a notification reports (spec §1.7): `complete` every one, `customized` those of the
 * listed operations (service type, resource type and trace name); then the filter, whose rules
 * compare six trace fields with `=` or `!=`, all (AND) or any (OR) of them.
 */
import type { WireTrace } from '../trace/wire.js';
import type { Notification } from './notification.js';
import { parseFilterRule } from './notification-rules.js';

type Matchable = Pick<
  WireTrace,
  | 'service_type'
  | 'resource_type'
  | 'trace_name'
  | 'api_version'
  | 'code'
  | 'trace_rating'
  | 'trace_type'
  | 'resource_id'
  | 'resource_name'
>;

function fieldValue(trace: Matchable, field: string): string {
  const value = (trace as Record<string, unknown>)[field];
  return value === undefined || value === null ? '' : String(value);
}

function operationMatches(n: Notification, trace: Matchable): boolean {
  if (n.operation_type === 'complete') return true;
  return n.operations.some(
    (op) =>
      op.service_type === trace.service_type &&
      op.resource_type === trace.resource_type &&
      op.trace_names.includes(trace.trace_name),
  );
}

function filterMatches(n: Notification, trace: Matchable): boolean {
  const filter = n.filter;
  if (!filter || !filter.is_support_filter || filter.rule.length === 0) return true;
  const results = filter.rule.map((text) => {
    const rule = parseFilterRule(text);
    if (!rule) return false; // validated on write; an unreadable rule never matches
    const equal = fieldValue(trace, rule.field) === rule.value;
    return rule.op === '=' ? equal : !equal;
  });
  return filter.condition === 'OR' ? results.some(Boolean) : results.every(Boolean);
}

export function notificationMatches(n: Notification, trace: Matchable): boolean {
  return n.status === 'enabled' && operationMatches(n, trace) && filterMatches(n, trace);
}
