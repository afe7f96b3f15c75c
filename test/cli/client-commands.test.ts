/** `opencts trackers …` and `opencts traces list` talk to a running service with stored credentials. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startTestService, type TestService } from '../support/service.js';

describe('CLI client commands', () => {
  let svc: TestService;
  let connection: string[];

  before(async () => {
    svc = await startTestService();
    const file = path.join(svc.dataDir, 'cli-credentials.json');
    await writeFile(file, JSON.stringify(svc.credential), { mode: 0o600 });
    connection = ['--endpoint', svc.url, '--credentials', file];
  });
  after(() => svc.close());

  test('trackers create, update, list and delete; errors exit 1 with the CTS code', async () => {
    const created = await runCli(['trackers', 'create', ...connection, '--lts', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const tracker = JSON.parse(created.stdout) as { tracker_name: string; lts: { is_lts_enabled: boolean } };
    assert.equal(tracker.tracker_name, 'system');
    assert.equal(tracker.lts.is_lts_enabled, true);

    const updated = await runCli(['trackers', 'update', ...connection, '--status', 'disabled', '--no-lts']);
    assert.equal(updated.code, 0, updated.stderr);
    const listed = await runCli(['trackers', 'list', ...connection, '--json']);
    const [system] = JSON.parse(listed.stdout) as Array<{ status: string; lts: { is_lts_enabled: boolean } }>;
    assert.equal(system?.status, 'disabled');
    assert.equal(system?.lts.is_lts_enabled, false);

    const table = await runCli(['trackers', 'list', ...connection]);
    assert.match(table.stdout, /^name\s+type\s+status/m);
    assert.match(table.stdout, /system\s+system\s+disabled/);

    const again = await runCli(['trackers', 'create', ...connection]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /CTS\.0201 .*\(HTTP 400\)/);

    await runCli(['trackers', 'update', ...connection, '--status', 'enabled']);
    const deleted = await runCli(['trackers', 'delete', ...connection, '--name', 'system']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse((await runCli(['trackers', 'list', ...connection, '--json'])).stdout), []);
  });

  test('traces list filters, pages past 200 and prints JSON or a table', async () => {
    await runCli(['trackers', 'create', ...connection]);
    // 250 traced writes: failed creates of a second system tracker are recorded as warnings.
    const create = () =>
      signedFetch(svc.url, svc.credential, {
        path: `/v3/${svc.credential.project_id}/tracker`,
        body: { tracker_type: 'system', tracker_name: 'system' },
      });
    for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 10 }, create));
    const all = await runCli(['traces', 'list', ...connection, '--service', 'CTS', '--limit', '300', '--json']);
    assert.equal(all.code, 0, all.stderr);
    const traces = JSON.parse(all.stdout) as Array<{ trace_rating: string; trace_name: string }>;
    assert.ok(traces.length > 250, `paged past 200 (${traces.length})`);
    const warnings = await runCli(['traces', 'list', ...connection, '--rating', 'warning', '--limit', '5', '--json']);
    const five = JSON.parse(warnings.stdout) as Array<{ trace_rating: string }>;
    assert.equal(five.length, 5);
    assert.ok(five.every((t) => t.trace_rating === 'warning'));
    const normal = await runCli([
      'traces',
      'list',
      ...connection,
      '--user',
      'alice',
      '--rating',
      'normal',
      '--since',
      '10m',
    ]);
    assert.match(normal.stdout, /^time\s+service\s+resource_type/m);
    assert.match(normal.stdout, /CTS\s+tracker\s+system\s+createTracker\s+normal\s+201\s+alice\s+127\.0\.0\.1/);
    assert.doesNotMatch(normal.stdout, /warning/);
    const bad = await runCli(['traces', 'list', ...connection, '--since', 'yesterday']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /duration/);
  });

  test('without readable credentials the command says where it looked', async () => {
    const res = await runCli(['traces', 'list', '--endpoint', svc.url, '--credentials', '/nonexistent/creds.json']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot read credentials from \/nonexistent\/creds\.json/);
  });
});
