/**
 * Which trackers record a trace (spec §1.3, §3): management traces are recorded only while the
 * system tracker exists and is enabled; data-plane traces by every enabled data tracker that
 * watches the trace's bucket for its kind of operation (spec §1.2 DataBucket).
 */
import type { DataEvent, Tracker } from '../tracker/tracker.js';

export function systemTrackerRecording(trackers: readonly Tracker[]): boolean {
  return trackers.some((t) => t.tracker_type === 'system' && t.status !== 'disabled');
}

/**
 * A change to the trackers is recorded when recording was on before or is on after it: creating
 * the system tracker records its own createTracker, disabling it records the updateTracker that
 * stopped recording.
 */
export function changeIsRecorded(before: readonly Tracker[], after: readonly Tracker[]): boolean {
  return systemTrackerRecording(before) || systemTrackerRecording(after);
}

export function dataTrackersRecording(trackers: readonly Tracker[], bucketName: string, event: DataEvent): Tracker[] {
  return trackers.filter(
    (t) =>
      t.tracker_type === 'data' &&
      t.status !== 'disabled' &&
      t.data_bucket?.data_bucket_name === bucketName &&
      t.data_bucket.data_event.includes(event),
  );
}
