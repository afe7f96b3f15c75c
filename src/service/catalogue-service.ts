/**
 * Catalogue use cases (spec §1.8): the auditable operations of a project (OpenCTS's own, those
 * seen in its recorded traces, and an optional catalogue file), the resource types of a domain,
 * and the users with traces in the last 30 days. Every answer comes from small tables kept up to
 * date when traces are recorded, never from a scan of the traces.
 */
import {
  groupOperations,
  groupResources,
  type OperationEntry,
  type OperationGroup,
  type OperationsQuery,
} from '../core/catalogue/operations.js';
import { SELF_SERVICE_TYPE } from '../core/trace/audit-trace.js';
import type { Store } from '../store/store.js';
import type { Caller } from './tracker-service.js';

export const ACTIVE_USER_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export const CATALOGUE_OPERATIONS = {
  operations: { traceName: 'listOperations', resourceType: 'operation' },
  resources: { traceName: 'listTraceResources', resourceType: 'resource' },
  users: { traceName: 'listUserResources', resourceType: 'user' },
} as const;

/** Operations OpenCTS records of itself that no API route declares (background actions). */
export const SYSTEM_ACTIONS: readonly OperationEntry[] = [
  { service_type: SELF_SERVICE_TYPE, resource_type: 'tracker', trace_name: 'updateTrackerStatus' },
];

export interface CatalogueServiceDeps {
  readonly store: Store;
  /** Entries of the operations catalogue file, if one is configured. */
  readonly fileOperations: readonly OperationEntry[];
  readonly now?: () => number;
}

export class CatalogueService {
  private readonly now: () => number;
  /** OpenCTS's own operations, added as the API registers its routes (api/routes/catalogue.ts). */
  private readonly self = new Map<string, OperationEntry>();

  constructor(private readonly deps: CatalogueServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  addSelfOperation(entry: OperationEntry): void {
    this.self.set(JSON.stringify([entry.service_type, entry.resource_type, entry.trace_name]), entry);
  }

  private fixed(): OperationEntry[] {
    return [...SYSTEM_ACTIONS, ...this.self.values(), ...this.deps.fileOperations];
  }

  async operations(caller: Caller, query: OperationsQuery): Promise<OperationGroup[]> {
    const seen = await this.deps.store.listSeenOperations(caller.projectId);
    return groupOperations([...this.fixed(), ...seen], query);
  }

  async resources(domainId: string): Promise<Array<{ service_type: string; resource: string[] }>> {
    const seen = await this.deps.store.listSeenResources(domainId);
    return groupResources([...this.fixed(), ...seen]);
  }

  async users(caller: Caller): Promise<Array<{ name: string }>> {
    const names = await this.deps.store.listActiveUsers(caller.projectId, this.now() - ACTIVE_USER_WINDOW_MS);
    return names.map((name) => ({ name }));
  }
}
