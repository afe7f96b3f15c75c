import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAuthorization,
  signRequest,
  type AuthorizationHeader,
  type RequestToSign,
} from '../../../src/api/auth/sdk-hmac-sha256.js';
import { MAX_CLOCK_SKEW_MS, verifySignature, type ReceivedRequest } from '../../../src/api/auth/verify-signature.js';

const CREDENTIALS = { accessKeyId: 'AKTEST', secretAccessKey: 'secret-key-of-AKTEST' };
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60 * 1000;
const PROJECT = '0123456789abcdef0123456789abcdef';
const BODY = '{"tracker_type":"system","tracker_name":"system"}';

interface Wire {
  readonly method: string;
  /** Path and query exactly as they travel. */
  readonly url: string;
  /** Lower-case names, as node's IncomingMessage presents them. */
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Signs `toSign` and returns the request as the server receives it: `wire` defaults to the same
 * request, with Host / X-Project-Id / Content-Type as the Node SDK signs them.
 */
function signAndSend(
  overrides: { toSign?: Partial<RequestToSign>; wire?: (signed: Wire) => Wire; signedAt?: number } = {},
): { received: ReceivedRequest; auth: AuthorizationHeader } {
  const toSign: RequestToSign = {
    method: 'POST',
    path: `/v3/${PROJECT}/tracker`,
    query: [],
    headers: { 'Content-Type': 'application/json', Host: 'cts.local:8080', 'X-Project-Id': PROJECT },
    body: BODY,
    ...overrides.toSign,
  };
  const added = signRequest(toSign, CREDENTIALS, new Date(overrides.signedAt ?? NOW));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...toSign.headers, ...added })) headers[k.toLowerCase()] = v;
  const rawQuery = toSign.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const signedWire: Wire = {
    method: toSign.method,
    url: rawQuery === '' ? toSign.path : `${toSign.path}?${rawQuery}`,
    headers,
    body: typeof toSign.body === 'string' ? toSign.body : Buffer.from(toSign.body).toString('utf8'),
  };
  const wire = overrides.wire ? overrides.wire(signedWire) : signedWire;
  const auth = parseAuthorization(wire.headers['authorization'] ?? '');
  assert.ok(auth, 'the Authorization header parses');
  return {
    auth,
    received: {
      method: wire.method,
      url: wire.url,
      header: (name) => wire.headers[name],
      rawBody: wire.body === undefined ? undefined : Buffer.from(wire.body, 'utf8'),
    },
  };
}

function verify(
  { received, auth }: { received: ReceivedRequest; auth: AuthorizationHeader },
  secret = CREDENTIALS.secretAccessKey,
  nowMs = NOW,
) {
  return verifySignature(received, auth, secret, nowMs);
}

describe('verifySignature', () => {
  test('accepts a request exactly as signed', () => {
    assert.equal(verify(signAndSend()), undefined);
  });

  test('accepts a GET without a body as the hash of the empty string', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/trackers`, body: '' },
      wire: (w) => ({ ...w, body: undefined }),
    });
    assert.equal(verify(signed), undefined);
  });

  test('rejects a tampered body', () => {
    const signed = signAndSend({ wire: (w) => ({ ...w, body: BODY.replace('"system"}', '"system2"}') }) });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects a body that was re-serialised (the raw bytes are hashed)', () => {
    const signed = signAndSend({ wire: (w) => ({ ...w, body: `${BODY}\n` }) });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects a tampered query', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/traces`, query: [['limit', '10']], body: '' },
      wire: (w) => ({ ...w, url: w.url.replace('limit=10', 'limit=200') }),
    });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects an added query parameter', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/traces`, query: [['limit', '10']], body: '' },
      wire: (w) => ({ ...w, url: `${w.url}&trace_type=data` }),
    });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects a tampered path', () => {
    const other = 'fedcba9876543210fedcba9876543210';
    const signed = signAndSend({ wire: (w) => ({ ...w, url: `/v3/${other}/tracker` }) });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects a changed method', () => {
    const signed = signAndSend({ wire: (w) => ({ ...w, method: 'PUT' }) });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('rejects a tampered value of a signed header', () => {
    const signed = signAndSend({
      wire: (w) => ({ ...w, headers: { ...w.headers, 'x-project-id': 'fedcba9876543210fedcba9876543210' } }),
    });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('ignores headers that are not in SignedHeaders', () => {
    const signed = signAndSend({
      wire: (w) => ({ ...w, headers: { ...w.headers, 'user-agent': 'changed-after-signing/1.0' } }),
    });
    assert.equal(verify(signed), undefined);
  });

  test('rejects a signature made with another secret key', () => {
    assert.equal(verify(signAndSend(), 'some-other-secret'), 'signature-mismatch');
  });

  test('answers date-not-signed when x-sdk-date is missing from SignedHeaders', () => {
    const { received, auth } = signAndSend();
    const withoutDate = { ...auth, signedHeaders: auth.signedHeaders.filter((h) => h !== 'x-sdk-date') };
    assert.equal(verifySignature(received, withoutDate, CREDENTIALS.secretAccessKey, NOW), 'date-not-signed');
  });

  test('answers missing-date when the request has no X-Sdk-Date header', () => {
    const signed = signAndSend({
      wire: (w) => {
        const headers = { ...w.headers };
        delete headers['x-sdk-date'];
        return { ...w, headers };
      },
    });
    assert.equal(verify(signed), 'missing-date');
  });

  test('answers bad-date when X-Sdk-Date is not YYYYMMDDTHHMMSSZ', () => {
    const signed = signAndSend({
      wire: (w) => ({ ...w, headers: { ...w.headers, 'x-sdk-date': '2026-03-01T12:00:00Z' } }),
    });
    assert.equal(verify(signed), 'bad-date');
  });

  test('rejects a signature older than 15 minutes (16 minutes old)', () => {
    assert.equal(verify(signAndSend({ signedAt: NOW - 16 * MINUTE })), 'date-skew');
  });

  test('rejects a signature dated more than 15 minutes ahead (16 minutes ahead)', () => {
    assert.equal(verify(signAndSend({ signedAt: NOW + 16 * MINUTE })), 'date-skew');
  });

  test('accepts a signature 14 minutes old and one 14 minutes ahead', () => {
    assert.equal(verify(signAndSend({ signedAt: NOW - 14 * MINUTE })), undefined);
    assert.equal(verify(signAndSend({ signedAt: NOW + 14 * MINUTE })), undefined);
  });

  test('allows exactly 15 minutes of skew', () => {
    assert.equal(MAX_CLOCK_SKEW_MS, 15 * MINUTE);
    assert.equal(verify(signAndSend({ signedAt: NOW - 15 * MINUTE })), undefined);
  });

  test('verifies query parameters received in another order than signed', () => {
    const signed = signAndSend({
      toSign: {
        method: 'GET',
        path: `/v3/${PROJECT}/traces`,
        query: [
          ['trace_type', 'system'],
          ['limit', '10'],
          ['next', 'abc=def'],
          ['user', 'alice bob+1'],
        ],
        body: '',
      },
      wire: (w) => ({
        ...w,
        url: `/v3/${PROJECT}/traces?user=alice%20bob%2B1&next=abc%3Ddef&limit=10&trace_type=system`,
      }),
    });
    assert.equal(verify(signed), undefined);
  });

  test('does not read a + in the received query as a space', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/traces`, query: [['user', 'alice bob']], body: '' },
      wire: (w) => ({ ...w, url: `/v3/${PROJECT}/traces?user=alice+bob` }),
    });
    assert.equal(verify(signed), 'signature-mismatch');
  });

  test('verifies a golangsdk-style request whose SignedHeaders lack host and x-project-id', () => {
    // golangsdk signs the headers in req.Header (not Host), adds X-Project-Id after signing, trims
    // values, and sends the canonical query string it signed.
    const signed = signAndSend({
      toSign: {
        method: 'GET',
        path: `/v3/${PROJECT}/trackers`,
        query: [['tracker_name', 'system']],
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'User-Agent': 'golangsdk',
        },
        body: '',
      },
      wire: (w) => ({
        ...w,
        headers: { ...w.headers, host: 'cts.local:8080', 'x-project-id': PROJECT, 'user-agent': ' golangsdk ' },
      }),
    });
    assert.deepEqual(signed.auth.signedHeaders, ['accept', 'content-type', 'user-agent', 'x-sdk-date']);
    assert.equal(verify(signed), undefined);
  });

  test('verifies a path with a percent-escape signed Node-style (raw segment encoded, % → %25)', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/tags/a%20b`, body: '' },
      wire: (w) => ({ ...w, url: `/v3/${PROJECT}/tags/a%20b` }),
    });
    assert.equal(verify(signed), undefined);
  });

  test('verifies a path with a percent-escape signed Go-style (decoded, then encoded)', () => {
    const signed = signAndSend({
      toSign: { method: 'GET', path: `/v3/${PROJECT}/tags/a b`, body: '' },
      wire: (w) => ({ ...w, url: `/v3/${PROJECT}/tags/a%20b` }),
    });
    assert.equal(verify(signed), undefined);
  });

  test('X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD replaces the body hash', () => {
    const signed = signAndSend({
      toSign: {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        body: 'bytes the client signed over',
      },
      wire: (w) => ({ ...w, body: 'different bytes on the wire' }),
    });
    assert.equal(verify(signed), undefined);
  });
});
