/**
 * Secrets never land in a trace: request and response bodies are recorded with the values of
 * secret-looking fields replaced. Matching is by key name, at any depth, case-insensitively.
 */
const SECRET_KEY = /secret|passw|token|private[_-]?key|credential|authorization|^sk$|signature/i;
export const REDACTED = '******';

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : redactSecrets(v);
    }
    return out;
  }
  return value;
}

/** The body as CTS records it: JSON text of the redacted value, or undefined when there was none. */
export function recordedBody(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return JSON.stringify(redactSecrets(value));
}
