/**
 * The catalogue of auditable operations (spec §1.8 ListOperations, ListTraceResources): which
 * trace names exist per service and resource type. Assembled from OpenCTS's own operations,
 * the operations seen in recorded traces, and an optional catalogue file; pure merging and
 * filtering only.
 */
import { CtsError } from '../error-catalog.js';

/** One (service, resource type, trace name) that can appear in a trace. */
export interface OperationEntry {
  readonly service_type: string;
  readonly resource_type: string;
  readonly trace_name: string;
}

/** The wire shape of one ListOperations item. */
export interface OperationGroup {
  service_type: string;
  resource_type: string;
  operation_list: string[];
}

export interface OperationsQuery {
  readonly service_type?: string | undefined;
  readonly resource_type?: string | undefined;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** spec §1.8: "if resource_type is given, service_type is mandatory". */
export function checkOperationsQuery(query: OperationsQuery): void {
  if (query.resource_type !== undefined && query.service_type === undefined) {
    throw new CtsError('CTS.9400', '(resource_type needs service_type)');
  }
}

/** Groups entries per service and resource type, filtered by the query, all sorted. */
export function groupOperations(entries: Iterable<OperationEntry>, query: OperationsQuery = {}): OperationGroup[] {
  checkOperationsQuery(query);
  const groups = new Map<string, { service_type: string; resource_type: string; names: Set<string> }>();
  for (const e of entries) {
    if (query.service_type !== undefined && e.service_type !== query.service_type) continue;
    if (query.resource_type !== undefined && e.resource_type !== query.resource_type) continue;
    const id = JSON.stringify([e.service_type, e.resource_type]);
    let group = groups.get(id);
    if (!group) {
      group = { service_type: e.service_type, resource_type: e.resource_type, names: new Set() };
      groups.set(id, group);
    }
    group.names.add(e.trace_name);
  }
  return [...groups.values()]
    .sort((a, b) => compare(a.service_type, b.service_type) || compare(a.resource_type, b.resource_type))
    .map((g) => ({
      service_type: g.service_type,
      resource_type: g.resource_type,
      operation_list: [...g.names].sort(compare),
    }));
}

/** ListTraceResources: the resource types of each service, sorted. */
export function groupResources(
  entries: Iterable<Pick<OperationEntry, 'service_type' | 'resource_type'>>,
): Array<{ service_type: string; resource: string[] }> {
  const services = new Map<string, Set<string>>();
  for (const e of entries) {
    let types = services.get(e.service_type);
    if (!types) services.set(e.service_type, (types = new Set()));
    types.add(e.resource_type);
  }
  return [...services]
    .sort(([a], [b]) => compare(a, b))
    .map(([service_type, types]) => ({ service_type, resource: [...types].sort(compare) }));
}

/** Flattens groups (the ListOperations shape, also the catalogue file's) into entries. */
export function entriesOf(
  groups: ReadonlyArray<Omit<OperationGroup, 'operation_list'> & { operation_list: readonly string[] }>,
): OperationEntry[] {
  return groups.flatMap((g) =>
    g.operation_list.map((trace_name) => ({
      service_type: g.service_type,
      resource_type: g.resource_type,
      trace_name,
    })),
  );
}
