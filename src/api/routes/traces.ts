/** Trace endpoints: ListTraces (spec §1.6) and the ingest extension for other services. */
import type { FastifyInstance } from 'fastify';
import { MAX_INGEST_BYTES, type IngestedTrace } from '../../core/trace/ingest.js';
import type { ListTracesParams } from '../../core/trace/list-query.js';
import type { TraceService } from '../../service/trace-service.js';
import { principalOf } from '../auth/authenticate.js';
import { ErrorSchema, ProjectParams } from '../schemas/tracker.js';
import { IngestTracesBody, IngestTracesResponse, ListTracesQuery, ListTracesResponse } from '../schemas/trace.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema };

export function registerTraceRoutes(app: FastifyInstance, traces: TraceService): void {
  app.get(
    '/v3/:project_id/traces',
    {
      config: { auth: 'project', operation: { traceName: 'listTraces', resourceType: 'trace', access: 'read' } },
      schema: {
        summary: 'ListTraces',
        tags: ['traces'],
        params: ProjectParams,
        querystring: ListTracesQuery,
        response: { 200: ListTracesResponse, ...errors },
      },
    },
    async (request, reply) => {
      const page = await traces.list(principalOf(request), request.query as ListTracesParams);
      // Traces are stored as their wire JSON: the page is assembled, not re-serialised.
      const body = `{"traces":[${page.wire.join(',')}],"meta_data":{"count":${page.wire.length},"marker":${JSON.stringify(page.marker)}}}`;
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.post(
    '/v3/:project_id/traces',
    {
      bodyLimit: MAX_INGEST_BYTES,
      config: { auth: 'project', operation: { traceName: 'putTraces', resourceType: 'trace', access: 'ingest' } },
      schema: {
        summary: 'IngestTraces (OpenCTS extension)',
        description:
          'Records traces reported by another service. Only access keys with the `service` role may call it. ' +
          'Up to 100 traces and 1 MB per call; a bad item rejects the whole call. Not part of the CTS API.',
        tags: ['traces', 'extensions'],
        params: ProjectParams,
        body: IngestTracesBody,
        response: { 201: IngestTracesResponse, ...errors },
      },
    },
    async (request, reply) => {
      const caller = principalOf(request);
      const { traces: items } = request.body as { traces: IngestedTrace[] };
      return reply.code(201).send({ trace_ids: await traces.ingest(caller, items) });
    },
  );
}
