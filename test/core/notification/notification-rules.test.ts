/** The pure notification rules: filter parsing at the documented limits, and which traces a notification reports. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notificationMatches } from '../../../src/core/notification/notification-match.js';
import type { Notification } from '../../../src/core/notification/notification.js';
import { parseFilterRule, parseNotificationIds } from '../../../src/core/notification/notification-rules.js';
import { parseTopicUrn } from '../../../src/core/notification/topic.js';

const base: Notification = {
  notification_id: 'n1',
  notification_name: 'n',
  operation_type: 'complete',
  operations: [],
  notify_user_list: [],
  status: 'enabled',
  topic_id: 'urn:smn:r:p:t',
  notification_type: 'smn',
  project_id: 'p',
  domain_id: 'd',
  create_time: 0,
};

const trace = {
  service_type: 'ECS',
  resource_type: 'ecs',
  trace_name: 'deleteServer',
  trace_rating: 'warning',
  trace_type: 'ApiCall',
  code: '403',
  api_version: 'v2.1',
  resource_id: 'vm-1',
};

describe('filter rules', () => {
  test('parses the six fields with = and !=, spaces optional around the operator', () => {
    assert.deepEqual(parseFilterRule('code != 200'), { field: 'code', op: '!=', value: '200' });
    assert.deepEqual(parseFilterRule('trace_type=ApiCall'), { field: 'trace_type', op: '=', value: 'ApiCall' });
    assert.deepEqual(parseFilterRule('resource_name = my vm'), { field: 'resource_name', op: '=', value: 'my vm' });
  });

  test('refuses unknown fields, other operators, and values outside the documented limits', () => {
    for (const rule of [
      'user = alice',
      'code >= 200',
      'code',
      'code =',
      'trace_rating = fatal',
      'trace_type = ObsAPI',
      'api_version = v 1',
      `api_version = ${'v'.repeat(65)}`,
      `code = ${'1'.repeat(257)}`,
      `resource_id = ${'r'.repeat(351)}`,
      `resource_name = ${'n'.repeat(257)}`,
      'constructor = x',
    ]) {
      assert.equal(parseFilterRule(rule), undefined, rule);
    }
    assert.ok(parseFilterRule(`resource_id = ${'r'.repeat(350)}`));
    assert.ok(parseFilterRule(`api_version = ${'v'.repeat(64)}`));
  });
});

describe('which traces a notification reports', () => {
  test('complete: every trace; customized: only the listed service, resource type and trace name', () => {
    assert.equal(notificationMatches(base, trace), true);
    const customized = (operations: Notification['operations']): Notification => ({
      ...base,
      operation_type: 'customized',
      operations,
    });
    assert.equal(
      notificationMatches(
        customized([{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['deleteServer'] }]),
        trace,
      ),
      true,
    );
    for (const op of [
      { service_type: 'EVS', resource_type: 'ecs', trace_names: ['deleteServer'] },
      { service_type: 'ECS', resource_type: 'disk', trace_names: ['deleteServer'] },
      { service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer'] },
    ]) {
      assert.equal(notificationMatches(customized([op]), trace), false, JSON.stringify(op));
    }
  });

  test('a disabled notification reports nothing', () => {
    assert.equal(notificationMatches({ ...base, status: 'disabled' }, trace), false);
  });

  test('filters: AND needs every rule, OR any; a missing field compares as empty; is_support_filter false ignores them', () => {
    const filtered = (condition: 'AND' | 'OR', rule: string[], support = true): Notification => ({
      ...base,
      filter: { condition, is_support_filter: support, rule },
    });
    assert.equal(notificationMatches(filtered('AND', ['code != 200', 'trace_rating = warning']), trace), true);
    assert.equal(notificationMatches(filtered('AND', ['code != 200', 'trace_rating = normal']), trace), false);
    assert.equal(notificationMatches(filtered('OR', ['code = 200', 'trace_rating = warning']), trace), true);
    assert.equal(notificationMatches(filtered('OR', ['code = 200', 'trace_rating = normal']), trace), false);
    assert.equal(notificationMatches(filtered('AND', ['resource_name != x']), trace), true, 'no resource_name');
    assert.equal(notificationMatches(filtered('AND', ['resource_name = x']), trace), false);
    assert.equal(notificationMatches(filtered('AND', ['code = 200'], false), trace), true);
  });
});

describe('ids and URNs', () => {
  test('notification_id: comma-joined, repeated, or both; blanks dropped, repeats once', () => {
    assert.deepEqual(parseNotificationIds('a,b'), ['a', 'b']);
    assert.deepEqual(parseNotificationIds(['a', 'b,c', ' a ', '']), ['a', 'b', 'c']);
    assert.throws(() => parseNotificationIds(','), /CTS|Invalid/);
  });

  test('topic URNs of SMN and FunctionGraph', () => {
    assert.deepEqual(parseTopicUrn('urn:smn:eu-de:p1:my-topic'), {
      type: 'smn',
      region: 'eu-de',
      projectId: 'p1',
      name: 'my-topic',
    });
    assert.deepEqual(parseTopicUrn('urn:fss:eu-de:p1:function:default:handler'), {
      type: 'fun',
      region: 'eu-de',
      projectId: 'p1',
      name: 'handler',
    });
    for (const urn of [
      'urn:smn:eu-de:p1',
      'urn:smn:eu-de:p1:a:b',
      'urn:fss:eu-de:p1:function:other:h',
      'smn:eu-de:p1:t',
    ]) {
      assert.equal(parseTopicUrn(urn), undefined, urn);
    }
  });
});
