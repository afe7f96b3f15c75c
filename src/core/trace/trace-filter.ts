/** The ListTraces filters (spec §1.6) that narrow on a trace field, by query parameter name. */
export const TRACE_FILTER_NAMES = [
  'service_type',
  'user',
  'resource_id',
  'resource_name',
  'resource_type',
  'trace_name',
  'trace_rating',
  'access_key_id',
  'enterprise_project_id',
] as const;
export type TraceFilter = (typeof TRACE_FILTER_NAMES)[number];
