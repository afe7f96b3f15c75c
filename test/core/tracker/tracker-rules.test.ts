import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CtsErrorCode } from '../../../src/core/error-catalog.js';
import {
  filterTrackers,
  isValidBucketName,
  planCreateTracker,
  planUpdateTracker,
  selectTrackersToDelete,
  type TrackerContext,
} from '../../../src/core/tracker/tracker-rules.js';
import { DATA_TRACKER_QUOTA, type Tracker, type TrackerInput } from '../../../src/core/tracker/tracker.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const DOMAIN = 'fedcba9876543210fedcba9876543210';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

function context(): TrackerContext {
  let n = 0;
  return { projectId: PROJECT, domainId: DOMAIN, region: 'local-1', now: NOW, newId: () => `id-${++n}` };
}

const ctx = context();

function expectCode(fn: () => unknown, code: CtsErrorCode): void {
  assert.throws(fn, { name: 'CtsError', code });
}

const SYSTEM: TrackerInput = { tracker_type: 'system', tracker_name: 'system' };

function dataInput(name: string, bucket = 'src-bucket', events = ['READ', 'WRITE']): TrackerInput {
  return { tracker_type: 'data', tracker_name: name, data_bucket: { data_bucket_name: bucket, data_event: events } };
}

/** Builds the project's trackers through the create rules, so they have the shape the rules produce. */
function project(...inputs: TrackerInput[]): Tracker[] {
  const trackers: Tracker[] = [];
  for (const input of inputs) trackers.push(planCreateTracker(trackers, input, ctx).tracker);
  return trackers;
}

function find(trackers: readonly Tracker[], name: string): Tracker {
  const t = trackers.find((x) => x.tracker_name === name);
  assert.ok(t, `tracker ${name} exists`);
  return t;
}

const EMPTY_OBS_INFO = {
  bucket_name: '',
  file_prefix_name: '',
  is_obs_created: false,
  is_authorized_bucket: false,
  bucket_lifecycle: 0,
  compress_type: 'gzip',
  is_sort_by_service: true,
  bucket_location: '',
};

describe('planCreateTracker: errors', () => {
  test('CTS.0200 when the project already has 100 data trackers', () => {
    const inputs = Array.from({ length: DATA_TRACKER_QUOTA }, (_, i) => dataInput(`data-${i}`, `src-${i}`));
    const full = project(...inputs);
    assert.equal(DATA_TRACKER_QUOTA, 100);
    expectCode(() => planCreateTracker(full, dataInput('one-more', 'src-extra'), ctx), 'CTS.0200');
  });

  test('the 100th data tracker is still allowed', () => {
    const inputs = Array.from({ length: DATA_TRACKER_QUOTA - 1 }, (_, i) => dataInput(`data-${i}`, `src-${i}`));
    const almostFull = project(SYSTEM, ...inputs);
    assert.equal(planCreateTracker(almostFull, dataInput('last', 'src-last'), ctx).tracker.tracker_name, 'last');
  });

  test('CTS.0201 for a second system tracker', () => {
    expectCode(() => planCreateTracker(project(SYSTEM), SYSTEM, ctx), 'CTS.0201');
  });

  for (const type of [undefined, 'management', 'System', 'DATA', 7]) {
    test(`CTS.0202 for tracker_type ${JSON.stringify(type)}`, () => {
      expectCode(
        () => planCreateTracker([], { tracker_type: type as string | undefined, tracker_name: 'system' }, ctx),
        'CTS.0202',
      );
    });
  }

  for (const name of [undefined, '', '_tracker', '-tracker', 'a'.repeat(33), 'has space', 'dot.ted', 'ünïcode']) {
    test(`CTS.0203 for the data tracker name ${JSON.stringify(name)}`, () => {
      expectCode(() => planCreateTracker([], { ...dataInput('x'), tracker_name: name }, ctx), 'CTS.0203');
    });
  }

  for (const name of ['a', '1tracker', 'A_b-C', 'a'.repeat(32)]) {
    test(`accepts the data tracker name ${JSON.stringify(name)}`, () => {
      assert.equal(planCreateTracker([], dataInput(name), ctx).tracker.tracker_name, name);
    });
  }

  for (const name of [undefined, 'System', 'mgmt', 'system-trace']) {
    test(`CTS.0204 for a system tracker named ${JSON.stringify(name)}`, () => {
      expectCode(() => planCreateTracker([], { tracker_type: 'system', tracker_name: name }, ctx), 'CTS.0204');
    });
  }

  test('CTS.0206 for a system tracker with data_bucket', () => {
    expectCode(() => planCreateTracker([], { ...SYSTEM, data_bucket: { data_bucket_name: 'src' } }, ctx), 'CTS.0206');
  });

  for (const name of ['system', 'system-trace']) {
    test(`CTS.0207 for a data tracker named ${name}`, () => {
      expectCode(() => planCreateTracker([], dataInput(name), ctx), 'CTS.0207');
    });
  }

  test('CTS.0208 for a data tracker name that is taken', () => {
    const existing = project(dataInput('dup', 'bucket-a'));
    expectCode(() => planCreateTracker(existing, dataInput('dup', 'bucket-b'), ctx), 'CTS.0208');
  });

  test('CTS.0209 for the same data bucket with an overlapping operation type', () => {
    const existing = project(dataInput('reads', 'src-bucket', ['READ']));
    expectCode(() => planCreateTracker(existing, dataInput('both', 'src-bucket', ['WRITE', 'READ']), ctx), 'CTS.0209');
  });

  test('allows a second tracker on the same data bucket for the other operation type', () => {
    const existing = project(dataInput('reads', 'src-bucket', ['READ']));
    const plan = planCreateTracker(existing, dataInput('writes', 'src-bucket', ['WRITE']), ctx);
    assert.deepEqual(plan.tracker.data_bucket?.data_event, ['WRITE']);
  });

  test('allows the same operation types on a different data bucket', () => {
    const existing = project(dataInput('a', 'bucket-a'));
    assert.equal(
      planCreateTracker(existing, dataInput('b', 'bucket-b'), ctx).tracker.data_bucket?.data_bucket_name,
      'bucket-b',
    );
  });

  test('CTS.0210 for a data tracker without data_bucket or with an empty bucket name', () => {
    expectCode(() => planCreateTracker([], { tracker_type: 'data', tracker_name: 'd' }, ctx), 'CTS.0210');
    expectCode(() => planCreateTracker([], dataInput('d', ''), ctx), 'CTS.0210');
  });

  test('CTS.0213 when the tracked bucket is also the transfer bucket', () => {
    expectCode(
      () => planCreateTracker([], { ...dataInput('d', 'same-bucket'), obs_info: { bucket_name: 'same-bucket' } }, ctx),
      'CTS.0213',
    );
  });

  for (const prefix of ['a'.repeat(65), 'a/b', 'with space', 'ü']) {
    test(`CTS.0218 for file_prefix_name ${JSON.stringify(prefix.length > 20 ? `${prefix.length} chars` : prefix)}`, () => {
      expectCode(
        () => planCreateTracker([], { ...SYSTEM, obs_info: { bucket_name: 'logs', file_prefix_name: prefix } }, ctx),
        'CTS.0218',
      );
    });
  }

  test('accepts an empty file_prefix_name and one of 64 allowed characters', () => {
    for (const prefix of ['', `Ab9._-${'x'.repeat(58)}`]) {
      const plan = planCreateTracker(
        [],
        { ...SYSTEM, obs_info: { bucket_name: 'logs', file_prefix_name: prefix } },
        ctx,
      );
      assert.equal(plan.tracker.obs_info.file_prefix_name, prefix);
    }
  });

  for (const events of [[], undefined]) {
    test(`CTS.0219 for data_event ${JSON.stringify(events)}`, () => {
      const input: TrackerInput = { tracker_type: 'data', tracker_name: 'd', data_bucket: { data_bucket_name: 'src' } };
      if (events !== undefined) input.data_bucket = { data_bucket_name: 'src', data_event: events };
      expectCode(() => planCreateTracker([], input, ctx), 'CTS.0219');
    });
  }

  for (const events of [['DELETE'], ['read'], ['READ', 'LIST']]) {
    test(`CTS.0225 for data_event ${JSON.stringify(events)}`, () => {
      expectCode(() => planCreateTracker([], dataInput('d', 'src', events), ctx), 'CTS.0225');
    });
  }

  test('CTS.0221 when trace file encryption is asked for without a kms_id', () => {
    expectCode(() => planCreateTracker([], { ...SYSTEM, is_support_trace_files_encryption: true }, ctx), 'CTS.0221');
    expectCode(
      () => planCreateTracker([], { ...SYSTEM, is_support_trace_files_encryption: true, kms_id: '' }, ctx),
      'CTS.0221',
    );
  });

  test('CTS.0220 when trace file encryption is asked for with a kms_id (no KMS here)', () => {
    expectCode(
      () => planCreateTracker([], { ...SYSTEM, is_support_trace_files_encryption: true, kms_id: 'key-1' }, ctx),
      'CTS.0220',
    );
  });

  test('CTS.0228 for an organization system tracker (no Organizations trust)', () => {
    expectCode(() => planCreateTracker([], { ...SYSTEM, is_organization_tracker: true }, ctx), 'CTS.0228');
  });

  test('accepts is_organization_tracker false and encryption false', () => {
    const plan = planCreateTracker(
      [],
      { ...SYSTEM, is_organization_tracker: false, is_support_trace_files_encryption: false },
      ctx,
    );
    assert.equal(plan.tracker.is_organization_tracker, false);
    assert.equal(plan.tracker.is_support_trace_files_encryption, false);
  });

  const badBuckets: Array<[string, string]> = [
    ['two characters', 'ab'],
    ['64 characters', 'a'.repeat(64)],
    ['..', 'my..bucket'],
    ['-.', 'my-.bucket'],
    ['.-', 'my.-bucket'],
    ['IP-address form', '192.168.1.10'],
    ['upper case', 'MyBucket'],
    ['a leading hyphen', '-bucket'],
    ['a leading period', '.bucket'],
    ['an underscore', 'my_bucket'],
  ];
  for (const [what, bucket] of badBuckets) {
    test(`CTS.0231 for a transfer bucket name with ${what} (${bucket.length > 20 ? '…' : bucket})`, () => {
      expectCode(() => planCreateTracker([], { ...SYSTEM, obs_info: { bucket_name: bucket } }, ctx), 'CTS.0231');
    });
    test(`CTS.0231 for a tracked data bucket name with ${what}`, () => {
      expectCode(() => planCreateTracker([], dataInput('d', bucket), ctx), 'CTS.0231');
    });
  }

  for (const bucket of ['abc', 'a'.repeat(63), 'my-bucket.logs-2026', '1bucket', '192.168.1.10x']) {
    test(`accepts the bucket name ${bucket.length > 20 ? `of ${bucket.length} chars` : bucket}`, () => {
      assert.equal(isValidBucketName(bucket), true);
      const plan = planCreateTracker([], { ...SYSTEM, obs_info: { bucket_name: bucket } }, ctx);
      assert.equal(plan.tracker.obs_info.bucket_name, bucket);
    });
  }
});

describe('planCreateTracker: defaults', () => {
  test('a system tracker starts enabled, with LTS names CTS/system-trace and an empty obs_info', () => {
    const { tracker } = planCreateTracker([], SYSTEM, context());
    assert.deepEqual(tracker, {
      id: 'id-1',
      create_time: NOW,
      tracker_type: 'system',
      tracker_name: 'system',
      domain_id: DOMAIN,
      project_id: PROJECT,
      status: 'enabled',
      is_support_validate: false,
      is_support_trace_files_encryption: false,
      is_organization_tracker: false,
      management_event_selector: { exclude_service: [] },
      lts: { is_lts_enabled: false, log_group_name: 'CTS', log_topic_name: 'system-trace' },
      obs_info: EMPTY_OBS_INFO,
    });
  });

  test('a data tracker uses its own name as LTS topic under the CTS group', () => {
    const { tracker } = planCreateTracker([], { ...dataInput('my-data'), is_lts_enabled: true }, ctx);
    assert.deepEqual(tracker.lts, { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'my-data' });
    assert.equal(tracker.status, 'enabled');
    assert.deepEqual(tracker.data_bucket, {
      data_bucket_name: 'src-bucket',
      search_enabled: false,
      data_event: ['READ', 'WRITE'],
    });
  });

  test('data_event is de-duplicated and kept in READ, WRITE order', () => {
    const { tracker } = planCreateTracker([], dataInput('d', 'src', ['WRITE', 'READ', 'WRITE']), ctx);
    assert.deepEqual(tracker.data_bucket?.data_event, ['READ', 'WRITE']);
  });

  test('a transfer bucket defaults to gzip, sort by service, not created by CTS, located in the region', () => {
    const { tracker } = planCreateTracker([], { ...SYSTEM, obs_info: { bucket_name: 'logs' } }, ctx);
    assert.deepEqual(tracker.obs_info, {
      bucket_name: 'logs',
      file_prefix_name: '',
      is_obs_created: false,
      is_authorized_bucket: true,
      bucket_lifecycle: 0,
      compress_type: 'gzip',
      is_sort_by_service: true,
      bucket_location: 'local-1',
    });
  });

  test('given obs_info fields override the defaults', () => {
    const { tracker } = planCreateTracker(
      [],
      {
        ...SYSTEM,
        obs_info: {
          bucket_name: 'logs',
          file_prefix_name: 'pfx',
          is_obs_created: true,
          bucket_lifecycle: 30,
          compress_type: 'json',
          is_sort_by_service: false,
        },
      },
      ctx,
    );
    assert.equal(tracker.obs_info.compress_type, 'json');
    assert.equal(tracker.obs_info.is_sort_by_service, false);
    assert.equal(tracker.obs_info.is_obs_created, true);
    assert.equal(tracker.obs_info.bucket_lifecycle, 30);
    assert.equal(tracker.obs_info.file_prefix_name, 'pfx');
  });

  test('an obs_info with an empty bucket name means no transfer', () => {
    const { tracker, buckets } = planCreateTracker(
      [],
      { ...SYSTEM, obs_info: { bucket_name: '', is_obs_created: true } },
      ctx,
    );
    assert.deepEqual(tracker.obs_info, EMPTY_OBS_INFO);
    assert.equal(buckets.transfer, undefined);
  });
});

describe('planCreateTracker: bucket needs', () => {
  test('is_obs_created true asks the caller to create the transfer bucket with its lifecycle', () => {
    const { buckets } = planCreateTracker(
      [],
      { ...SYSTEM, obs_info: { bucket_name: 'logs', is_obs_created: true, bucket_lifecycle: 30 } },
      ctx,
    );
    assert.deepEqual(buckets.transfer, { name: 'logs', create: true, lifecycleDays: 30 });
    assert.equal(buckets.dataBucket, undefined);
  });

  test('without is_obs_created the transfer bucket must already exist', () => {
    const { buckets } = planCreateTracker([], { ...SYSTEM, obs_info: { bucket_name: 'logs' } }, ctx);
    assert.deepEqual(buckets.transfer, { name: 'logs', create: false, lifecycleDays: 0 });
  });

  test('a data tracker asks for its tracked bucket to exist', () => {
    const { buckets } = planCreateTracker([], dataInput('d', 'src-bucket'), ctx);
    assert.equal(buckets.dataBucket, 'src-bucket');
    assert.equal(buckets.transfer, undefined);
  });

  test('a system tracker without transfer needs no bucket at all', () => {
    const { buckets } = planCreateTracker([], SYSTEM, ctx);
    assert.equal(buckets.transfer, undefined);
    assert.equal(buckets.dataBucket, undefined);
  });
});

describe('planUpdateTracker', () => {
  const configured: TrackerInput = {
    ...SYSTEM,
    is_lts_enabled: true,
    is_support_validate: true,
    management_event_selector: { exclude_service: ['KMS'] },
    obs_info: {
      bucket_name: 'logs',
      file_prefix_name: 'pfx',
      bucket_lifecycle: 30,
      compress_type: 'json',
      is_sort_by_service: false,
    },
  };

  test('a status-only body keeps every omitted field (terraform toggles status alone)', () => {
    const existing = project(configured);
    const before = structuredClone(existing[0]);
    const { tracker } = planUpdateTracker(
      existing,
      { ...SYSTEM, status: 'disabled', agency_name: 'cts_admin_trust' },
      ctx,
    );
    assert.deepEqual(tracker, { ...before, status: 'disabled', agency_name: 'cts_admin_trust' });
    assert.deepEqual(existing[0], before, 'the current tracker is not mutated');
  });

  test('a partial obs_info changes only the given fields', () => {
    const existing = project(configured);
    const { tracker } = planUpdateTracker(existing, { ...SYSTEM, obs_info: { file_prefix_name: 'new' } }, ctx);
    assert.deepEqual(tracker.obs_info, { ...existing[0]?.obs_info, file_prefix_name: 'new' });
  });

  test("terraform's reset body clears the transfer", () => {
    const existing = project(configured);
    const { tracker, buckets } = planUpdateTracker(
      existing,
      {
        ...SYSTEM,
        obs_info: { bucket_name: '', file_prefix_name: '', is_sort_by_service: false, compress_type: 'json' },
        is_lts_enabled: false,
        is_support_validate: false,
        is_support_trace_files_encryption: false,
        kms_id: '',
      },
      ctx,
    );
    assert.equal(tracker.obs_info.bucket_name, '');
    assert.equal(tracker.obs_info.bucket_location, '');
    assert.equal(tracker.obs_info.is_authorized_bucket, false);
    assert.equal(tracker.lts.is_lts_enabled, false);
    assert.equal(tracker.is_support_validate, false);
    assert.equal(buckets.transfer, undefined);
  });

  test('setting a status clears the error detail', () => {
    const existing = project(SYSTEM);
    const broken: Tracker = { ...structuredClone(existing[0] as Tracker), status: 'error', detail: 'noBucket' };
    const { tracker } = planUpdateTracker([broken], { ...SYSTEM, status: 'enabled' }, ctx);
    assert.equal(tracker.status, 'enabled');
    assert.equal('detail' in tracker, false);
  });

  test('CTS.0214 for a tracker that does not exist', () => {
    expectCode(
      () => planUpdateTracker(project(SYSTEM), { tracker_type: 'data', tracker_name: 'nope' }, ctx),
      'CTS.0214',
    );
    expectCode(() => planUpdateTracker([], SYSTEM, ctx), 'CTS.0214');
  });

  test('CTS.0214 when the name exists under the other tracker type', () => {
    const existing = project(dataInput('d'));
    expectCode(() => planUpdateTracker(existing, { tracker_type: 'system', tracker_name: 'd' }, ctx), 'CTS.0214');
  });

  test('CTS.0202 for an unknown tracker_type', () => {
    expectCode(
      () => planUpdateTracker(project(SYSTEM), { tracker_type: 'all', tracker_name: 'system' }, ctx),
      'CTS.0202',
    );
  });

  test('CTS.0204 / CTS.0203 when tracker_name is missing', () => {
    const existing = project(SYSTEM, dataInput('d'));
    expectCode(() => planUpdateTracker(existing, { tracker_type: 'system' }, ctx), 'CTS.0204');
    expectCode(() => planUpdateTracker(existing, { tracker_type: 'data' }, ctx), 'CTS.0203');
  });

  for (const status of ['error', 'ENABLED', 'paused', '']) {
    test(`CTS.0205 for status ${JSON.stringify(status)}`, () => {
      expectCode(() => planUpdateTracker(project(SYSTEM), { ...SYSTEM, status }, ctx), 'CTS.0205');
    });
  }

  test('CTS.0206 for data_bucket on the system tracker', () => {
    expectCode(
      () => planUpdateTracker(project(SYSTEM), { ...SYSTEM, data_bucket: { data_bucket_name: 'src' } }, ctx),
      'CTS.0206',
    );
  });

  test('CTS.0212 when the tracked bucket would change', () => {
    const existing = project(dataInput('d', 'src-bucket'));
    expectCode(() => planUpdateTracker(existing, dataInput('d', 'other-bucket'), ctx), 'CTS.0212');
  });

  test('the same tracked bucket may be re-sent with new operation types', () => {
    const existing = project(dataInput('d', 'src-bucket', ['READ']));
    const { tracker } = planUpdateTracker(existing, dataInput('d', 'src-bucket', ['WRITE']), ctx);
    assert.deepEqual(tracker.data_bucket?.data_event, ['WRITE']);
  });

  test('CTS.0209 when new operation types overlap another tracker on the same bucket', () => {
    const existing = project(dataInput('r', 'src-bucket', ['READ']), dataInput('w', 'src-bucket', ['WRITE']));
    expectCode(() => planUpdateTracker(existing, dataInput('w', 'src-bucket', ['READ', 'WRITE']), ctx), 'CTS.0209');
  });

  test('CTS.0213 when the transfer bucket becomes the tracked bucket', () => {
    const existing = project(dataInput('d', 'src-bucket'));
    expectCode(
      () =>
        planUpdateTracker(
          existing,
          { tracker_type: 'data', tracker_name: 'd', obs_info: { bucket_name: 'src-bucket' } },
          ctx,
        ),
      'CTS.0213',
    );
  });

  test('CTS.0219 / CTS.0225 for invalid new operation types', () => {
    const existing = project(dataInput('d'));
    expectCode(() => planUpdateTracker(existing, dataInput('d', 'src-bucket', []), ctx), 'CTS.0219');
    expectCode(() => planUpdateTracker(existing, dataInput('d', 'src-bucket', ['ALL']), ctx), 'CTS.0225');
  });

  test('CTS.0218 and CTS.0231 apply to update as to create', () => {
    const existing = project(SYSTEM);
    expectCode(
      () => planUpdateTracker(existing, { ...SYSTEM, obs_info: { file_prefix_name: 'a/b' } }, ctx),
      'CTS.0218',
    );
    expectCode(
      () => planUpdateTracker(existing, { ...SYSTEM, obs_info: { bucket_name: 'Bad..Name' } }, ctx),
      'CTS.0231',
    );
  });

  test('CTS.0220 / CTS.0221 / CTS.0228 apply to update of the system tracker', () => {
    const existing = project(SYSTEM);
    expectCode(
      () => planUpdateTracker(existing, { ...SYSTEM, is_support_trace_files_encryption: true }, ctx),
      'CTS.0221',
    );
    expectCode(
      () => planUpdateTracker(existing, { ...SYSTEM, is_support_trace_files_encryption: true, kms_id: 'k' }, ctx),
      'CTS.0220',
    );
    expectCode(() => planUpdateTracker(existing, { ...SYSTEM, is_organization_tracker: true }, ctx), 'CTS.0228');
  });

  describe('bucket needs', () => {
    const withBucket: TrackerInput = { ...SYSTEM, obs_info: { bucket_name: 'logs', bucket_lifecycle: 30 } };

    test('an unchanged transfer bucket needs nothing', () => {
      const existing = project(withBucket);
      const { buckets } = planUpdateTracker(existing, { ...SYSTEM, obs_info: { bucket_name: 'logs' } }, ctx);
      assert.equal(buckets.transfer, undefined);
      assert.equal(planUpdateTracker(existing, { ...SYSTEM, status: 'disabled' }, ctx).buckets.transfer, undefined);
    });

    test('a bucket CTS created earlier is not created again', () => {
      const existing = project({ ...SYSTEM, obs_info: { bucket_name: 'logs', is_obs_created: true } });
      const { buckets } = planUpdateTracker(existing, { ...SYSTEM, is_lts_enabled: true }, ctx);
      assert.equal(buckets.transfer, undefined);
    });

    test('a new lifecycle on the same bucket asks for the lifecycle only, not a new bucket', () => {
      const existing = project(withBucket);
      const { buckets } = planUpdateTracker(existing, { ...SYSTEM, obs_info: { bucket_lifecycle: 90 } }, ctx);
      assert.deepEqual(buckets.transfer, { name: 'logs', create: false, lifecycleDays: 90 });
    });

    test('a new transfer bucket must exist, or be created when is_obs_created is true', () => {
      const existing = project(withBucket);
      assert.deepEqual(
        planUpdateTracker(existing, { ...SYSTEM, obs_info: { bucket_name: 'logs-2' } }, ctx).buckets.transfer,
        { name: 'logs-2', create: false, lifecycleDays: 30 },
      );
      assert.deepEqual(
        planUpdateTracker(existing, { ...SYSTEM, obs_info: { bucket_name: 'logs-2', is_obs_created: true } }, ctx)
          .buckets.transfer,
        { name: 'logs-2', create: true, lifecycleDays: 30 },
      );
    });

    test('an update never asks for the immutable tracked bucket again', () => {
      const existing = project(dataInput('d', 'src-bucket'));
      const { buckets } = planUpdateTracker(existing, dataInput('d', 'src-bucket', ['READ']), ctx);
      assert.equal(buckets.dataBucket, undefined);
    });
  });
});

describe('selectTrackersToDelete (spec §1.5)', () => {
  const names = (trackers: readonly Tracker[]) => trackers.map((t) => t.tracker_name).sort();

  test('without a name removes every data tracker and keeps the system tracker', () => {
    const existing = project(SYSTEM, dataInput('a', 'bucket-a'), dataInput('b', 'bucket-b'));
    assert.deepEqual(names(selectTrackersToDelete(existing, {})), ['a', 'b']);
    assert.deepEqual(names(selectTrackersToDelete(existing, { tracker_type: 'data' })), ['a', 'b']);
  });

  test('without a name and without data trackers removes nothing and is not an error', () => {
    assert.deepEqual(selectTrackersToDelete(project(SYSTEM), {}), []);
  });

  test('a data tracker name removes only that tracker', () => {
    const existing = project(SYSTEM, dataInput('a', 'bucket-a'), dataInput('b', 'bucket-b'));
    assert.deepEqual(names(selectTrackersToDelete(existing, { tracker_name: 'b' })), ['b']);
  });

  test('tracker_type=system&tracker_name=system removes the system tracker', () => {
    const existing = project(SYSTEM, dataInput('a'));
    const chosen = selectTrackersToDelete(existing, { tracker_type: 'system', tracker_name: 'system' });
    assert.deepEqual(chosen, [find(existing, 'system')]);
  });

  test('tracker_name=system alone removes the system tracker (OTC provider)', () => {
    const existing = project(SYSTEM, dataInput('a'));
    assert.deepEqual(selectTrackersToDelete(existing, { tracker_name: 'system' }), [find(existing, 'system')]);
  });

  test('tracker_type=system requires the system tracker to exist (CTS.0214)', () => {
    const existing = project(dataInput('a'));
    expectCode(() => selectTrackersToDelete(existing, { tracker_type: 'system' }), 'CTS.0214');
    expectCode(() => selectTrackersToDelete(existing, { tracker_name: 'system' }), 'CTS.0214');
  });

  test('CTS.0214 for an unknown tracker name', () => {
    expectCode(() => selectTrackersToDelete(project(SYSTEM, dataInput('a')), { tracker_name: 'zzz' }), 'CTS.0214');
  });

  test('CTS.0214 for a data tracker name asked for as the other type', () => {
    const existing = project(SYSTEM, dataInput('a'));
    expectCode(() => selectTrackersToDelete(existing, { tracker_type: 'data', tracker_name: 'system' }), 'CTS.0214');
  });

  test('CTS.0204 for type system with another name', () => {
    expectCode(
      () => selectTrackersToDelete(project(SYSTEM), { tracker_type: 'system', tracker_name: 'a' }),
      'CTS.0204',
    );
  });

  test('CTS.0202 for an unknown tracker_type', () => {
    expectCode(() => selectTrackersToDelete(project(SYSTEM), { tracker_type: 'all' }), 'CTS.0202');
  });
});

describe('filterTrackers', () => {
  const existing = project(SYSTEM, dataInput('data', 'bucket-a'), dataInput('data-2', 'bucket-b'));

  test('without filters returns every tracker', () => {
    assert.equal(filterTrackers(existing, {}).length, 3);
  });

  test('filters by type', () => {
    assert.deepEqual(
      filterTrackers(existing, { tracker_type: 'data' }).map((t) => t.tracker_name),
      ['data', 'data-2'],
    );
    assert.deepEqual(
      filterTrackers(existing, { tracker_type: 'system' }).map((t) => t.tracker_name),
      ['system'],
    );
  });

  test('filters by exact name, never by prefix', () => {
    assert.deepEqual(
      filterTrackers(existing, { tracker_name: 'data' }).map((t) => t.tracker_name),
      ['data'],
    );
  });

  test('an unknown name gives an empty list, not an error', () => {
    assert.deepEqual(filterTrackers(existing, { tracker_name: 'nope' }), []);
    assert.deepEqual(filterTrackers(existing, { tracker_type: 'system', tracker_name: 'data' }), []);
  });

  test('CTS.0202 for an unknown tracker_type', () => {
    expectCode(() => filterTrackers(existing, { tracker_type: 'Data' }), 'CTS.0202');
  });
});
