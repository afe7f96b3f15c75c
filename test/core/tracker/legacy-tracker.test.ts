/** The v1.0 view of the tracker model (spec §1.11): what each legacy field means in v3 terms, and back. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fromLegacyInput,
  legacyTraceSelection,
  toLegacyCreated,
  toLegacyView,
} from '../../../src/core/tracker/legacy-tracker.js';
import type { Tracker } from '../../../src/core/tracker/tracker.js';

const TRACKER: Tracker = {
  id: '2e6fa9b8-8c6e-456d-b5d3-77be972d220b',
  create_time: 1587958482923,
  tracker_type: 'system',
  tracker_name: 'system',
  domain_id: 'd'.repeat(32),
  project_id: 'p'.repeat(32),
  status: 'error',
  detail: 'noBucket',
  is_support_validate: true,
  is_support_trace_files_encryption: false,
  is_organization_tracker: false,
  management_event_selector: { exclude_service: [] },
  lts: { is_lts_enabled: true, log_group_name: 'CTS', log_topic_name: 'system-trace' },
  obs_info: {
    bucket_name: 'obs-f1da',
    file_prefix_name: 'yO8Q',
    is_obs_created: true,
    is_authorized_bucket: true,
    bucket_lifecycle: 0,
    compress_type: 'gzip',
    is_sort_by_service: true,
    bucket_location: 'local-1',
  },
};

describe('legacy v1.0 tracker mapping', () => {
  test('a full v1.0 body becomes the v3 system tracker input', () => {
    assert.deepEqual(
      fromLegacyInput({
        bucket_name: 'obs-f1da',
        file_prefix_name: 'yO8Q',
        is_obs_created: true,
        is_support_trace_files_encryption: true,
        kms_id: 'k1',
        lts: { is_lts_enabled: true },
        log_file_validate: { is_support_validate: true },
        status: 'disabled',
      }),
      {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: 'obs-f1da', file_prefix_name: 'yO8Q', is_obs_created: true },
        is_lts_enabled: true,
        is_support_validate: true,
        is_support_trace_files_encryption: true,
        kms_id: 'k1',
        status: 'disabled',
      },
    );
  });

  test('omitted fields stay omitted (a partial update keeps their values); the path names the tracker', () => {
    assert.deepEqual(fromLegacyInput({ status: 'enabled' }, 'other'), {
      tracker_type: 'system',
      tracker_name: 'other',
      status: 'enabled',
    });
    assert.deepEqual(fromLegacyInput({ lts: {} }), { tracker_type: 'system', tracker_name: 'system' });
  });

  test('the flat view puts the bucket fields at the top level and keeps detail', () => {
    const view = toLegacyView(TRACKER);
    assert.equal(view.bucket_name, 'obs-f1da');
    assert.equal(view.file_prefix_name, 'yO8Q');
    assert.equal(view.is_obs_created, true);
    assert.equal(view.status, 'error');
    assert.equal(view.detail, 'noBucket');
    assert.deepEqual(view.log_file_validate, { is_support_validate: true });
    assert.ok(!('obs_info' in view));
    assert.ok(!('kms_id' in view));
  });

  test('the create response is the v3 tracker plus log_file_validate', () => {
    const created = toLegacyCreated(TRACKER);
    assert.deepEqual(created.obs_info, TRACKER.obs_info);
    assert.deepEqual(created.log_file_validate, { is_support_validate: true });
  });

  test('a trace path names the management trail or a data tracker', () => {
    assert.deepEqual(legacyTraceSelection('system'), { trace_type: 'system', tracker_name: 'system' });
    assert.deepEqual(legacyTraceSelection('photos'), { trace_type: 'data', tracker_name: 'photos' });
  });
});
