/** Raw signed HTTP calls (for what the SDK hides: response headers, extension endpoints, exact bytes). */
import { signRequest } from '../../src/api/auth/sdk-hmac-sha256.js';

export interface SigningKey {
  readonly access_key_id: string;
  readonly secret_access_key: string;
  readonly project_id: string;
}

export interface SignedCall {
  readonly method?: string;
  readonly path: string;
  readonly query?: Record<string, string | number | undefined>;
  readonly body?: unknown;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

export async function signedFetch(baseUrl: string, key: SigningKey, call: SignedCall): Promise<CallResult> {
  const url = new URL(call.path, baseUrl);
  const query: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(call.query ?? {})) {
    if (v !== undefined) query.push([k, String(v)]);
  }
  for (const [k, v] of query) url.searchParams.append(k, v);
  const body = call.body === undefined ? '' : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/json',
    'x-project-id': key.project_id,
  };
  const method = call.method ?? (call.body === undefined ? 'GET' : 'POST');
  const auth = signRequest(
    { method, path: url.pathname, query, headers, body },
    { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
  );
  // URLSearchParams encodes spaces as '+', which the signer reads as a literal plus: use %20.
  const target = `${url.origin}${url.pathname}${url.search.replace(/\+/g, '%20')}`;
  const res = await fetch(target, { method, headers: { ...headers, ...auth }, body: body === '' ? undefined : body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
