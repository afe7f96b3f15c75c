/** Version discovery (spec §1.10): `GET /` lists the API versions, `GET /{version}` shows one. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CtsError } from '../../core/error-catalog.js';

interface ApiVersion {
  id: string;
  status: 'CURRENT' | 'SUPPORTED' | 'DEPRECATED';
  updated: string;
}

/** v1.0 and v2.0 are CTS's "out-of-date" APIs, still served for clients that use them (spec §1.11). */
export const API_VERSIONS: readonly ApiVersion[] = [
  { id: 'v1.0', status: 'DEPRECATED', updated: '2018-01-01T00:00:00Z' },
  { id: 'v2.0', status: 'DEPRECATED', updated: '2018-01-01T00:00:00Z' },
  { id: 'v3', status: 'CURRENT', updated: '2023-06-01T00:00:00Z' },
];

const VersionSchema = Type.Object({
  id: Type.String(),
  links: Type.Array(Type.Object({ href: Type.String(), rel: Type.String() })),
  version: Type.String(),
  min_version: Type.String(),
  status: Type.String(),
  updated: Type.String(),
});

function describe(version: ApiVersion, request: FastifyRequest) {
  const base = `${request.protocol}://${request.host}`;
  return {
    id: version.id,
    links: [{ href: `${base}/${version.id}/`, rel: 'self' }],
    version: '',
    min_version: '',
    status: version.status,
    updated: version.updated,
  };
}

export function registerVersionRoutes(app: FastifyInstance): void {
  app.get(
    '/',
    {
      schema: {
        summary: 'List API versions',
        tags: ['versions'],
        response: { 200: Type.Object({ versions: Type.Array(VersionSchema) }) },
      },
    },
    async (request) => ({ versions: API_VERSIONS.map((v) => describe(v, request)) }),
  );
  app.get(
    '/:version',
    {
      schema: {
        summary: 'Show an API version',
        tags: ['versions'],
        params: Type.Object({ version: Type.String({ maxLength: 16 }) }),
        response: { 200: Type.Object({ version: VersionSchema }) },
      },
    },
    async (request) => {
      const { version } = request.params as { version: string };
      const found = API_VERSIONS.find((v) => v.id === version || v.id === version.replace(/\/$/, ''));
      if (!found) throw new CtsError('CTS.0100');
      return { version: describe(found, request) };
    },
  );
}
