/**
 * Secrets never land in a trace: request and response bodies are recorded with the values of
 * secret-looking fields replaced. Matching is by key name, at any depth, case-insensitively.
 */
import { CtsError } from '../error-catalog.js';

const SECRET_KEY = /secret|passw|token|private[_-]?key|credential|authorization|^sk$|signature/i;
export const REDACTED = '******';

/**
 * Deepest nesting of arrays and objects a recorded body may have. Redaction and JSON.stringify
 * recurse: a body nested a few thousand levels deep would overflow the stack (a 500, and no trace).
 */
export const MAX_RECORDED_DEPTH = 128;

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_RECORDED_DEPTH) {
    throw new CtsError('CTS.0003', `(JSON nested deeper than ${MAX_RECORDED_DEPTH} levels)`);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** The value with secret-looking fields replaced; CTS.0003 when nested deeper than MAX_RECORDED_DEPTH. */
export function redactSecrets(value: unknown): unknown {
  return redact(value, 0);
}

/** The body as CTS records it: JSON text of the redacted value, or undefined when there was none. */
export function recordedBody(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return JSON.stringify(redactSecrets(value));
}
