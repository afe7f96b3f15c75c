/**
 * Temporary AK/SK (clients.md §4.1: X-Security-Token): a key created with `credentials create --ttl`
 * works through the official SDK core only together with its security token, and only until it expires.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError, type CtsClient } from '../support/cts-client.js';
import { cliJson, sleep, UNAUTHENTICATED_BODY } from '../support/security.js';
import { startTestService, type TestService } from '../support/service.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';

describe('temporary credentials with X-Security-Token', () => {
  let svc: TestService;

  function createTemporary(user: string, ttl: string): Promise<IssuedCredential> {
    return cliJson<IssuedCredential>([
      'credentials',
      'create',
      '--data-dir',
      svc.dataDir,
      '--project-id',
      svc.credential.project_id,
      '--domain-id',
      svc.credential.domain_id,
      '--user',
      user,
      '--role',
      'readonly',
      '--ttl',
      ttl,
      '--json',
    ]);
  }

  function client(key: IssuedCredential, securityToken?: string): CtsClient {
    return createCtsClient({
      endpoint: svc.url,
      accessKeyId: key.access_key_id,
      secretAccessKey: key.secret_access_key,
      projectId: key.project_id,
      ...(securityToken !== undefined ? { securityToken } : {}),
    });
  }

  async function expectUnauthenticated(call: Promise<unknown>): Promise<void> {
    const err = await expectCtsError(call, 401, 'CTS.9401');
    assert.equal(err.errorMsg, UNAUTHENTICATED_BODY.error_msg);
  }

  let temp: IssuedCredential;

  before(async () => {
    svc = await startTestService();
    const before = Date.now();
    temp = await createTemporary('tempo', '1h');
    assert.equal(typeof temp.security_token, 'string', 'the CLI prints the security token');
    assert.ok(temp.security_token!.length >= 32);
    const expiresAt = temp.expires_at!;
    assert.ok(expiresAt >= before + 3_600_000 && expiresAt <= Date.now() + 3_600_000, `expires_at ${expiresAt}`);
  });
  after(() => svc.close());

  test('a --ttl key works through the SDK core when securityToken is set', async () => {
    const res = await client(temp, temp.security_token).listTrackers();
    assert.equal(res.httpStatusCode, 200);
  });

  test('a --ttl key without its security token is 401', async () => {
    await expectUnauthenticated(client(temp).listTrackers());
  });

  test('a --ttl key with a wrong security token, or another key’s token, is 401', async () => {
    await expectUnauthenticated(client(temp, `${temp.security_token!.slice(0, -2)}xx`).listTrackers());
    await expectUnauthenticated(client(temp, 'x').listTrackers());
    const other = await svc.service.runtime.identity.createCredential({
      projectId: svc.credential.project_id,
      domainId: svc.credential.domain_id,
      user: 'other',
      ttlMs: 3_600_000,
    });
    assert.equal((await client(other, other.security_token).listTrackers()).httpStatusCode, 200, 'control');
    await expectUnauthenticated(client(temp, other.security_token).listTrackers());
  });

  test('a temporary key is 401 once it has expired, even with its token', async () => {
    const short = await svc.service.runtime.identity.createCredential({
      projectId: svc.credential.project_id,
      domainId: svc.credential.domain_id,
      user: 'brief',
      ttlMs: 1500,
    });
    assert.ok(short.expires_at! - Date.now() > 300, 'still valid at first');
    assert.equal((await client(short, short.security_token).listTrackers()).httpStatusCode, 200, 'control');
    await sleep(short.expires_at! - Date.now() + 200);
    await expectUnauthenticated(client(short, short.security_token).listTrackers());
  });

  test('a permanent key needs no security token and is not a temporary one', async () => {
    const permanent = await cliJson<IssuedCredential>([
      'credentials',
      'create',
      '--data-dir',
      svc.dataDir,
      '--project-id',
      svc.credential.project_id,
      '--domain-id',
      svc.credential.domain_id,
      '--user',
      'perm',
      '--json',
    ]);
    assert.equal(permanent.security_token, undefined);
    assert.equal(permanent.expires_at, undefined);
    assert.equal((await client(permanent).listTrackers()).httpStatusCode, 200);
  });
});
