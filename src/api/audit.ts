/**
 * The API side of self-audit: collects the facts of a request (who, from where, with what) for
 * the services that record traces, and records the trace of every audited call that failed —
 * validation errors, authentication failures on a known project, conflicts — before the error
 * response is sent, so an acknowledged failure has its trace too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Access } from '../core/authz.js';
import { userOf, type AuditedOperation, type RequestFacts } from '../core/trace/audit-trace.js';
import type { AuditRecorder } from '../service/audit-recorder.js';

/** What an API route does, for authorisation and for its trace. */
export interface ApiOperation extends AuditedOperation {
  readonly access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    operation?: ApiOperation;
  }
  interface FastifyRequest {
    /** ms since the epoch when the request arrived. */
    receivedAt: number;
  }
}

const API_VERSION = /^\/(v\d+(?:\.\d+)?)\//;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function requestFacts(request: FastifyRequest): RequestFacts {
  const params = request.params as Record<string, string | undefined>;
  const principal = request.principal;
  const path = request.url.split('?')[0] ?? request.url;
  return {
    projectId: params['project_id'] ?? principal?.projectId ?? '',
    domainId: principal?.domainId ?? '',
    user: principal ? userOf(principal) : undefined,
    sourceIp: request.ip,
    userAgent: header(request, 'user-agent'),
    requestId: request.id,
    apiVersion: API_VERSION.exec(path)?.[1] ?? '',
    time: request.receivedAt,
    // Only a member of the project gets its request body into the project's trail: a stranger's
    // refused call (unauthenticated, or another project's key) is recorded without its content.
    requestBody: principal && principal.projectId === params['project_id'] ? request.body : undefined,
    contentLength: request.rawBody?.length ?? 0,
    resourceUrl: path,
    readOnly: request.method === 'GET' || request.method === 'HEAD',
  };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function registerAudit(app: FastifyInstance, recorder: AuditRecorder): void {
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', async (request) => {
    request.receivedAt = Date.now();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const operation = request.routeOptions.config.operation;
    // A rate-limited caller gets no trace per attempt: that is what the limit is for (metrics count them).
    if (!operation || reply.statusCode < 400 || reply.statusCode === 429) return payload;
    // Every failed write is recorded; a read or an ingest only when an authenticated caller was
    // refused permission (who tried to read what they may not is worth knowing).
    const refused = reply.statusCode === 403 && request.principal !== undefined;
    if (operation.access !== 'write' && !refused) return payload;
    const body = request.body as Record<string, unknown> | undefined;
    const name = typeof body?.['tracker_name'] === 'string' ? body['tracker_name'] : undefined;
    const errorBody = parseJson(payload) as { error_msg?: string } | undefined;
    try {
      await recorder.recordFailure(
        requestFacts(request),
        { traceName: operation.traceName, resourceType: operation.resourceType, resourceName: name },
        { httpStatus: reply.statusCode, response: errorBody, message: errorBody?.error_msg },
      );
    } catch (err) {
      // The caller still gets its error; the missing trace is logged loudly.
      request.log.error({ err }, 'could not record the trace of a failed call');
    }
    return payload;
  });
}
