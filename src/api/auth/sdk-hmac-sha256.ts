/**
 * The `SDK-HMAC-SHA256` request signature of the Huawei Cloud SDKs (spec cts-api.md §6.2,
 * clients.md §4). Pure functions: the verifier and the CLI client both build on them, so the
 * server and our own client can never disagree about a canonical form.
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX (upper-case hex). */
export function strictUriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decodes %XX sequences only; `+` stays a plus, as the SDK signers never treat it as a space. */
export function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Canonical URI: each segment encoded, and a trailing `/` added when missing (`/v3/p/x` → `/v3/p/x/`). */
export function canonicalUri(segments: readonly string[]): string {
  const joined = segments.map(strictUriEncode).join('/');
  return joined.endsWith('/') ? joined : `${joined}/`;
}

/** Splits a raw query string into decoded key/value pairs, keeping repeated keys. */
export function parseRawQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([percentDecode(key), percentDecode(value)]);
  }
  return pairs;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical query: decoded pairs sorted by key then value (UTF-16 code units), strictly re-encoded. */
export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return [...pairs]
    .sort(([ka, va], [kb, vb]) => compareCodeUnits(ka, kb) || compareCodeUnits(va, vb))
    .map(([k, v]) => `${strictUriEncode(k)}=${strictUriEncode(v)}`)
    .join('&');
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  /** Lower-case header names, in the order they are to be signed (sorted by the signer). */
  readonly signedHeaders: readonly string[];
  readonly headerValue: (lowerName: string) => string;
  readonly payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  const headerBlock = parts.signedHeaders.map((name) => `${name}:${parts.headerValue(name).trim()}\n`).join('');
  return [
    parts.method.toUpperCase(),
    parts.canonicalUri,
    parts.canonicalQuery,
    headerBlock,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

export function signatureHex(secretKey: string, toSign: string): string {
  return createHmac('sha256', secretKey).update(toSign).digest('hex');
}

/** `20191115T033655Z`, the X-Sdk-Date format. */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function parseSdkDate(value: string): number | undefined {
  const m = SDK_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls over out-of-range fields (month 13, hour 25) and maps years 0-99 to 19xx:
  // accept only dates that format back to the same text.
  return Number.isNaN(ms) || formatSdkDate(new Date(ms)) !== value ? undefined : ms;
}

export interface AuthorizationHeader {
  readonly accessKeyId: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTHORIZATION =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]{64})\s*$/;

export function parseAuthorization(header: string): AuthorizationHeader | undefined {
  const m = AUTHORIZATION.exec(header);
  if (!m) return undefined;
  const [, ak, headers, sig] = m as unknown as [string, string, string, string];
  return {
    accessKeyId: ak,
    signedHeaders: headers.split(';').map((h) => h.trim().toLowerCase()),
    signature: sig.toLowerCase(),
  };
}

export interface RequestToSign {
  readonly method: string;
  /** Path as sent, without the query string. */
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Header names are matched case-insensitively; every header given is signed. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * Signs a request the way the official Node SDK core does; returns the headers to add. Used by our
 * CLI client and by tests that need to forge or tamper with requests.
 */
export function signRequest(
  request: RequestToSign,
  credentials: { accessKeyId: string; secretAccessKey: string },
  now: Date = new Date(),
): Record<string, string> {
  const sdkDate = formatSdkDate(now);
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(request.headers)) headers.set(k.toLowerCase(), v);
  headers.set('x-sdk-date', sdkDate);
  const signedHeaders = [...headers.keys()].sort(compareCodeUnits);
  const payloadHash = headers.get('x-sdk-content-sha256') ?? sha256Hex(request.body);
  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.path.split('/')),
    canonicalQuery: canonicalQuery(request.query),
    signedHeaders,
    headerValue: (name) => headers.get(name) ?? '',
    payloadHash,
  });
  const signature = signatureHex(credentials.secretAccessKey, stringToSign(sdkDate, canonical));
  return {
    'X-Sdk-Date': sdkDate,
    Authorization: `${SIGNING_ALGORITHM} Access=${credentials.accessKeyId}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
  };
}
