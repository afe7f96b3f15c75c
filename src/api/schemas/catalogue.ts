/** Wire schemas of ListOperations, ListTraceResources, ListUserResources (spec §1.8) and the configuration (§1.10). */
import { Type } from '@sinclair/typebox';
import { MAX_READ_ONLY_SERVICES } from '../../core/configuration.js';

const NAME = { minLength: 1, maxLength: 256 };

export const OperationsQuery = Type.Object({
  service_type: Type.Optional(Type.String(NAME)),
  resource_type: Type.Optional(Type.String({ ...NAME, description: 'needs service_type' })),
});

export const OperationsResponse = Type.Object({
  operations: Type.Array(
    Type.Object({
      service_type: Type.String(),
      resource_type: Type.String(),
      operation_list: Type.Array(Type.String()),
    }),
  ),
});

export const DomainParams = Type.Object({
  domain_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

export const ResourcesResponse = Type.Object({
  resources: Type.Array(Type.Object({ service_type: Type.String(), resource: Type.Array(Type.String()) })),
});

export const UsersResponse = Type.Object({ users: Type.Array(Type.Object({ name: Type.String() })) });

const configurationFields = {
  is_sync_global_trace: Type.Boolean({ description: 'synchronise the traces of global services into this region' }),
  is_support_read_only: Type.Boolean({ description: 'every service reports read-only traces' }),
};

export const ConfigurationBody = Type.Object({
  ...configurationFields,
  support_read_only_services: Type.Optional(
    Type.Array(Type.String({ maxLength: 256 }), {
      maxItems: MAX_READ_ONLY_SERVICES,
      description: 'services that report read-only traces',
    }),
  ),
});

export const ConfigurationResponse = Type.Object({
  ...configurationFields,
  support_read_only_services: Type.Array(Type.String()),
});
