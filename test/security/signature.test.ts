/**
 * AK/SK signature checks through a real server (spec cts-api.md §6.2, clients.md §4): every way a
 * request can be unsigned, forged, tampered with, stale or signed by a dead key is answered 401 with
 * one and the same CTS body, so the answer never tells whether an access key exists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError } from '../support/cts-client.js';
import {
  assertUnauthenticated,
  cliOk,
  forgeHeaders,
  rawCall,
  UNAUTHENTICATED_BODY,
  type ForgeInput,
  type RawResult,
} from '../support/security.js';
import { startTestService, type TestService } from '../support/service.js';

const MINUTE = 60_000;

describe('AK/SK signature verification', () => {
  let svc: TestService;
  let host: string;
  let pid: string;
  /** Every 401 seen, to compare them with each other at the end. */
  const failures: RawResult[] = [];

  function keyOf(c: { access_key_id: string; secret_access_key: string }) {
    return { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key };
  }

  /** A signed GET of the project's trackers by the admin key (override anything), ready to be tampered with. */
  function request(overrides: Partial<ForgeInput> = {}): ForgeInput {
    return {
      ...keyOf(svc.credential),
      method: 'GET',
      path: `/v3/${pid}/trackers`,
      headers: { host, 'content-type': 'application/json', 'x-project-id': pid },
      ...overrides,
    };
  }

  function send(input: ForgeInput, sent: Partial<{ method: string; target: string; body: string }> = {}) {
    const query = (input.query ?? []).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return (headers: Record<string, string>) =>
      rawCall(svc.url, {
        method: sent.method ?? input.method,
        target: sent.target ?? `${input.path}${query ? `?${query}` : ''}`,
        headers,
        ...((sent.body ?? input.body) !== undefined ? { body: sent.body ?? input.body } : {}),
      });
  }

  async function expect401(res: RawResult, what: string): Promise<void> {
    failures.push(res);
    assertUnauthenticated(res, what);
  }

  before(async () => {
    svc = await startTestService();
    host = new URL(svc.url).host;
    pid = svc.credential.project_id;
    const create = request({
      method: 'POST',
      path: `/v3/${pid}/tracker`,
      body: '{"tracker_type":"system","tracker_name":"system"}',
    });
    const created = await send(create)(forgeHeaders(create));
    assert.equal(created.status, 201, created.text);
  });
  after(() => svc.close());

  test('control: a request signed by the official SDK core succeeds', async () => {
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    const res = await cts.listTrackers();
    assert.equal(res.httpStatusCode, 200);
    assert.equal(res.trackers.length, 1);
  });

  test('control: a request signed by the test forger succeeds untouched', async () => {
    const input = request();
    const res = await send(input)(forgeHeaders(input));
    assert.equal(res.status, 200, res.text);
  });

  test('an unsigned request, or one with a malformed Authorization, is 401 CTS.9401', async () => {
    const headers = { host, 'content-type': 'application/json', 'x-project-id': pid };
    await expect401(await rawCall(svc.url, { target: `/v3/${pid}/trackers`, headers }), 'unsigned');
    await expect401(
      await rawCall(svc.url, {
        target: `/v3/${pid}/trackers`,
        headers: { ...headers, authorization: `SDK-HMAC-SHA256 Access=${svc.credential.access_key_id}` },
      }),
      'malformed Authorization',
    );
  });

  test('a signature made with the wrong secret is 401 CTS.9401 (raw and through the SDK)', async () => {
    // Change the last character to one it is not (a secret ending in "x" made this flaky).
    const secret = svc.credential.secret_access_key;
    const input = request({ secretAccessKey: `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}` });
    await expect401(await send(input)(forgeHeaders(input)), 'wrong secret');
    const forged = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: 'not-the-secret',
      projectId: pid,
    });
    const err = await expectCtsError(forged.listTrackers(), 401, 'CTS.9401');
    assert.equal(err.errorMsg, UNAUTHENTICATED_BODY.error_msg);
  });

  test('a body changed after signing is 401 and changes nothing', async () => {
    const input = request({
      method: 'PUT',
      path: `/v3/${pid}/tracker`,
      body: '{"tracker_type":"system","tracker_name":"system","status":"enabled"}',
    });
    assert.equal((await send(input)(forgeHeaders(input))).status, 200, 'control: the untouched update passes');
    const tampered = '{"tracker_type":"system","tracker_name":"system","status":"disabled"}';
    await expect401(await send(input, { body: tampered })(forgeHeaders(input)), 'tampered body');
    const list = await send(request())(forgeHeaders(request()));
    const [tracker] = (list.json as { trackers: Array<{ status: string }> }).trackers;
    assert.equal(tracker?.status, 'enabled', 'the tampered update was not applied');
  });

  test('a query changed or extended after signing is 401', async () => {
    const input = request({ query: [['tracker_name', 'system']] });
    assert.equal((await send(input)(forgeHeaders(input))).status, 200, 'control');
    await expect401(
      await send(input, { target: `/v3/${pid}/trackers?tracker_name=other` })(forgeHeaders(input)),
      'tampered query value',
    );
    await expect401(
      await send(input, { target: `/v3/${pid}/trackers?tracker_name=system&tracker_type=data` })(forgeHeaders(input)),
      'added query parameter',
    );
  });

  test('a signed %2B cannot be replayed as a raw + to mean a space: the query means what was signed', async () => {
    const ingester = await svc.service.runtime.identity.createCredential({
      projectId: pid,
      domainId: svc.credential.domain_id,
      user: 'ingester',
      role: 'service',
    });
    const trace = (name: string) => ({
      time: Date.now(),
      user: { name },
      service_type: 'ECS',
      resource_type: 'ecs',
      trace_name: 'createServer',
      trace_rating: 'normal',
      trace_type: 'ApiCall',
    });
    const body = JSON.stringify({ traces: [trace('a+b'), trace('a b')] });
    const ingest = request({ ...keyOf(ingester), method: 'POST', path: `/v3/${pid}/traces`, body });
    assert.equal((await send(ingest)(forgeHeaders(ingest))).status, 201);
    const input = request({
      path: `/v3/${pid}/traces`,
      query: [
        ['trace_type', 'system'],
        ['user', 'a+b'],
      ],
    });
    const headers = forgeHeaders(input);
    const users = async (query: string) => {
      const res = await send(input, { target: `/v3/${pid}/traces?${query}` })(headers);
      if (res.status !== 200) return res.status;
      return (res.json as { traces: Array<{ user: { name: string } }> }).traces.map((t) => t.user.name);
    };
    assert.deepEqual(await users('trace_type=system&user=a%2Bb'), ['a+b'], 'control: as signed');
    const replayed = await users('trace_type=system&user=a+b');
    assert.ok(replayed === 401 || (Array.isArray(replayed) && replayed.join() === 'a+b'), `replay saw ${replayed}`);
  });

  test('a path or method changed after signing is 401', async () => {
    const input = request();
    await expect401(await send(input, { target: `/v3/${pid}/traces` })(forgeHeaders(input)), 'tampered path');
    await expect401(
      await send(input, { method: 'DELETE', target: `/v3/${pid}/trackers?tracker_name=system` })(forgeHeaders(input)),
      'tampered method',
    );
  });

  test('a signed header changed or dropped after signing is 401', async () => {
    const input = request({
      headers: { host, 'content-type': 'application/json', 'x-project-id': pid, 'x-extra': 'signed-value' },
    });
    const good = forgeHeaders(input);
    assert.equal((await send(input)(good)).status, 200, 'control: an extra signed header is fine');
    await expect401(await send(input)({ ...good, 'x-extra': 'other-value' }), 'tampered x-extra');
    await expect401(await send(input)({ ...good, host: 'evil.example' }), 'tampered host');
    const { 'x-extra': _dropped, ...withoutExtra } = good;
    await expect401(await send(input)(withoutExtra), 'dropped signed header');
  });

  test('a request whose X-Sdk-Date is not among SignedHeaders is 401 even with a matching signature', async () => {
    const input = request({ unsigned: ['x-sdk-date'] });
    const headers = forgeHeaders(input);
    assert.doesNotMatch(headers['authorization']!, /x-sdk-date/);
    await expect401(await send(input)(headers), 'x-sdk-date unsigned');
  });

  test('X-Sdk-Date 16 minutes old or 16 minutes ahead is 401; 14 minutes is accepted', async () => {
    for (const offset of [-14 * MINUTE, 14 * MINUTE]) {
      const input = request({ date: new Date(Date.now() + offset) });
      assert.equal((await send(input)(forgeHeaders(input))).status, 200, `control: ${offset / MINUTE} min`);
    }
    for (const offset of [-16 * MINUTE, 16 * MINUTE]) {
      const input = request({ date: new Date(Date.now() + offset) });
      await expect401(await send(input)(forgeHeaders(input)), `X-Sdk-Date ${offset / MINUTE} min`);
    }
  });

  test('an unknown access key is 401 with the same answer as a wrong secret', async () => {
    const input = request({ accessKeyId: 'NOSUCHACCESSKEY000000', secretAccessKey: 'whatever' });
    await expect401(await send(input)(forgeHeaders(input)), 'unknown access key');
  });

  test('a key revoked with `opencts credentials revoke` is 401 from then on', async () => {
    const rita = await svc.service.runtime.identity.createCredential({
      projectId: pid,
      domainId: svc.credential.domain_id,
      user: 'rita',
    });
    const input = request(keyOf(rita));
    assert.equal((await send(input)(forgeHeaders(input))).status, 200, 'control: the key works before');
    await cliOk(['credentials', 'revoke', rita.access_key_id, '--data-dir', svc.dataDir]);
    await expect401(await send(input)(forgeHeaders(input)), 'revoked key');
  });

  test('a key of a user deleted with `opencts users delete` is 401 from then on', async () => {
    const dora = await svc.service.runtime.identity.createCredential({
      projectId: pid,
      domainId: svc.credential.domain_id,
      user: 'dora',
    });
    const input = request(keyOf(dora));
    assert.equal((await send(input)(forgeHeaders(input))).status, 200, 'control: the key works before');
    await cliOk([
      'users',
      'delete',
      '--domain-id',
      svc.credential.domain_id,
      '--name',
      'dora',
      '--data-dir',
      svc.dataDir,
    ]);
    await expect401(await send(input)(forgeHeaders(input)), 'deleted user key');
  });

  test('every failure above got a byte-identical body and the same header names', () => {
    assert.ok(failures.length >= 14, `expected at least 14 failures, saw ${failures.length}`);
    const [first, ...rest] = failures;
    const names = (r: RawResult) =>
      Object.keys(r.headers)
        .filter((h) => h !== 'date')
        .sort();
    for (const [i, res] of rest.entries()) {
      assert.equal(res.text, first!.text, `failure #${i + 1} body differs`);
      assert.deepEqual(names(res), names(first!), `failure #${i + 1} header names differ`);
    }
  });
});
