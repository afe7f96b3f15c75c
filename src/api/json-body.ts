/**
 * JSON body parsing that keeps the raw bytes: the AK/SK signature covers the body exactly as
 * sent (spec §6a pitfall 8), so the parser must never re-serialise. An empty body with a JSON
 * content type is normal: the SDK sends one on every GET and DELETE (clients.md §1.5).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CtsError } from '../core/error-catalog.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes as received, or undefined when the request had none. */
    rawBody: Buffer | undefined;
  }
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.decorateRequest('rawBody', undefined);
  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, body: Buffer): unknown => {
    request.rawBody = body;
    if (body.length === 0) return undefined;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new CtsError('CTS.0003');
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parse(request, body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // Any other content type: keep the bytes for the signature and refuse the body if there is one
  // (CTS accepts JSON only), but let bodiless requests through whatever they claim to be.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    if (bytes.length === 0) done(null, undefined);
    else done(new CtsError('CTS.9415'), undefined);
  });
}
