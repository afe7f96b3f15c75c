/** A project's trackers as a store hands them out: sorted, frozen, and changed by a TrackerChange. */
import type { Tracker } from '../core/tracker/tracker.js';

/** The trackers after a change: removed and replaced ones out, new ones in, system tracker first. */
export function applyChange(
  current: readonly Tracker[],
  upsert: readonly Tracker[],
  remove: readonly string[],
): readonly Tracker[] {
  const gone = new Set([...remove, ...upsert.map((t) => t.id)]);
  const kept = current.filter((t) => !gone.has(t.id));
  const added = upsert.filter((t) => !remove.includes(t.id)).map((t) => deepFreeze(structuredClone(t)));
  return [...kept, ...added].sort((a, b) =>
    a.tracker_type === b.tracker_type ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.tracker_type === 'system' ? -1 : 1,
  );
}

/** Cached trackers are shared by every reader: freezing turns an accidental mutation into an error. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
