/** State survives a restart: trackers, projects and access keys are in the store, not in memory. */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createCtsClient } from '../support/cts-client.js';
import { makeTempDir, startTestService } from '../support/service.js';

test('trackers, projects and keys persist across a restart', async () => {
  const dataDir = await makeTempDir();
  try {
    const first = await startTestService({ dataDir });
    await mkdir(path.join(dataDir, 'buckets', 'keep-src'), { recursive: true });
    const client = (url: string) =>
      createCtsClient({
        endpoint: url,
        accessKeyId: first.credential.access_key_id,
        secretAccessKey: first.credential.secret_access_key,
        projectId: first.credential.project_id,
      });
    await client(first.url).createTracker({ tracker_type: 'system', tracker_name: 'system', is_lts_enabled: true });
    await client(first.url).createTracker({
      tracker_type: 'data',
      tracker_name: 'keep',
      data_bucket: { data_bucket_name: 'keep-src', data_event: ['READ'] },
    });
    await client(first.url).updateTracker({ tracker_type: 'system', tracker_name: 'system', status: 'disabled' });
    const before = (await client(first.url).listTrackers()).trackers;
    await first.stop();

    const second = await startTestService({ dataDir, credential: first.credential });
    try {
      assert.equal(second.service.bootstrap, undefined, 'no second bootstrap key on a used data dir');
      const after = (await client(second.url).listTrackers()).trackers;
      assert.deepEqual(after, before);
      assert.equal(after.find((t) => t.tracker_name === 'system')?.status, 'disabled');
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
