/** Trace use cases: ingest from other services, list with filters and paging, retention purge. */
import { CtsError } from '../core/error-catalog.js';
import { uuidv7 } from '../core/ids.js';
import { dataTarget, isDataTrace, tracesToStore, type IngestedTrace } from '../core/trace/ingest.js';
import { parseListTraces, type ListTracesParams } from '../core/trace/list-query.js';
import type { TracePage, Store } from '../store/store.js';
import type { Caller } from './tracker-service.js';

export interface TraceServiceDeps {
  readonly store: Store;
  /** How long traces stay queryable (CTS: 7 days). */
  readonly retentionMs: number;
  readonly now?: () => number;
}

export interface TraceList extends TracePage {
  readonly marker: string | null;
}

export class TraceService {
  private readonly now: () => number;

  constructor(private readonly deps: TraceServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Stores every reported trace in one transaction; returns each one's id, or null when no tracker recorded it. */
  async ingest(caller: Caller, items: readonly IngestedTrace[]): Promise<Array<string | null>> {
    // Reject the whole call before touching the store when any item is malformed.
    items.forEach((item, index) => {
      if (isDataTrace(item)) dataTarget(item, index);
    });
    return this.deps.store.changeTrackers(caller.projectId, (trackers) => {
      const recordTime = this.now();
      const ids: Array<string | null> = [];
      const traces = items.flatMap((item, index) => {
        const ctx = { projectId: caller.projectId, domainId: caller.domainId, traceId: uuidv7(recordTime), recordTime };
        const copies = tracesToStore(item, index, trackers, ctx);
        ids.push(copies.length > 0 ? ctx.traceId : null);
        return copies;
      });
      return { traces, result: ids };
    });
  }

  async list(caller: Caller, params: ListTracesParams): Promise<TraceList> {
    const query = parseListTraces(params, this.now(), this.deps.retentionMs);
    let after;
    if (query.marker !== undefined && query.traceId === undefined) {
      after = await this.deps.store.findTracePosition(
        caller.projectId,
        query.eventType,
        query.trackerName,
        query.marker,
      );
      if (!after) throw new CtsError('CTS.9400', '(next is not the marker of a trace in this query)');
    }
    const page = await this.deps.store.listTraces({
      projectId: caller.projectId,
      eventType: query.eventType,
      trackerName: query.trackerName,
      from: query.from,
      to: query.to,
      limit: query.limit,
      after,
      filters: query.filters,
      traceId: query.traceId,
    });
    return { ...page, marker: page.next?.traceId ?? null };
  }

  /** Removes traces older than the retention window in small batches; returns how many went. */
  async purgeExpired(batch = 1000, maxBatches = 1000): Promise<number> {
    const cutoff = this.now() - this.deps.retentionMs;
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const removed = await this.deps.store.purgeTraces(cutoff, batch);
      total += removed;
      if (removed < batch) break;
      // Let queued writes in between batches: the purge never holds the writer for long.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
}
