/**
 * Tracker use cases: validate against the project's trackers, prepare the buckets the change
 * needs, then commit the change through the store (which re-plans inside its transaction, so two
 * concurrent requests cannot both pass a uniqueness or quota check).
 */
import { CtsError } from '../core/error-catalog.js';
import { uuidv7 } from '../core/ids.js';
import {
  filterTrackers,
  planCreateTracker,
  planUpdateTracker,
  selectTrackersToDelete,
  type BucketNeeds,
  type DeleteSelector,
  type ListSelector,
  type TrackerContext,
} from '../core/tracker/tracker-rules.js';
import type { Tracker, TrackerInput } from '../core/tracker/tracker.js';
import { BucketExistsError, type BucketAdmin } from '../delivery/buckets.js';
import type { Store } from '../store/store.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { AuditedOperation, CallOutcome, RequestFacts } from '../core/trace/audit-trace.js';
import { changeIsRecorded } from '../core/trace/recording.js';
import type { Trace } from '../core/trace/trace.js';

export interface Caller {
  readonly projectId: string;
  readonly domainId: string;
}

export interface TrackerServiceDeps {
  readonly store: Store;
  readonly buckets: BucketAdmin;
  readonly region: string;
  readonly audit: AuditRecorder;
  readonly now?: () => number;
}

/** The trace names CTS gives its tracker operations (spec §1.7 example: createTracker, deleteTracker). */
export const TRACKER_OPERATIONS = {
  create: { traceName: 'createTracker', resourceType: 'tracker' },
  update: { traceName: 'updateTracker', resourceType: 'tracker' },
  delete: { traceName: 'deleteTracker', resourceType: 'tracker' },
  list: { traceName: 'listTrackers', resourceType: 'tracker' },
} as const;

export class TrackerService {
  private readonly now: () => number;

  constructor(private readonly deps: TrackerServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  private context(caller: Caller, id?: string): TrackerContext {
    const now = this.now();
    return {
      projectId: caller.projectId,
      domainId: caller.domainId,
      region: this.deps.region,
      now,
      newId: () => id ?? uuidv7(now),
    };
  }

  /** Bucket checks of spec §1.2: CTS.0211 missing, CTS.0215 exists, CTS.0216 create failed, CTS.0217 lifecycle. */
  private async prepareBuckets(needs: BucketNeeds): Promise<void> {
    const { buckets } = this.deps;
    if (needs.dataBucket !== undefined && !(await buckets.bucketExists(needs.dataBucket))) {
      throw new CtsError('CTS.0211', `(data bucket ${needs.dataBucket})`);
    }
    const transfer = needs.transfer;
    if (!transfer) return;
    if (transfer.create) {
      try {
        await buckets.createBucket(transfer.name);
      } catch (err) {
        if (err instanceof BucketExistsError) throw new CtsError('CTS.0215');
        throw new CtsError('CTS.0216');
      }
    } else if (!(await buckets.bucketExists(transfer.name))) {
      throw new CtsError('CTS.0211');
    }
    if (transfer.lifecycleDays > 0 || transfer.create) {
      try {
        await buckets.setLifecycle(transfer.name, transfer.lifecycleDays);
      } catch {
        throw new CtsError('CTS.0217');
      }
    }
  }

  /** The change's own trace, when the project's trackers record it (before or after the change). */
  private tracesOf(
    facts: RequestFacts,
    before: readonly Tracker[],
    after: readonly Tracker[],
    operation: AuditedOperation,
    outcome: CallOutcome,
  ): Trace[] {
    return changeIsRecorded(before, after) ? [this.deps.audit.trace(facts, operation, outcome)] : [];
  }

  async create(caller: Caller, input: TrackerInput, facts: RequestFacts): Promise<Tracker> {
    const current = await this.deps.store.listTrackers(caller.projectId);
    const draft = planCreateTracker(current, input, this.context(caller));
    await this.prepareBuckets(draft.buckets);
    const ctx = this.context(caller, draft.tracker.id);
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const { tracker } = planCreateTracker(latest, input, { ...ctx, now: draft.tracker.create_time });
      const traces = this.tracesOf(
        facts,
        latest,
        [...latest, tracker],
        { ...TRACKER_OPERATIONS.create, resourceId: tracker.id, resourceName: tracker.tracker_name },
        { httpStatus: 201, response: tracker },
      );
      return { upsert: [tracker], traces, result: tracker };
    });
  }

  async update(caller: Caller, input: TrackerInput, facts: RequestFacts): Promise<Tracker> {
    const current = await this.deps.store.listTrackers(caller.projectId);
    const draft = planUpdateTracker(current, input, this.context(caller));
    await this.prepareBuckets(draft.buckets);
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const { tracker } = planUpdateTracker(latest, input, this.context(caller));
      const traces = this.tracesOf(
        facts,
        latest,
        latest.map((t) => (t.id === tracker.id ? tracker : t)),
        { ...TRACKER_OPERATIONS.update, resourceId: tracker.id, resourceName: tracker.tracker_name },
        { httpStatus: 200 },
      );
      return { upsert: [tracker], traces, result: tracker };
    });
  }

  async list(caller: Caller, selector: ListSelector): Promise<Tracker[]> {
    return filterTrackers(await this.deps.store.listTrackers(caller.projectId), selector);
  }

  async remove(caller: Caller, selector: DeleteSelector, facts: RequestFacts): Promise<Tracker[]> {
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const removed = selectTrackersToDelete(latest, selector);
      const gone = new Set(removed.map((t) => t.id));
      const after = latest.filter((t) => !gone.has(t.id));
      // One trace per deleted tracker, so each resource's history is complete.
      const traces = removed.flatMap((t) =>
        this.tracesOf(
          facts,
          latest,
          after,
          { ...TRACKER_OPERATIONS.delete, resourceId: t.id, resourceName: t.tracker_name },
          { httpStatus: 204 },
        ),
      );
      return { remove: [...gone], traces, result: removed };
    });
  }
}
