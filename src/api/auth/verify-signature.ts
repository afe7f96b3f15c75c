/**
 * Server-side check of an `SDK-HMAC-SHA256` signature over the request exactly as received
 * (spec §6.2, clients.md §4.3–4.4): SignedHeaders come from the Authorization header, the body
 * hash is over the raw bytes, the query is re-canonicalised from decoded values.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  parseRawQuery,
  parseSdkDate,
  percentDecode,
  sha256Hex,
  signatureHex,
  stringToSign,
  type AuthorizationHeader,
} from './sdk-hmac-sha256.js';

/** Huawei's API gateway rejects X-Sdk-Date more than 15 minutes away from server time. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received: path and query string, not decoded. */
  readonly url: string;
  readonly header: (lowerName: string) => string | undefined;
  readonly rawBody: Uint8Array | undefined;
}

export type SignatureProblem = 'missing-date' | 'date-not-signed' | 'bad-date' | 'date-skew' | 'signature-mismatch';

/**
 * Canonical URIs the client may have signed. The Node SDK encodes each raw path segment (so a `%`
 * becomes `%25`); golangsdk decodes first. They differ only when the path holds a `%`.
 */
function candidateUris(rawPath: string): string[] {
  const segments = rawPath.split('/');
  const asSent = canonicalUri(segments);
  if (!rawPath.includes('%')) return [asSent];
  const decoded = canonicalUri(segments.map(percentDecode));
  return decoded === asSent ? [asSent] : [decoded, asSent];
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Returns undefined when the signature is valid, else what is wrong (for logs, never for the wire). */
export function verifySignature(
  request: ReceivedRequest,
  auth: AuthorizationHeader,
  secretKey: string,
  nowMs: number,
): SignatureProblem | undefined {
  const sdkDate = request.header('x-sdk-date');
  if (sdkDate === undefined) return 'missing-date';
  if (!auth.signedHeaders.includes('x-sdk-date')) return 'date-not-signed';
  const signedAt = parseSdkDate(sdkDate.trim());
  if (signedAt === undefined) return 'bad-date';
  if (Math.abs(nowMs - signedAt) > MAX_CLOCK_SKEW_MS) return 'date-skew';

  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
  const query = canonicalQuery(parseRawQuery(rawQuery));
  const payloadHash =
    request.header('x-sdk-content-sha256') ?? (request.rawBody ? sha256Hex(request.rawBody) : sha256Hex(''));

  for (const uri of candidateUris(rawPath)) {
    const canonical = canonicalRequest({
      method: request.method,
      canonicalUri: uri,
      canonicalQuery: query,
      signedHeaders: auth.signedHeaders,
      headerValue: (name) => request.header(name) ?? '',
      payloadHash,
    });
    const expected = signatureHex(secretKey, stringToSign(sdkDate.trim(), canonical));
    if (sameHex(expected, auth.signature)) return undefined;
  }
  return 'signature-mismatch';
}
