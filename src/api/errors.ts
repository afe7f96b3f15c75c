/**
 * Turns every failure into the CTS wire error `{"error_code","error_msg"}` with the catalog's
 * status (spec §4): our own CtsErrors, schema validation failures (mapped per route to the
 * field-specific CTS code), and Fastify's framework errors. Unknown errors become CTS.9500
 * without any detail: a stack trace never reaches the wire.
 */
import { STATUS_CODES as HTTP_STATUS_TEXT } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Router, { type HTTPMethod } from 'find-my-way';
import { CtsError, type CtsErrorCode } from '../core/error-catalog.js';
import { uuidv7 } from '../core/ids.js';
import { REQUEST_ID_HEADER } from './observability.js';

/**
 * Per-route map from a request field (JSON pointer below the request part, e.g.
 * `/obs_info/bucket_name`, or a query parameter name) to the CTS code its validation failure
 * reports. The longest matching prefix wins; unmapped body fields report CTS.0003.
 */
export type FieldErrorCodes = Readonly<Record<string, CtsErrorCode>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    fieldErrors?: FieldErrorCodes;
  }
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

function fieldPath(issue: ValidationIssue): string {
  const missing = issue.params['missingProperty'];
  return typeof missing === 'string' ? `${issue.instancePath}/${missing}` : issue.instancePath;
}

function lookupCode(codes: FieldErrorCodes | undefined, path: string): CtsErrorCode | undefined {
  if (!codes) return undefined;
  let best: CtsErrorCode | undefined;
  let bestLength = -1;
  for (const [prefix, code] of Object.entries(codes)) {
    const normalised = prefix.startsWith('/') ? prefix : `/${prefix}`;
    if ((path === normalised || path.startsWith(`${normalised}/`)) && normalised.length > bestLength) {
      best = code;
      bestLength = normalised.length;
    }
  }
  return best;
}

function validationError(error: FastifyError, request: FastifyRequest): CtsError {
  const issue = (error.validation as ValidationIssue[] | undefined)?.[0];
  const part = error.validationContext ?? 'body';
  const path = issue ? fieldPath(issue) : '';
  const code = lookupCode(request.routeOptions.config.fieldErrors, path) ?? (part === 'body' ? 'CTS.0003' : 'CTS.9400');
  const where = part === 'body' ? `body${path.replace(/\//g, '.')}` : `${part} ${path.replace(/^\//, '')}`;
  return new CtsError(code, issue ? `(${where} ${issue.message ?? 'is invalid'})` : undefined);
}

const STATUS_CODES: Readonly<Record<number, CtsErrorCode>> = {
  400: 'CTS.0003',
  401: 'CTS.9401',
  403: 'CTS.0013',
  404: 'CTS.9404',
  405: 'CTS.9405',
  413: 'CTS.9413',
  415: 'CTS.9415',
  429: 'CTS.9429',
  503: 'CTS.9503',
};

export function toCtsError(error: unknown, request: FastifyRequest): CtsError {
  if (error instanceof CtsError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return validationError(fastifyError as FastifyError, request);
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new CtsError('CTS.9413');
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new CtsError('CTS.9415');
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new CtsError(STATUS_CODES[status] ?? 'CTS.9400');
  }
  return new CtsError('CTS.9500');
}

export function sendCtsError(reply: FastifyReply, error: CtsError): FastifyReply {
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toWire());
}

/**
 * Router-level failures (a malformed percent-encoding, an over-long path parameter) that Fastify
 * answers before any hook or the error handler runs: without this they get Fastify's own body.
 */
export function sendFrameworkError(_error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header(REQUEST_ID_HEADER, request.id);
  void sendCtsError(reply, new CtsError('CTS.9400'));
}

/**
 * Requests Node's HTTP parser refuses (bad request line, invalid or duplicate Content-Length,
 * oversized headers) never reach Fastify; answer them in the CTS shape on the raw socket.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket, log: FastifyBaseLogger): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const cts = new CtsError(
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'CTS.9431'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'CTS.9408'
        : 'CTS.9400',
  );
  log.debug({ err: error, code: cts.code }, 'malformed request');
  if (socket.writable) {
    const body = JSON.stringify(cts.toWire());
    socket.write(
      `HTTP/1.1 ${cts.status} ${HTTP_STATUS_TEXT[cts.status] ?? ''}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${REQUEST_ID_HEADER}: ${uuidv7()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    // Also set by the observability hook, unless an earlier onRequest hook failed.
    reply.header(REQUEST_ID_HEADER, request.id);
    const cts = toCtsError(error, request);
    if (cts.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ err: error, code: cts.code }, 'request rejected');
    return sendCtsError(reply, cts);
  });

  // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own check is off (server.ts) so the answer is a CTS error.
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new CtsError('CTS.9400', '(missing Host header)');
    }
  });

  // A mirror of the route table, so the 404 handler can tell "no such path" from "wrong method".
  const routes = Router();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (!routes.hasRoute(method as HTTPMethod, route.url))
        routes.on(method as HTTPMethod, route.url, () => undefined);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const otherMethod = (['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const).some(
      (m) => m !== request.method && routes.find(m, path) !== null,
    );
    return sendCtsError(reply, new CtsError(otherMethod ? 'CTS.9405' : 'CTS.9404'));
  });
}
