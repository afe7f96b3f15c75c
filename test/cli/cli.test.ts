/** The stable command line: `serve`, `credentials create|list|revoke` (scripts outside rely on them). */
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCtsClient, expectCtsError } from '../support/cts-client.js';
import { runCli, startServe, type ServeProcess } from '../support/cli.js';
import { makeTempDir } from '../support/service.js';

describe('opencts command line', () => {
  let dataDir: string;
  let serve: ServeProcess;

  before(async () => {
    dataDir = await makeTempDir();
    serve = await startServe(['--data-dir', dataDir]);
  });
  after(async () => {
    serve.child.kill('SIGKILL');
    await serve.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  test('first serve on an empty data dir writes owner-only credentials that work with the SDK', async () => {
    const file = path.join(dataDir, 'credentials.json');
    assert.match(serve.output(), new RegExp(`Credentials written to ${file.replace(/[.]/g, '\\.')}`));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const creds = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    for (const key of ['access_key_id', 'secret_access_key', 'project_id', 'domain_id', 'user']) {
      assert.equal(typeof creds[key], 'string', key);
    }
    const client = createCtsClient({
      endpoint: serve.url,
      accessKeyId: creds['access_key_id']!,
      secretAccessKey: creds['secret_access_key']!,
      projectId: creds['project_id']!,
    });
    assert.deepEqual((await client.listTrackers()).trackers, []);
    assert.equal((await stat(path.join(dataDir, 'opencts.db'))).mode & 0o777, 0o600);
  });

  test('GET / answers the version list', async () => {
    const res = await fetch(`${serve.url}/`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { versions: Array<{ id: string; status: string }> };
    assert.ok(body.versions.some((v) => v.id === 'v3' && v.status === 'CURRENT'));
  });

  test('credentials create --json prints the key, which works at once; list shows it; revoke stops it', async () => {
    const created = await runCli([
      'credentials',
      'create',
      '--data-dir',
      dataDir,
      '--project-id',
      'p1234567890abcdef1234567890abcde',
      '--domain-id',
      'd1234567890abcdef1234567890abcde',
      '--user',
      'bob',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const issued = JSON.parse(created.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(issued).sort(), [
      'access_key_id',
      'domain_id',
      'project_id',
      'secret_access_key',
      'user',
    ]);
    assert.equal(issued['project_id'], 'p1234567890abcdef1234567890abcde');
    assert.equal(issued['domain_id'], 'd1234567890abcdef1234567890abcde');
    assert.equal(issued['user'], 'bob');
    assert.match(issued['access_key_id']!, /^[A-Z0-9]{20}$/);

    const client = createCtsClient({
      endpoint: serve.url,
      accessKeyId: issued['access_key_id']!,
      secretAccessKey: issued['secret_access_key']!,
      projectId: issued['project_id']!,
    });
    assert.equal((await client.listTrackers()).httpStatusCode, 200);

    const listed = await runCli(['credentials', 'list', '--data-dir', dataDir, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, string>>;
    const row = rows.find((r) => r['access_key_id'] === issued['access_key_id']);
    assert.equal(row?.['status'], 'active');
    assert.ok(!listed.stdout.includes(issued['secret_access_key']!), 'list never shows a secret');

    const revoked = await runCli(['credentials', 'revoke', '--data-dir', dataDir, issued['access_key_id']!]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await expectCtsError(client.listTrackers(), 401, 'CTS.9401');
    const again = await runCli(['credentials', 'revoke', '--data-dir', dataDir, issued['access_key_id']!]);
    assert.equal(again.code, 1);
  });

  test('a project keeps its domain: creating a key for it under another domain fails', async () => {
    const args = ['credentials', 'create', '--data-dir', dataDir, '--user', 'eve', '--json'];
    const ok = await runCli([...args, '--project-id', 'proj-x', '--domain-id', 'dom-a']);
    assert.equal(ok.code, 0, ok.stderr);
    const clash = await runCli([...args, '--project-id', 'proj-x', '--domain-id', 'dom-b']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /belongs to domain dom-a/);
  });

  test('bad flags are refused with a message, not a stack trace', async () => {
    const res = await runCli(['serve', '--data-dir', dataDir, '--port', 'eighty']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /not a port number/);
    const missing = await runCli(['credentials', 'create', '--data-dir', dataDir, '--user', 'x']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--project-id/);
  });
});

describe('opencts serve lifecycle', () => {
  test('settings come from the environment and a config file; SIGTERM shuts down cleanly', async () => {
    const dataDir = await makeTempDir();
    try {
      const configFile = path.join(dataDir, 'config.json');
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(configFile, JSON.stringify({ region: 'eu-test-1', logLevel: 'warn' })),
      );
      const proc = await startServe(['--config', configFile], { OPENCTS_DATA_DIR: dataDir });
      assert.match(proc.output(), new RegExp(`data in ${dataDir}`));
      assert.equal((await fetch(`${proc.url}/readyz`)).status, 200);
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('an invalid config file stops the start with a message naming the setting', async () => {
    const dataDir = await makeTempDir();
    try {
      const configFile = path.join(dataDir, 'config.json');
      await import('node:fs/promises').then((fs) => fs.writeFile(configFile, JSON.stringify({ prot: 8080 })));
      const res = await runCli(['serve', '--data-dir', dataDir, '--config', configFile]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /unknown configuration setting\(s\): prot/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
