/**
 * Builds the traces OpenCTS records of its own API calls and records the ones of failed calls.
 * A successful change puts its trace into the change's own transaction (see TrackerService); a
 * failed call changed nothing, so its trace is committed on its own.
 */
import {
  buildApiCallTrace,
  type AuditedOperation,
  type CallOutcome,
  type RequestFacts,
} from '../core/trace/audit-trace.js';
import { systemTrackerRecording } from '../core/trace/recording.js';
import type { Trace } from '../core/trace/trace.js';
import { uuidv7 } from '../core/ids.js';
import type { Store } from '../store/store.js';

export class AuditRecorder {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** A trace with a fresh id, stamped with the current time as its record time. */
  trace(facts: RequestFacts, operation: AuditedOperation, outcome: CallOutcome): Trace {
    const recordTime = this.now();
    return buildApiCallTrace(facts, operation, outcome, { traceId: uuidv7(recordTime), recordTime });
  }

  /** Records the trace of a call that failed, if the project exists and its system tracker records. */
  async recordFailure(facts: RequestFacts, operation: AuditedOperation, outcome: CallOutcome): Promise<void> {
    const project = await this.store.getProject(facts.projectId);
    if (!project) return;
    // An unauthenticated caller has no domain of its own: the trace belongs to the project's.
    const recorded = facts.domainId ? facts : { ...facts, domainId: project.domain_id };
    await this.store.changeTrackers(facts.projectId, (trackers) => ({
      traces: systemTrackerRecording(trackers) ? [this.trace(recorded, operation, outcome)] : [],
      result: undefined,
    }));
  }
}
