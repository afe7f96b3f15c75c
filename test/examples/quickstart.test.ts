/** The README's quick start script works against a real server (so the README stays true). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/cli.js';
import { startTestService } from '../support/service.js';

test('examples/quickstart.mjs creates and lists the system tracker, twice in a row', async () => {
  const svc = await startTestService();
  try {
    const file = path.join(svc.dataDir, 'quickstart-credentials.json');
    await writeFile(file, JSON.stringify(svc.credential));
    const run = () =>
      promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'examples/quickstart.mjs'), file, svc.url], {
        cwd: REPO_ROOT,
      });
    const first = await run();
    assert.match(first.stdout, /created: .*"tracker_name":"system"/);
    assert.match(first.stdout, /trackers: \[\{"name":"system","status":"enabled"\}\]/);
    const second = await run();
    assert.match(second.stdout, /already existed/);
  } finally {
    await svc.close();
  }
});
