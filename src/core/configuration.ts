/**
 * A project's CTS configuration (spec §1.10, `GET/PUT /v3/{project_id}/configuration`, used by
 * terraform's huaweicloud_cts_configuration): whether global services' traces are synchronised
 * into this region, and which services report read-only (query) traces.
 */
import { CtsError } from './error-catalog.js';

export interface CtsConfiguration {
  is_sync_global_trace: boolean;
  is_support_read_only: boolean;
  support_read_only_services: string[];
}

/** What GET answers for a project that never PUT a configuration. */
export const DEFAULT_CONFIGURATION: Readonly<CtsConfiguration> = Object.freeze({
  is_sync_global_trace: false,
  is_support_read_only: false,
  support_read_only_services: [],
});

export const MAX_READ_ONLY_SERVICES = 100;
/** A service type as traces name it (`ECS`, `OBS`, `CTS`...). */
const SERVICE_TYPE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** PUT is a full replace: an omitted service list means none. Duplicates are refused. */
export function planConfiguration(input: {
  is_sync_global_trace: boolean;
  is_support_read_only: boolean;
  support_read_only_services?: readonly string[] | undefined;
}): CtsConfiguration {
  const services = input.support_read_only_services ?? [];
  if (services.length > MAX_READ_ONLY_SERVICES) {
    throw new CtsError('CTS.0003', `(support_read_only_services: at most ${MAX_READ_ONLY_SERVICES} services)`);
  }
  services.forEach((s, i) => {
    if (!SERVICE_TYPE.test(s)) {
      throw new CtsError('CTS.0003', `(support_read_only_services[${i}]: not a service type)`);
    }
  });
  if (new Set(services).size !== services.length) {
    throw new CtsError('CTS.0003', '(support_read_only_services: a service is given twice)');
  }
  return {
    is_sync_global_trace: input.is_sync_global_trace,
    is_support_read_only: input.is_support_read_only,
    support_read_only_services: [...services],
  };
}
