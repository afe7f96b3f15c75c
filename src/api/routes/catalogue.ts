/**
 * ListOperations, ListTraceResources, ListUserResources (spec §1.8) and the configuration
 * (§1.10): thin handlers over CatalogueService and ConfigurationService.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SELF_SERVICE_TYPE } from '../../core/trace/audit-trace.js';
import { CATALOGUE_OPERATIONS, type CatalogueService } from '../../service/catalogue-service.js';
import { CONFIGURATION_OPERATIONS, type ConfigurationService } from '../../service/configuration-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  ConfigurationBody,
  ConfigurationResponse,
  DomainParams,
  OperationsQuery,
  OperationsResponse,
  ResourcesResponse,
  UsersResponse,
} from '../schemas/catalogue.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema };

/**
 * Collects the operation of every route registered from now on into the catalogue of OpenCTS's
 * own operations (service CTS), so a new endpoint is listed by ListOperations without a second
 * list to keep in step. Call before registering routes.
 */
export function collectSelfOperations(app: FastifyInstance, catalogue: CatalogueService): void {
  app.addHook('onRoute', (route) => {
    const operation = route.config?.operation;
    if (!operation) return;
    catalogue.addSelfOperation({
      service_type: SELF_SERVICE_TYPE,
      resource_type: operation.resourceType,
      trace_name: operation.traceName,
    });
  });
}

export function registerCatalogueRoutes(app: FastifyInstance, catalogue: CatalogueService): void {
  app.get(
    '/v3/:project_id/operations',
    {
      config: { auth: 'project', operation: { ...CATALOGUE_OPERATIONS.operations, access: 'read' } },
      schema: {
        summary: 'ListOperations',
        description:
          "The auditable operations per service and resource type: OpenCTS's own (service CTS), every " +
          "one seen in this project's recorded traces, and the configured catalogue file.",
        tags: ['catalogue'],
        params: ProjectParams,
        querystring: OperationsQuery,
        response: { 200: OperationsResponse, ...errors },
      },
    },
    async (request) => ({
      operations: await catalogue.operations(
        principalOf(request),
        request.query as { service_type?: string; resource_type?: string },
      ),
    }),
  );

  app.get(
    '/v3/:domain_id/resources',
    {
      config: { auth: 'domain', operation: { ...CATALOGUE_OPERATIONS.resources, access: 'read' } },
      schema: {
        summary: 'ListTraceResources',
        description: "The resource types of each service in the traces of the domain's projects.",
        tags: ['catalogue'],
        params: DomainParams,
        response: { 200: ResourcesResponse, ...errors },
      },
    },
    async (request) => ({ resources: await catalogue.resources(principalOf(request).domainId) }),
  );

  app.get(
    '/v3/:project_id/user-resources',
    {
      config: { auth: 'project', operation: { ...CATALOGUE_OPERATIONS.users, access: 'read' } },
      schema: {
        summary: 'ListUserResources',
        description: 'The users with a trace (by event time) in the last 30 days.',
        tags: ['catalogue'],
        params: ProjectParams,
        response: { 200: UsersResponse, ...errors },
      },
    },
    async (request) => ({ users: await catalogue.users(principalOf(request)) }),
  );
}

export function registerConfigurationRoutes(app: FastifyInstance, configuration: ConfigurationService): void {
  app.get(
    '/v3/:project_id/configuration',
    {
      config: { auth: 'project', operation: { ...CONFIGURATION_OPERATIONS.show, access: 'read' } },
      schema: {
        summary: 'ShowConfiguration',
        tags: ['configuration'],
        params: ProjectParams,
        response: { 200: ConfigurationResponse, ...errors },
      },
    },
    async (request) => configuration.get(principalOf(request)),
  );

  app.put(
    '/v3/:project_id/configuration',
    {
      config: { auth: 'project', operation: { ...CONFIGURATION_OPERATIONS.update, access: 'write' } },
      schema: {
        summary: 'UpdateConfiguration',
        description: 'Replaces the configuration (an omitted support_read_only_services means none).',
        tags: ['configuration'],
        params: ProjectParams,
        body: ConfigurationBody,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      await configuration.put(
        principalOf(request),
        request.body as {
          is_sync_global_trace: boolean;
          is_support_read_only: boolean;
          support_read_only_services?: string[];
        },
        requestFacts(request),
      );
      return reply.code(204).send();
    },
  );
}
