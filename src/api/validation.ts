/**
 * Schema compilers. Bodies are validated strictly (no type coercion: `"tracker_name": 123` is an
 * error, not "123"); query strings and path parameters arrive as text and are coerced to the
 * declared types (`limit=10` → 10).
 */
import { Ajv, type Options } from 'ajv';
import type { FastifyInstance } from 'fastify';

const common: Options = { allErrors: false, useDefaults: true, strict: false };

export function registerValidators(app: FastifyInstance): void {
  const bodies = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema) : text.compile(schema),
  );
}
