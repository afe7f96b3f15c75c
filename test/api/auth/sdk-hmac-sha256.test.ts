import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_BODY_SHA256,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  parseAuthorization,
  parseRawQuery,
  parseSdkDate,
  sha256Hex,
  signRequest,
  signatureHex,
  strictUriEncode,
  stringToSign,
} from '../../../src/api/auth/sdk-hmac-sha256.js';

/** Go SDK core/auth/signer/signer_test.go, as restated in spec cts-api.md §6.2. */
const GO = {
  credentials: { accessKeyId: 'AccessKey', secretAccessKey: 'SecretKey' },
  sdkDate: '20060102T150405Z',
  at: new Date(Date.UTC(2006, 0, 2, 15, 4, 5)),
  getSignature: '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
  postBody: '{"Name":"test","Id":1}\n',
  postSignature: 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59',
} as const;

function signatureOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : parseAuthorization(authorization)?.signature;
}

/** Canonical query of a query string as it arrives on the wire. */
function canonicalWireQuery(raw: string): string {
  return canonicalQuery(parseRawQuery(raw));
}

describe('Go SDK test vectors (spec §6.2)', () => {
  test('GET /path?limit=1 with an empty body signs to 5a2ce64c… through the building blocks', () => {
    const uri = canonicalUri('/path'.split('/'));
    const query = canonicalWireQuery('limit=1');
    assert.equal(uri, '/path/');
    assert.equal(query, 'limit=1');
    const canonical = canonicalRequest({
      method: 'GET',
      canonicalUri: uri,
      canonicalQuery: query,
      signedHeaders: ['x-sdk-date'],
      headerValue: (name) => (name === 'x-sdk-date' ? GO.sdkDate : ''),
      payloadHash: sha256Hex(''),
    });
    assert.equal(
      canonical,
      `GET\n/path/\nlimit=1\nx-sdk-date:${GO.sdkDate}\n\nx-sdk-date\n${EMPTY_BODY_SHA256}`,
      'canonical request: six parts, header block ends with a newline',
    );
    const toSign = stringToSign(GO.sdkDate, canonical);
    assert.equal(toSign, `SDK-HMAC-SHA256\n${GO.sdkDate}\n${sha256Hex(canonical)}`);
    assert.equal(signatureHex(GO.credentials.secretAccessKey, toSign), GO.getSignature);
  });

  test('POST /path?key=value with the body {"Name":"test","Id":1}\\n signs to cecc2af1… through the building blocks', () => {
    const canonical = canonicalRequest({
      method: 'POST',
      canonicalUri: canonicalUri('/path'.split('/')),
      canonicalQuery: canonicalWireQuery('key=value'),
      signedHeaders: ['x-sdk-date'],
      headerValue: () => GO.sdkDate,
      payloadHash: sha256Hex(GO.postBody),
    });
    assert.equal(signatureHex(GO.credentials.secretAccessKey, stringToSign(GO.sdkDate, canonical)), GO.postSignature);
  });

  test('the POST vector depends on the trailing newline of the body (the raw bytes are hashed)', () => {
    const canonical = canonicalRequest({
      method: 'POST',
      canonicalUri: '/path/',
      canonicalQuery: 'key=value',
      signedHeaders: ['x-sdk-date'],
      headerValue: () => GO.sdkDate,
      payloadHash: sha256Hex(GO.postBody.trimEnd()),
    });
    assert.notEqual(
      signatureHex(GO.credentials.secretAccessKey, stringToSign(GO.sdkDate, canonical)),
      GO.postSignature,
    );
  });

  test('signRequest reproduces the GET vector: header x-sdk-date only, signature 5a2ce64c…', () => {
    const headers = signRequest(
      { method: 'GET', path: '/path', query: [['limit', '1']], headers: {}, body: '' },
      GO.credentials,
      GO.at,
    );
    assert.equal(headers['X-Sdk-Date'], GO.sdkDate);
    assert.equal(
      headers['Authorization'],
      `SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=${GO.getSignature}`,
    );
  });

  test('signRequest reproduces the POST vector: signature cecc2af1…', () => {
    const headers = signRequest(
      { method: 'POST', path: '/path', query: [['key', 'value']], headers: {}, body: GO.postBody },
      GO.credentials,
      GO.at,
    );
    assert.equal(signatureOf(headers['Authorization']), GO.postSignature);
  });

  test('signRequest hashes Uint8Array bodies like the same bytes as a string', () => {
    const headers = signRequest(
      { method: 'POST', path: '/path', query: [['key', 'value']], headers: {}, body: Buffer.from(GO.postBody) },
      GO.credentials,
      GO.at,
    );
    assert.equal(signatureOf(headers['Authorization']), GO.postSignature);
  });

  test('signRequest lower-cases, sorts and signs every given header plus x-sdk-date', () => {
    const headers = signRequest(
      {
        method: 'GET',
        path: '/v3/p/traces',
        query: [],
        headers: { 'X-Project-Id': 'p', Host: 'cts.local:8080', 'Content-Type': 'application/json' },
        body: '',
      },
      GO.credentials,
      GO.at,
    );
    const auth = parseAuthorization(headers['Authorization'] ?? '');
    assert.deepEqual(auth?.signedHeaders, ['content-type', 'host', 'x-project-id', 'x-sdk-date']);
    const expected = signatureHex(
      'SecretKey',
      stringToSign(
        GO.sdkDate,
        [
          'GET',
          '/v3/p/traces/',
          '',
          `content-type:application/json\nhost:cts.local:8080\nx-project-id:p\nx-sdk-date:${GO.sdkDate}\n`,
          'content-type;host;x-project-id;x-sdk-date',
          EMPTY_BODY_SHA256,
        ].join('\n'),
      ),
    );
    assert.equal(auth?.signature, expected);
  });

  test('signRequest uses X-Sdk-Content-Sha256 in place of the body hash', () => {
    const unsigned = signRequest(
      {
        method: 'PUT',
        path: '/upload',
        query: [],
        headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        body: 'anything',
      },
      GO.credentials,
      GO.at,
    );
    const canonical = [
      'PUT',
      '/upload/',
      '',
      `x-sdk-content-sha256:UNSIGNED-PAYLOAD\nx-sdk-date:${GO.sdkDate}\n`,
      'x-sdk-content-sha256;x-sdk-date',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    assert.equal(
      signatureOf(unsigned['Authorization']),
      signatureHex('SecretKey', stringToSign(GO.sdkDate, canonical)),
    );
  });
});

describe('canonical query (clients.md §4.1)', () => {
  test('decodes the wire query, sorts by key and re-encodes strictly', () => {
    assert.equal(
      canonicalWireQuery('trace_type=system&limit=10&next=abc%3Ddef&user=alice%20bob%2B1'),
      'limit=10&next=abc%3Ddef&trace_type=system&user=alice%20bob%2B1',
    );
  });

  test('emits repeated keys once per value, sorted by value', () => {
    assert.equal(canonicalWireQuery('b=2&a=z&a=b&b=1'), 'a=b&a=z&b=1&b=2');
  });

  test('a literal + stays a plus (%2B) and is never decoded to a space', () => {
    assert.deepEqual(parseRawQuery('user=alice+bob'), [['user', 'alice+bob']]);
    assert.equal(canonicalWireQuery('user=alice+bob'), 'user=alice%2Bbob');
    assert.equal(canonicalWireQuery('user=alice%2Bbob'), 'user=alice%2Bbob');
    assert.equal(canonicalWireQuery('user=alice%20bob'), 'user=alice%20bob');
  });

  test("encodes !'()* which encodeURIComponent leaves raw", () => {
    assert.equal(canonicalWireQuery("q=!'()*"), 'q=%21%27%28%29%2A');
    assert.equal(strictUriEncode("!'()*"), '%21%27%28%29%2A');
  });

  test('encodes space as %20, comma as %2C and non-ASCII as upper-case UTF-8 bytes', () => {
    assert.equal(strictUriEncode('a b,c'), 'a%20b%2Cc');
    assert.equal(strictUriEncode('é'), '%C3%A9');
    assert.equal(strictUriEncode('AZaz09-_.~'), 'AZaz09-_.~');
  });

  test('sorts keys by UTF-16 code unit (upper case before lower case)', () => {
    assert.equal(
      canonicalQuery([
        ['b', '1'],
        ['B', '2'],
        ['a', '3'],
      ]),
      'B=2&a=3&b=1',
    );
  });

  test('a key without = gets an empty value and an empty query gives an empty string', () => {
    assert.equal(canonicalWireQuery('flag&x=1'), 'flag=&x=1');
    assert.equal(canonicalWireQuery(''), '');
    assert.equal(canonicalQuery([]), '');
  });
});

describe('canonical URI', () => {
  test('appends / when the path does not end with one', () => {
    assert.equal(canonicalUri('/v3/p/traces'.split('/')), '/v3/p/traces/');
  });

  test('does not double a trailing / and keeps the root as /', () => {
    assert.equal(canonicalUri('/v3/p/traces/'.split('/')), '/v3/p/traces/');
    assert.equal(canonicalUri('/'.split('/')), '/');
  });

  test('encodes each segment strictly, including a raw %', () => {
    assert.equal(canonicalUri(['', 'a b', "x!'()*", '%7B']), '/a%20b/x%21%27%28%29%2A/%257B/');
  });
});

describe('parseAuthorization', () => {
  const sig = 'AB'.repeat(32);

  test('accepts the SDK header format and lower-cases header names and signature', () => {
    assert.deepEqual(
      parseAuthorization(
        `SDK-HMAC-SHA256 Access=AK123, SignedHeaders=Content-Type;host;X-Project-Id;x-sdk-date, Signature=${sig}`,
      ),
      {
        accessKeyId: 'AK123',
        signedHeaders: ['content-type', 'host', 'x-project-id', 'x-sdk-date'],
        signature: sig.toLowerCase(),
      },
    );
  });

  test('accepts the header without spaces after the commas', () => {
    assert.equal(
      parseAuthorization(`SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date,Signature=${sig}`)?.accessKeyId,
      'AK',
    );
  });

  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['another algorithm', `SDK-HMAC-SM3 Access=AK, SignedHeaders=x-sdk-date, Signature=${sig}`],
    ['the derived variant', `V11-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=${sig}`],
    ['no Access', `SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=${sig}`],
    ['empty Access', `SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=${sig}`],
    ['no SignedHeaders', `SDK-HMAC-SHA256 Access=AK, Signature=${sig}`],
    ['no Signature', 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date'],
    ['a 63-hex signature', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=${sig.slice(1)}`],
    ['a 65-hex signature', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=${sig}0`],
    ['a non-hex signature', `SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=${'zz'.repeat(32)}`],
    ['a Bearer token', 'Bearer abc.def.ghi'],
  ];
  for (const [what, header] of malformed) {
    test(`rejects a header with ${what}`, () => {
      assert.equal(parseAuthorization(header), undefined);
    });
  }
});

describe('X-Sdk-Date', () => {
  test('formatSdkDate writes YYYYMMDDTHHMMSSZ in UTC and drops milliseconds', () => {
    assert.equal(formatSdkDate(new Date(Date.UTC(2019, 10, 15, 3, 36, 55, 789))), '20191115T033655Z');
  });

  test('formatSdkDate and parseSdkDate round trip to the second', () => {
    const at = Date.UTC(2026, 1, 28, 23, 59, 59);
    assert.equal(parseSdkDate(formatSdkDate(new Date(at + 999))), at);
    assert.equal(formatSdkDate(new Date(parseSdkDate('20060102T150405Z') ?? NaN)), '20060102T150405Z');
  });

  for (const bad of ['', '2006-01-02T15:04:05Z', '20060102T150405', '20060102150405Z', '20060102T1504Z']) {
    test(`parseSdkDate rejects the malformed value ${JSON.stringify(bad)}`, () => {
      assert.equal(parseSdkDate(bad), undefined);
    });
  }

  for (const impossible of ['20061302T150405Z', '20060230T150405Z', '20060102T250405Z', '20060102T156005Z']) {
    test(`parseSdkDate rejects the impossible date ${impossible} instead of rolling it over`, () => {
      assert.equal(parseSdkDate(impossible), undefined);
    });
  }

  test('parseSdkDate rejects a year below 100 instead of reading 0006 as 1906', () => {
    assert.equal(parseSdkDate('00060102T150405Z'), undefined);
  });
});
