/**
 * Failed authentications are limited (authFailuresPerMinute) per source address and per claimed access
 * key: past the limit a failure is answered 429 CTS.9429 with Retry-After, while correctly signed
 * requests are never held back; /metrics counts both failures and refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCtsClient } from '../support/cts-client.js';
import { assertUnauthenticated, counterTotal, forgeHeaders, rawCall, type RawResult } from '../support/security.js';
import { startTestService, type TestService } from '../support/service.js';

const LIMIT = 5;

describe('authentication failure limit', () => {
  let svc: TestService;
  let metricsBefore: string;

  async function metrics(): Promise<string> {
    const res = await fetch(`${svc.url}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  }

  /** A request for the project's trackers signed by `accessKeyId` with a wrong secret. */
  function badlySigned(accessKeyId: string, localAddress?: string): Promise<RawResult> {
    const host = new URL(svc.url).host;
    const path = `/v3/${svc.credential.project_id}/trackers`;
    const headers = forgeHeaders({
      accessKeyId,
      secretAccessKey: 'wrong-secret',
      method: 'GET',
      path,
      headers: { host, 'content-type': 'application/json' },
    });
    return rawCall(svc.url, { target: path, headers, ...(localAddress ? { localAddress } : {}) });
  }

  function assertLimited(res: RawResult, what: string): void {
    assert.equal(res.status, 429, `${what}: ${res.status} ${res.text}`);
    assert.equal((res.json as { error_code?: string }).error_code, 'CTS.9429');
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  }

  before(async () => {
    svc = await startTestService({ config: { authFailuresPerMinute: LIMIT } });
    metricsBefore = await metrics();
  });
  after(() => svc.close());

  test(`the ${LIMIT + 1}th failed authentication from one address gets 429 CTS.9429 with Retry-After`, async () => {
    for (let i = 1; i <= LIMIT; i++) {
      assertUnauthenticated(await badlySigned(svc.credential.access_key_id), `failure ${i}`);
    }
    assertLimited(await badlySigned(svc.credential.access_key_id), `failure ${LIMIT + 1}`);
    // Another key's failure from the same address is limited by the address.
    assertLimited(await badlySigned('SOMEOTHERACCESSKEY00'), 'another key, same address');
  });

  test('a correctly signed request from the same address (and with the same key) still succeeds', async () => {
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: svc.credential.project_id,
    });
    for (let i = 0; i < LIMIT + 2; i++) assert.equal((await cts.listTrackers()).httpStatusCode, 200);
  });

  test('failures for one claimed access key are limited across source addresses', async () => {
    const target = 'TARGETEDACCESSKEY000';
    // Each failure from its own loopback address: no address reaches its own limit.
    for (let i = 1; i <= LIMIT; i++) {
      assertUnauthenticated(await badlySigned(target, `127.0.1.${i}`), `failure ${i}`);
    }
    assertLimited(await badlySigned(target, `127.0.1.${LIMIT + 1}`), 'same key, fresh address');
    // Control: a fresh address with a different key is not limited.
    assertUnauthenticated(await badlySigned('UNRELATEDACCESSKEY00', '127.0.2.1'), 'other key, fresh address');
  });

  test('/metrics shows opencts_auth_failures_total and opencts_auth_rate_limited_total increased', async () => {
    const now = await metrics();
    const failures = (text: string) => counterTotal(text, 'opencts_auth_failures_total');
    const limited = (text: string, by?: string) =>
      counterTotal(text, 'opencts_auth_rate_limited_total', by ? { by } : undefined);
    // 5 + 2 + 5 + 1 + 1 failed authentications above.
    assert.ok(failures(now) - failures(metricsBefore) >= 14, `failures ${failures(metricsBefore)} → ${failures(now)}`);
    assert.ok(limited(now, 'address') - limited(metricsBefore, 'address') >= 2, 'limited by address');
    assert.ok(limited(now, 'access_key') - limited(metricsBefore, 'access_key') >= 1, 'limited by access key');
  });
});
