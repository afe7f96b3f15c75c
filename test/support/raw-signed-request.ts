/**
 * One HTTP call with full control over what goes on the wire (node:http, not fetch): any method,
 * a path and query string sent exactly as given, any header values Node will send (latin1), a
 * body of raw bytes. Optionally signed with SDK-HMAC-SHA256 over exactly those bytes, so hostile
 * input passes authentication and reaches validation. Used by the property tests in test/security.
 */
import http from 'node:http';
import { parseRawQuery, signRequest } from '../../src/api/auth/sdk-hmac-sha256.js';

export interface RawSigningKey {
  readonly access_key_id: string;
  readonly secret_access_key: string;
}

export interface RawCall {
  readonly method: string;
  /** The path as sent (already percent-encoded where it needs to be). */
  readonly path: string;
  /** The query string as sent, without the `?`; '' or undefined for none. */
  readonly rawQuery?: string;
  /** Header names are sent as given; every header here is signed. Host is added. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sent but not signed: golangsdk adds X-Project-Id, X-Domain-Id and X-Security-Token after
   * signing (clients.md §4.4).
   */
  readonly unsignedHeaders?: Readonly<Record<string, string>>;
  /** Whether Host is signed (default true); golangsdk keeps Host outside the headers it signs. */
  readonly signHost?: boolean;
  readonly body?: string | Buffer;
  /** Signs the request with this key; unsigned when undefined. */
  readonly key?: RawSigningKey;
}

export interface RawResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** A keep-alive agent for a burst of calls; destroy it when done. */
export function createAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 4 });
}

export function rawRequest(baseUrl: string, call: RawCall, agent?: http.Agent): Promise<RawResult> {
  const url = new URL(baseUrl);
  const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(call.body);
  const rawQuery = call.rawQuery ?? '';
  const headers: Record<string, string> = { host: url.host, ...call.headers };
  if (call.key) {
    const signed = call.signHost === false ? { ...call.headers } : headers;
    Object.assign(
      headers,
      signRequest(
        { method: call.method, path: call.path, query: parseRawQuery(rawQuery), headers: signed, body },
        { accessKeyId: call.key.access_key_id, secretAccessKey: call.key.secret_access_key },
      ),
    );
  }
  Object.assign(headers, call.unsignedHeaders);
  if (body.length > 0) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: call.method,
        path: rawQuery === '' ? call.path : `${call.path}?${rawQuery}`,
        headers,
        agent: agent ?? false,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within 30 s: ${call.method} ${call.path}`)));
    req.on('error', reject);
    req.end(body.length > 0 ? body : undefined);
  });
}
