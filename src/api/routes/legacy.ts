/**
 * Legacy v1.0/v2.0 endpoints (spec §1.11) that Open Telekom Cloud's Terraform provider still uses in
 * its main regions (`opentelekomcloud_cts_tracker_v1`, gophertelekomcloud `cts/v1/tracker` and
 * `cts/v2/traces`). Thin handlers over the same services as v3: the same trackers, traces, rules,
 * errors and self-audit traces; only the request and response shapes differ.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CtsError } from '../../core/error-catalog.js';
import {
  fromLegacyInput,
  legacyTraceSelection,
  toLegacyCreated,
  toLegacyView,
  type LegacyTrackerInput,
} from '../../core/tracker/legacy-tracker.js';
import { SYSTEM_TRACKER_NAME } from '../../core/tracker/tracker.js';
import type { ListTracesParams } from '../../core/trace/list-query.js';
import type { TraceService } from '../../service/trace-service.js';
import { TRACKER_OPERATIONS, type TrackerService } from '../../service/tracker-service.js';
import { requestFacts } from '../audit.js';
import { principalOf } from '../auth/authenticate.js';
import {
  LEGACY_TRACKER_BODY_ERRORS,
  LEGACY_TRACKER_QUERY_ERRORS,
  LegacyCreateTrackerBody,
  LegacyCreatedTracker,
  LegacyListTracesQuery,
  LegacyListTracesResponse,
  LegacyTrackerParams,
  LegacyTrackerQuery,
  LegacyTrackerView,
  LegacyUpdateTrackerBody,
} from '../schemas/legacy.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const tags = ['legacy'];
export const LEGACY_TRACE_VERSIONS = ['v1.0', 'v2.0'] as const;

/** v1.0 names only the management tracker: `?tracker_name` defaults to `system`. */
function systemSelector(name: string | undefined) {
  return { tracker_type: 'system', tracker_name: name ?? SYSTEM_TRACKER_NAME };
}

/** A stored trace with `trace_status`, the name gophertelekomcloud's v2 model reads the rating from. */
function withTraceStatus(wire: string): string {
  const trace = JSON.parse(wire) as { trace_rating?: string };
  return JSON.stringify({ ...trace, trace_status: trace.trace_rating });
}

export function registerLegacyRoutes(app: FastifyInstance, deps: { trackers: TrackerService; traces: TraceService }) {
  const { trackers, traces } = deps;

  app.post(
    '/v1.0/:project_id/tracker',
    {
      config: {
        auth: 'project',
        fieldErrors: LEGACY_TRACKER_BODY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.create, access: 'write' },
      },
      schema: {
        summary: 'CreateTracker (v1.0)',
        tags,
        params: ProjectParams,
        body: LegacyCreateTrackerBody,
        response: { 201: LegacyCreatedTracker, ...errors },
      },
    },
    async (request, reply) => {
      const input = fromLegacyInput(request.body as LegacyTrackerInput);
      const tracker = await trackers.create(principalOf(request), input, requestFacts(request));
      return reply.code(201).send(toLegacyCreated(tracker));
    },
  );

  app.put(
    '/v1.0/:project_id/tracker/:tracker_name',
    {
      config: {
        auth: 'project',
        fieldErrors: LEGACY_TRACKER_BODY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.update, access: 'write' },
      },
      schema: {
        summary: 'UpdateTracker (v1.0)',
        tags,
        params: LegacyTrackerParams,
        body: LegacyUpdateTrackerBody,
        response: { 200: Type.Null({ description: 'empty body' }), ...errors },
      },
    },
    async (request, reply) => {
      const { tracker_name: name } = request.params as { tracker_name: string };
      const input = fromLegacyInput(request.body as LegacyTrackerInput, name);
      await trackers.update(principalOf(request), input, requestFacts(request));
      return reply.code(200).send();
    },
  );

  app.get(
    '/v1.0/:project_id/tracker',
    {
      config: {
        auth: 'project',
        fieldErrors: LEGACY_TRACKER_QUERY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.list, access: 'read' },
      },
      schema: {
        summary: 'ShowTracker (v1.0)',
        tags,
        params: ProjectParams,
        querystring: LegacyTrackerQuery,
        response: { 200: LegacyTrackerView, ...errors },
      },
    },
    async (request) => {
      const { tracker_name: name } = request.query as { tracker_name?: string };
      const [tracker] = await trackers.list(principalOf(request), systemSelector(name));
      // v1.0 answers one object, not a list: nothing to show is "not found".
      if (!tracker) throw new CtsError('CTS.0214');
      return toLegacyView(tracker);
    },
  );

  app.delete(
    '/v1.0/:project_id/tracker',
    {
      config: {
        auth: 'project',
        fieldErrors: LEGACY_TRACKER_QUERY_ERRORS,
        operation: { ...TRACKER_OPERATIONS.delete, access: 'write' },
      },
      schema: {
        summary: 'DeleteTracker (v1.0)',
        tags,
        params: ProjectParams,
        querystring: LegacyTrackerQuery,
        response: { 204: Type.Null({ description: 'no content' }), ...errors },
      },
    },
    async (request, reply) => {
      const { tracker_name: name } = request.query as { tracker_name?: string };
      await trackers.remove(principalOf(request), systemSelector(name), requestFacts(request));
      return reply.code(204).send();
    },
  );

  for (const version of LEGACY_TRACE_VERSIONS) {
    app.get(
      `/${version}/:project_id/:tracker_name/trace`,
      {
        config: { auth: 'project', operation: { traceName: 'listTraces', resourceType: 'trace', access: 'read' } },
        schema: {
          summary: `ListTraces (${version})`,
          tags,
          params: LegacyTrackerParams,
          querystring: LegacyListTracesQuery,
          response: { 200: LegacyListTracesResponse, ...errors },
        },
      },
      async (request, reply) => {
        const { tracker_name: name } = request.params as { tracker_name: string };
        const { trace_status: status, ...query } = request.query as ListTracesParams & { trace_status?: string };
        const params: ListTracesParams = { ...query, ...legacyTraceSelection(name) };
        if (params.trace_rating === undefined && status !== undefined) params.trace_rating = status;
        const page = await traces.list(principalOf(request), params);
        const items = page.wire.map(withTraceStatus);
        const body = `{"traces":[${items.join(',')}],"meta_data":{"count":${items.length},"marker":${JSON.stringify(page.marker)}}}`;
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );
  }
}
