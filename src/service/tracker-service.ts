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

export interface Caller {
  readonly projectId: string;
  readonly domainId: string;
}

export interface TrackerServiceDeps {
  readonly store: Store;
  readonly buckets: BucketAdmin;
  readonly region: string;
  readonly now?: () => number;
}

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

  async create(caller: Caller, input: TrackerInput): Promise<Tracker> {
    const current = await this.deps.store.listTrackers(caller.projectId);
    const draft = planCreateTracker(current, input, this.context(caller));
    await this.prepareBuckets(draft.buckets);
    const ctx = this.context(caller, draft.tracker.id);
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const { tracker } = planCreateTracker(latest, input, { ...ctx, now: draft.tracker.create_time });
      return { upsert: [tracker], result: tracker };
    });
  }

  async update(caller: Caller, input: TrackerInput): Promise<Tracker> {
    const current = await this.deps.store.listTrackers(caller.projectId);
    const draft = planUpdateTracker(current, input, this.context(caller));
    await this.prepareBuckets(draft.buckets);
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const { tracker } = planUpdateTracker(latest, input, this.context(caller));
      return { upsert: [tracker], result: tracker };
    });
  }

  async list(caller: Caller, selector: ListSelector): Promise<Tracker[]> {
    return filterTrackers(await this.deps.store.listTrackers(caller.projectId), selector);
  }

  async remove(caller: Caller, selector: DeleteSelector): Promise<Tracker[]> {
    return this.deps.store.changeTrackers(caller.projectId, (latest) => {
      const removed = selectTrackersToDelete(latest, selector);
      return { remove: removed.map((t) => t.id), result: removed };
    });
  }
}
