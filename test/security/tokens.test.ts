/**
 * X-Auth-Token (spec cts-api.md §6.1): tokens issued by `opencts tokens create` authenticate a raw
 * call with no signature, are bound to their project, role, user and expiry, and cannot be altered.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { createCtsClient } from '../support/cts-client.js';
import { assertUnauthenticated, cliJson, cliOk, rawCall, sleep, type RawResult } from '../support/security.js';
import { startTestService, type TestService } from '../support/service.js';
import type { IssuedToken } from '../../src/service/token-service.js';
import type { User } from '../../src/store/store.js';

describe('X-Auth-Token tokens', () => {
  let svc: TestService;
  let pid: string;
  let bob: User;
  let adminToken: IssuedToken;
  let readonlyToken: IssuedToken;
  let daveToken: IssuedToken;

  function createToken(user: string, ttl: string, role: string): Promise<IssuedToken> {
    return cliJson<IssuedToken>([
      'tokens',
      'create',
      '--data-dir',
      svc.dataDir,
      '--user',
      user,
      '--project',
      pid,
      '--ttl',
      ttl,
      '--role',
      role,
      '--json',
    ]);
  }

  function createUser(name: string): Promise<User> {
    return cliJson<User>([
      'users',
      'create',
      '--data-dir',
      svc.dataDir,
      '--domain-id',
      svc.credential.domain_id,
      '--name',
      name,
      '--json',
    ]);
  }

  /** A raw call authenticated by the token alone: no Authorization, no X-Sdk-Date. */
  function withToken(
    token: string,
    call: { method?: string; target?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<RawResult> {
    return rawCall(svc.url, {
      method: call.method ?? (call.body === undefined ? 'GET' : 'POST'),
      target: call.target ?? `/v3/${pid}/trackers`,
      headers: { 'content-type': 'application/json', 'x-auth-token': token, ...call.headers },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  }

  /** The token with one base64url character of part `part` (0 header, 1 payload, 2 signature) changed. */
  function flipped(token: string, part: number): string {
    const parts = token.split('.');
    const text = parts[part]!;
    // A middle character: the last one of a part may only carry padding bits.
    const at = Math.floor(text.length / 2);
    parts[part] = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    return parts.join('.');
  }

  before(async () => {
    svc = await startTestService();
    pid = svc.credential.project_id;
    const identity = svc.service.runtime.identity;
    [bob] = await Promise.all([
      identity.createUser(svc.credential.domain_id, 'bob'),
      identity.createUser(svc.credential.domain_id, 'dave'),
    ]);
    [adminToken, readonlyToken, daveToken] = await Promise.all([
      createToken('bob', '24h', 'admin'),
      createToken('bob', '1h', 'readonly'),
      createToken('dave', '1h', 'admin'),
    ]);
  });
  after(() => svc.close());

  test('`tokens create` prints a token for the user, project and role; X-Auth-Token alone authenticates', async () => {
    assert.equal(adminToken.user, 'bob');
    assert.equal(adminToken.project_id, pid);
    assert.equal(adminToken.domain_id, svc.credential.domain_id);
    assert.equal(adminToken.role, 'admin');
    const expected = Date.now() + 24 * 3_600_000;
    assert.ok(Math.abs(adminToken.expires_at - expected) < 60_000, `expires_at ${adminToken.expires_at}`);
    const res = await withToken(adminToken.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { trackers: [] });
  });

  test('a write with a token is traced with the token user and no access_key_id', async () => {
    const res = await withToken(adminToken.token, {
      target: `/v3/${pid}/tracker`,
      body: { tracker_type: 'system', tracker_name: 'system' },
    });
    assert.equal(res.status, 201, res.text);
    const cts = createCtsClient({
      endpoint: svc.url,
      accessKeyId: svc.credential.access_key_id,
      secretAccessKey: svc.credential.secret_access_key,
      projectId: pid,
    });
    const { traces } = await cts.listTraces({ trace_type: 'system', trace_name: 'createTracker', limit: 10 });
    assert.equal(traces.length, 1);
    const user = traces[0]!.user!;
    assert.equal(user.name, 'bob');
    assert.equal(user.id, bob.user_id);
    assert.deepEqual(user.domain, { id: svc.credential.domain_id, name: svc.credential.domain_id });
    assert.equal('access_key_id' in user, false, `no access_key_id in ${JSON.stringify(user)}`);
  });

  test("a token for project A on project B's path, or with B's X-Project-Id, is 403 CTS.0012", async () => {
    const other = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    await svc.service.runtime.identity.createCredential({ projectId: other, domainId: 'otherdomain', user: 'eve' });
    for (const res of [
      await withToken(adminToken.token, { target: `/v3/${other}/trackers` }),
      await withToken(adminToken.token, { headers: { 'x-project-id': other } }),
    ]) {
      assert.equal(res.status, 403, res.text);
      assert.equal((res.json as { error_code: string }).error_code, 'CTS.0012');
    }
  });

  test('a token with a character changed in its header, payload or signature is 401', async () => {
    for (const part of [0, 1, 2]) {
      const tampered = flipped(adminToken.token, part);
      assert.notEqual(tampered, adminToken.token);
      assertUnauthenticated(await withToken(tampered), `part ${part} changed`);
    }
  });

  test('a readonly token rewritten to claim role admin is 401', async () => {
    const [header, payload, signature] = readonlyToken.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(claims['role'], 'readonly');
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    assertUnauthenticated(await withToken(`${header}.${elevated}.${signature}`), 'elevated role');
  });

  test('an unsigned (alg none) token, one signed with another key, and garbage are 401', async () => {
    const [, payload] = adminToken.token.split('.') as [string, string];
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    assertUnauthenticated(await withToken(none), 'alg none');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(randomBytes(32));
    assertUnauthenticated(await withToken(foreign), 'foreign key');
    assertUnauthenticated(await withToken('not-a-token'), 'garbage');
    assertUnauthenticated(await withToken(''), 'empty');
  });

  test('an expired token is 401', async () => {
    // JWT expiry has whole seconds: a 1.5 s token lives 0.5 to 1.5 s.
    const short = await svc.service.runtime.tokens.issue({ user: 'bob', projectId: pid, ttlMs: 1500 });
    assert.ok(short.expires_at - Date.now() > 300, 'still valid at first');
    assert.equal((await withToken(short.token)).status, 200, 'control: valid before it expires');
    await sleep(short.expires_at - Date.now() + 200);
    assertUnauthenticated(await withToken(short.token), 'expired token');
  });

  test('a token of a deleted user is 401, also after a user of the same name is created again', async () => {
    const daves = daveToken;
    assert.equal((await withToken(daves.token)).status, 200, 'control');
    await cliOk([
      'users',
      'delete',
      '--data-dir',
      svc.dataDir,
      '--domain-id',
      svc.credential.domain_id,
      '--name',
      'dave',
    ]);
    assertUnauthenticated(await withToken(daves.token), 'deleted user');
    await createUser('dave');
    assertUnauthenticated(await withToken(daves.token), 'a new user of the same name');
  });

  test('a readonly token reads but cannot write (403 CTS.0013)', async () => {
    assert.equal((await withToken(readonlyToken.token)).status, 200);
    for (const res of [
      await withToken(readonlyToken.token, {
        method: 'DELETE',
        target: `/v3/${pid}/trackers?tracker_name=system&tracker_type=system`,
      }),
      await withToken(readonlyToken.token, {
        method: 'PUT',
        target: `/v3/${pid}/tracker`,
        body: { tracker_type: 'system', tracker_name: 'system', status: 'disabled' },
      }),
    ]) {
      assert.equal(res.status, 403, res.text);
      assert.equal((res.json as { error_code: string }).error_code, 'CTS.0013');
    }
    const { trackers } = (await withToken(readonlyToken.token)).json as { trackers: Array<{ status: string }> };
    assert.equal(trackers.length, 1, 'the system tracker is still there');
    assert.equal(trackers[0]?.status, 'enabled', 'and still enabled');
  });
});
