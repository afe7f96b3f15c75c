/** Trackers that report an error, and how far each tracker's delivery is behind its traces. */
import type { Tracker } from '../core/tracker/tracker.js';
import type { Store } from '../store/store.js';
import { fail, ok, warn, type CheckResult } from './check.js';
import { deliveringTrackers, trackerLabel } from './object-store-checks.js';

export function checkTrackerStatus(trackers: readonly Tracker[]): CheckResult {
  const failing = trackers.filter((t) => t.status === 'error');
  if (failing.length > 0) {
    return fail(
      'trackers',
      `${failing.length} of ${trackers.length} tracker${trackers.length === 1 ? '' : 's'} in status error`,
      'noBucket: create the bucket; bucketPolicyError: grant access to it (delivery retries every cycle)',
      failing.map((t) => `${trackerLabel(t)}: ${t.detail ?? 'error'}`),
    );
  }
  return ok('trackers', `${trackers.length} tracker${trackers.length === 1 ? '' : 's'}, none in status error`);
}

export interface DeliveryLag {
  readonly result: CheckResult;
  /** record_time of the newest trace of any tracker (clock plausibility), if there is one. */
  readonly newestRecordTime?: number;
}

/** How many undelivered traces are counted before saying "at least". */
const COUNT_LIMIT = 1000;

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/**
 * Lag = age of the oldest trace a tracker's delivery cursor has not passed. A cycle runs every
 * flush interval, so lag under two intervals (+1 min for slow cycles) is normal.
 */
export async function checkDeliveryLag(
  store: Store,
  trackers: readonly Tracker[],
  flushIntervalMs: number,
  now: number,
): Promise<DeliveryLag> {
  const threshold = 2 * flushIntervalMs + 60_000;
  const behind: string[] = [];
  const current: string[] = [];
  let newestRecordTime: number | undefined;
  for (const tracker of trackers) {
    const newestSeq = await store.maxTraceSeq(tracker.project_id, tracker.tracker_name);
    if (newestSeq > 0) {
      const [newest] = await store.readTracesForDelivery(
        tracker.project_id,
        tracker.tracker_name,
        newestSeq - 1,
        newestSeq,
        1,
      );
      if (newest) newestRecordTime = Math.max(newestRecordTime ?? 0, newest.trace.record_time);
    }
  }
  for (const tracker of deliveringTrackers(trackers).filter((t) => t.status !== 'disabled')) {
    const state = await store.getDeliveryState(tracker.id);
    if (!state) {
      current.push(`${trackerLabel(tracker)}: delivery not started yet`);
      continue;
    }
    const newestSeq = await store.maxTraceSeq(tracker.project_id, tracker.tracker_name);
    if (newestSeq <= state.cursor_seq) {
      current.push(`${trackerLabel(tracker)}: every trace delivered`);
      continue;
    }
    const waiting = await store.readTracesForDelivery(
      tracker.project_id,
      tracker.tracker_name,
      state.cursor_seq,
      newestSeq,
      COUNT_LIMIT,
    );
    const oldest = waiting[0];
    if (!oldest) {
      current.push(`${trackerLabel(tracker)}: every trace delivered`);
      continue;
    }
    const lag = now - oldest.trace.record_time;
    const count = waiting.length >= COUNT_LIMIT ? `${COUNT_LIMIT}+` : String(waiting.length);
    const line = `${trackerLabel(tracker)}: ${count} trace${count === '1' ? '' : 's'} waiting, oldest ${ago(lag)} old`;
    (lag > threshold ? behind : current).push(line);
  }
  const result =
    behind.length > 0
      ? warn(
          'delivery-lag',
          `${behind.length} tracker${behind.length === 1 ? ' is' : 's are'} more than ${ago(threshold)} behind`,
          'is an instance running (opencts serve)? check its log for delivery errors and the object store',
          [...behind, ...current],
        )
      : ok('delivery-lag', `no tracker is more than ${ago(threshold)} behind`, current);
  return newestRecordTime === undefined ? { result } : { result, newestRecordTime };
}
