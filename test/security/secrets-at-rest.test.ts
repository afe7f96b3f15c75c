/**
 * Secrets at rest: secret access keys are sealed with the master key and security tokens are kept
 * only as hashes, so the raw SQLite files hold neither; the master key file is private; a wrong master
 * key stops the service from starting; `credentials rotate` replaces a key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BOOTSTRAP_CREDENTIALS_FILE, DATABASE_FILE, MASTER_KEY_FILE } from '../../src/runtime.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createCtsClient, expectCtsError } from '../support/cts-client.js';
import { cliJson, runServe } from '../support/security.js';
import { startTestService, type TestService } from '../support/service.js';

const DB_FILES = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`];

describe('secrets at rest', () => {
  let svc: TestService;
  /** Every key issued in this data dir, with its secrets. */
  const issued: IssuedCredential[] = [];

  function list(endpoint: string, key: IssuedCredential) {
    return createCtsClient({
      endpoint,
      accessKeyId: key.access_key_id,
      secretAccessKey: key.secret_access_key,
      projectId: key.project_id,
      ...(key.security_token !== undefined ? { securityToken: key.security_token } : {}),
    }).listTrackers();
  }

  function createKey(user: string, extra: string[] = []): Promise<IssuedCredential> {
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
      '--json',
      ...extra,
    ]);
  }

  /** The database files that exist now, with their bytes. */
  async function databaseBytes(): Promise<Array<{ file: string; bytes: Buffer }>> {
    const out = [];
    for (const name of DB_FILES) {
      const file = path.join(svc.dataDir, name);
      if (existsSync(file)) out.push({ file: name, bytes: await readFile(file) });
    }
    return out;
  }

  function assertNoSecrets(files: Array<{ file: string; bytes: Buffer }>): void {
    const secrets = issued.flatMap((k) => [
      { what: `secret of ${k.access_key_id}`, value: k.secret_access_key },
      ...(k.security_token ? [{ what: `security token of ${k.access_key_id}`, value: k.security_token }] : []),
    ]);
    assert.ok(secrets.length >= 6, `${secrets.length} secrets to look for`);
    for (const { file, bytes } of files) {
      for (const { what, value } of secrets) {
        assert.equal(bytes.indexOf(value), -1, `${file} contains the ${what}`);
      }
    }
  }

  before(async () => {
    svc = await startTestService();
    const bootstrap = JSON.parse(
      await readFile(path.join(svc.dataDir, BOOTSTRAP_CREDENTIALS_FILE), 'utf8'),
    ) as IssuedCredential;
    const [permanent, temporary] = await Promise.all([createKey('perm'), createKey('temp', ['--ttl', '1h'])]);
    issued.push(bootstrap, svc.credential, permanent, temporary);
    for (const key of [permanent, temporary]) assert.equal((await list(svc.url, key)).httpStatusCode, 200);
  });
  after(() => svc.close());

  test('master.key exists with mode 0600 and the database files are private too', async () => {
    const key = await stat(path.join(svc.dataDir, MASTER_KEY_FILE));
    assert.ok(key.isFile());
    assert.equal(key.mode & 0o777, 0o600, `master.key mode ${(key.mode & 0o777).toString(8)}`);
    for (const name of DB_FILES) {
      const file = path.join(svc.dataDir, name);
      if (!existsSync(file)) continue;
      const mode = (await stat(file)).mode & 0o777;
      assert.equal(mode & 0o077, 0, `${name} mode ${mode.toString(8)} gives others access`);
    }
  });

  test('`credentials rotate` issues a working key for the same user and role; the old key gets 401', async () => {
    const [, , permanent] = issued;
    const rotated = await cliJson<IssuedCredential>([
      'credentials',
      'rotate',
      permanent!.access_key_id,
      '--data-dir',
      svc.dataDir,
      '--json',
    ]);
    issued.push(rotated);
    assert.notEqual(rotated.access_key_id, permanent!.access_key_id);
    assert.notEqual(rotated.secret_access_key, permanent!.secret_access_key);
    assert.equal(rotated.user, 'perm');
    assert.equal(rotated.project_id, permanent!.project_id);
    assert.equal((await list(svc.url, rotated)).httpStatusCode, 200);
    await expectCtsError(list(svc.url, permanent!), 401, 'CTS.9401');
  });

  test('while serving, opencts.db, -wal and -shm hold no secret access key and no security token', async () => {
    const files = await databaseBytes();
    assert.ok(
      files.some((f) => f.file.endsWith('-wal')),
      'the WAL is there to be inspected',
    );
    // Control: the records are in these bytes (access key ids are stored in clear).
    const all = Buffer.concat(files.map((f) => f.bytes));
    for (const key of issued) assert.notEqual(all.indexOf(key.access_key_id), -1, `${key.access_key_id} is stored`);
    assertNoSecrets(files);
  });

  test('after shutdown (WAL checkpointed into opencts.db) the database holds none either', async () => {
    await svc.stop();
    const files = await databaseBytes();
    const db = files.find((f) => f.file === DATABASE_FILE)!;
    for (const key of issued) assert.notEqual(db.bytes.indexOf(key.access_key_id), -1, `${key.access_key_id}`);
    assertNoSecrets(files);
  });

  test('a different master key in OPENCTS_MASTER_KEY stops serve with a clear message and a failing exit code', async () => {
    const masterBefore = await readFile(path.join(svc.dataDir, MASTER_KEY_FILE));
    const [wrong, short] = await Promise.all([
      runServe(['--data-dir', svc.dataDir], { OPENCTS_MASTER_KEY: randomBytes(32).toString('base64') }),
      runServe(['--data-dir', svc.dataDir], { OPENCTS_MASTER_KEY: randomBytes(16).toString('base64') }),
    ]);
    if (short.listening) await short.stop();
    if (wrong.listening) {
      await wrong.stop();
      assert.fail('serve started with a master key that cannot open the stored secrets');
    }
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /master key/i);
    assert.equal(short.listening, false, 'a 16-byte master key is refused');
    if (!short.listening) {
      assert.notEqual(short.code, 0);
      assert.match(short.stderr, /master key must be 32 bytes/);
    }
    assert.deepEqual(await readFile(path.join(svc.dataDir, MASTER_KEY_FILE)), masterBefore, 'master.key untouched');
    // Control: with its own master key the same data dir serves, and the keys still work.
    const right = await runServe(['--data-dir', svc.dataDir], { OPENCTS_MASTER_KEY: '' });
    assert.ok(right.listening, `serve with the right key: ${JSON.stringify(right)}`);
    try {
      assert.equal((await list(right.url, svc.credential)).httpStatusCode, 200);
    } finally {
      await right.stop();
    }
  });
});
