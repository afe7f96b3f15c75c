/**
 * JSON body parsing that keeps the raw bytes: the AK/SK signature covers the body exactly as
 * sent (spec §6a pitfall 8), so the parser must never re-serialise. An empty body with a JSON
 * content type is normal: the SDK sends one on every GET and DELETE (clients.md §1.5).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CtsError } from '../core/error-catalog.js';
import { MAX_RECORDED_DEPTH } from '../core/trace/redact.js';

/**
 * Whether the JSON text nests arrays and objects deeper than `max`: such a body could not be
 * recorded in the call's trace (redact.ts), so it is refused before anything walks it.
 */
function nestedDeeperThan(bytes: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

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
    if (nestedDeeperThan(body, MAX_RECORDED_DEPTH)) {
      throw new CtsError('CTS.0003', `(JSON nested deeper than ${MAX_RECORDED_DEPTH} levels)`);
    }
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
