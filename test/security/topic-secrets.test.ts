/**
 * Topic secrets at rest: the HMAC key of a topic's webhook signatures is sealed with the master key
 * (like secret access keys), so the SQLite files never hold it; neither does the createTopic trace,
 * nor any later answer of the API.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DATABASE_FILE } from '../../src/runtime.js';
import { runCli } from '../support/cli.js';
import { startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

describe('topic secrets at rest', () => {
  let svc: TestService;
  const secrets: string[] = [];

  before(async () => {
    svc = await startTestService();
    const pid = svc.credential.project_id;
    const tracker = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${pid}/tracker`,
      body: { tracker_type: 'system', tracker_name: 'system' },
    });
    assert.equal(tracker.status, 201, tracker.text);
    const api = await signedFetch(svc.url, svc.credential, {
      path: `/opencts/v1/${pid}/topics`,
      body: { urn: `urn:smn:local-1:${pid}:api_topic`, url: 'http://127.0.0.1:9/a' },
    });
    assert.equal(api.status, 201, api.text);
    secrets.push((api.json as { secret: string }).secret);
    const cli = await runCli([
      'topics',
      'create',
      '--data-dir',
      svc.dataDir,
      '--project-id',
      pid,
      '--urn',
      `urn:fss:local-1:${pid}:function:default:cli_fn`,
      '--url',
      'http://127.0.0.1:9/b',
      '--json',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    secrets.push((JSON.parse(cli.stdout) as { secret: string }).secret);
  });
  after(() => svc.close());

  test('opencts.db, -wal and -shm hold no topic secret while serving', async () => {
    let files = 0;
    for (const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`]) {
      const file = path.join(svc.dataDir, name);
      if (!existsSync(file)) continue;
      files++;
      const bytes = await readFile(file);
      for (const secret of secrets) assert.equal(bytes.indexOf(secret), -1, `${name} holds a topic secret`);
    }
    assert.ok(files >= 2, 'the database and its WAL were read');
  });

  test('neither the createTopic trace nor the topic list holds the secret', async () => {
    const pid = svc.credential.project_id;
    const traces = await signedFetch(svc.url, svc.credential, {
      path: `/v3/${pid}/traces`,
      query: { trace_type: 'system', trace_name: 'createTopic', limit: 10 },
    });
    assert.equal(traces.status, 200, traces.text);
    assert.equal((traces.json as { traces: unknown[] }).traces.length, 1, 'the API-made topic has its trace');
    const listed = await signedFetch(svc.url, svc.credential, { path: `/opencts/v1/${pid}/topics` });
    for (const secret of secrets) {
      assert.ok(!traces.text.includes(secret), 'trace without the secret');
      assert.ok(!listed.text.includes(secret), 'list without the secret');
    }
  });
});
