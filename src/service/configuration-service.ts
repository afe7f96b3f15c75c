/** Configuration use cases (spec §1.10): read, and replace with the trace that records it. */
import { DEFAULT_CONFIGURATION, planConfiguration, type CtsConfiguration } from '../core/configuration.js';
import type { RequestFacts } from '../core/trace/audit-trace.js';
import { systemTrackerRecording } from '../core/trace/recording.js';
import type { Store } from '../store/store.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Caller } from './tracker-service.js';

export const CONFIGURATION_OPERATIONS = {
  show: { traceName: 'showConfiguration', resourceType: 'configuration' },
  update: { traceName: 'updateConfiguration', resourceType: 'configuration' },
} as const;

export class ConfigurationService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditRecorder,
  ) {}

  async get(caller: Caller): Promise<CtsConfiguration> {
    return (
      (await this.store.getConfiguration(caller.projectId)) ??
      (structuredClone(DEFAULT_CONFIGURATION) as CtsConfiguration)
    );
  }

  async put(caller: Caller, input: Parameters<typeof planConfiguration>[0], facts: RequestFacts): Promise<void> {
    const configuration = planConfiguration(input);
    await this.store.changeConfiguration(caller.projectId, (trackers) => ({
      configuration,
      traces: systemTrackerRecording(trackers)
        ? [
            this.audit.trace(
              facts,
              { ...CONFIGURATION_OPERATIONS.update, resourceId: caller.projectId, resourceName: 'configuration' },
              { httpStatus: 204 },
            ),
          ]
        : [],
      result: undefined,
    }));
  }
}
