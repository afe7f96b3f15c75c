/**
 * Tag use cases (spec §1.9): tags on a project's trackers, written together with the trace that
 * records the write, and the listings and filters over them.
 */
import { CtsError } from '../core/error-catalog.js';
import {
  checkResourceFilter,
  matchesFilter,
  planCreateTags,
  planDeleteTags,
  tagKeysWithValues,
  type ResourceFilter,
  type Tag,
  type TagInput,
} from '../core/tag/tags.js';
import type { AuditedOperation, CallOutcome, RequestFacts } from '../core/trace/audit-trace.js';
import { systemTrackerRecording } from '../core/trace/recording.js';
import type { Tracker } from '../core/tracker/tracker.js';
import type { Store } from '../store/store.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Caller } from './tracker-service.js';

/** Trace names of the tag operations (service CTS, resource type `tag`). */
export const TAG_OPERATIONS = {
  batchCreate: { traceName: 'batchCreateResourceTags', resourceType: 'tag' },
  batchDelete: { traceName: 'batchDeleteResourceTags', resourceType: 'tag' },
  create: { traceName: 'createResourceTag', resourceType: 'tag' },
  listOfResource: { traceName: 'listResourceTags', resourceType: 'tag' },
  listOfType: { traceName: 'listTags', resourceType: 'tag' },
  filter: { traceName: 'listResourcesByTags', resourceType: 'tag' },
  count: { traceName: 'countResourcesByTags', resourceType: 'tag' },
} as const;

export interface TaggedResource {
  resource_id: string;
  resource_name: string;
  resource_detail: string;
  tags: Tag[];
}

export interface TagPage {
  tags: Array<{ key: string; values: string[] }>;
  next_marker: string | null;
}

function trackerOf(trackers: readonly Tracker[], trackerId: string): Tracker {
  const tracker = trackers.find((t) => t.id === trackerId);
  if (!tracker) throw new CtsError('CTS.0214');
  return tracker;
}

export class TagService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditRecorder,
  ) {}

  private async change(
    caller: Caller,
    trackerId: string,
    operation: AuditedOperation,
    plan: (current: readonly Tag[]) => Tag[],
    facts: RequestFacts,
    outcome: CallOutcome,
  ): Promise<void> {
    await this.store.changeTags(caller.projectId, trackerId, (trackers, current) => {
      const tracker = trackerOf(trackers, trackerId);
      const tags = plan(current);
      const traces = systemTrackerRecording(trackers)
        ? [
            this.audit.trace(
              facts,
              { ...operation, resourceId: tracker.id, resourceName: tracker.tracker_name },
              outcome,
            ),
          ]
        : [];
      return { tags, traces, result: undefined };
    });
  }

  /** Batch create: new keys are added, existing keys take the new value. */
  async createTags(
    caller: Caller,
    trackerId: string,
    input: readonly TagInput[],
    facts: RequestFacts,
    operation: AuditedOperation = TAG_OPERATIONS.batchCreate,
    status = 200,
  ): Promise<void> {
    await this.change(caller, trackerId, operation, (current) => planCreateTags(current, input), facts, {
      httpStatus: status,
    });
  }

  async deleteTags(caller: Caller, trackerId: string, input: readonly TagInput[], facts: RequestFacts): Promise<void> {
    await this.change(
      caller,
      trackerId,
      TAG_OPERATIONS.batchDelete,
      (current) => planDeleteTags(current, input),
      facts,
      { httpStatus: 204 },
    );
  }

  async tagsOf(caller: Caller, trackerId: string): Promise<Tag[]> {
    trackerOf(await this.store.listTrackers(caller.projectId), trackerId);
    return (await this.store.listTags(caller.projectId))
      .filter((t) => t.tracker_id === trackerId)
      .map(({ key, value }) => ({ key, value }));
  }

  /** Every key used on the project's trackers with its values, a page of keys after `marker`. */
  async listKeys(caller: Caller, limit: number, marker: string | undefined): Promise<TagPage> {
    const all = tagKeysWithValues(await this.store.listTags(caller.projectId));
    const start = marker === undefined ? 0 : all.findIndex((t) => t.key > marker);
    const rest = start < 0 ? [] : all.slice(start);
    const page = rest.slice(0, limit);
    return { tags: page, next_marker: rest.length > limit ? (page.at(-1)?.key ?? null) : null };
  }

  private async matching(caller: Caller, filter: ResourceFilter): Promise<TaggedResource[]> {
    checkResourceFilter(filter);
    const [trackers, tags] = await Promise.all([
      this.store.listTrackers(caller.projectId),
      this.store.listTags(caller.projectId),
    ]);
    const byTracker = new Map<string, Tag[]>();
    for (const t of tags) {
      let list = byTracker.get(t.tracker_id);
      if (!list) byTracker.set(t.tracker_id, (list = []));
      list.push({ key: t.key, value: t.value });
    }
    return trackers
      .map((t) => ({
        resource_id: t.id,
        resource_name: t.tracker_name,
        resource_detail: '',
        tags: byTracker.get(t.id) ?? [],
      }))
      .filter((r) => matchesFilter({ name: r.resource_name, tags: r.tags }, filter));
  }

  async filterResources(
    caller: Caller,
    filter: ResourceFilter,
    offset: number,
    limit: number,
  ): Promise<{ resources: TaggedResource[]; total_count: number }> {
    const all = await this.matching(caller, filter);
    return { resources: all.slice(offset, offset + limit), total_count: all.length };
  }

  async countResources(caller: Caller, filter: ResourceFilter): Promise<number> {
    return (await this.matching(caller, filter)).length;
  }
}
