/**
 * Authentication of CTS API calls by AK/SK signature (spec §6.2). Runs after the body is read
 * (the signature covers its raw bytes) and before schema validation, so an unauthenticated
 * caller learns nothing from validation messages. Every failure looks the same on the wire: the
 * response never tells whether an access key exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CtsError } from '../../core/error-catalog.js';
import type { Credential, Store } from '../../store/store.js';
import { parseAuthorization } from './sdk-hmac-sha256.js';
import { verifySignature } from './verify-signature.js';

/** Who made an authenticated call. */
export interface Principal {
  readonly accessKeyId: string;
  readonly projectId: string;
  readonly domainId: string;
  readonly userId: string;
  readonly userName: string;
  readonly role: Credential['role'];
}

/** `project`: the path's `{project_id}` must be the caller's; `domain`: the path's `{domain_id}`. */
export type AuthScope = 'project' | 'domain';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthScope;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function unauthenticated(request: FastifyRequest, reason: string): CtsError {
  request.log.warn({ reason }, 'authentication failed');
  return new CtsError('CTS.9401');
}

export async function authenticate(
  request: FastifyRequest,
  store: Store,
  now: () => number = Date.now,
): Promise<Principal> {
  const authorization = header(request, 'authorization');
  if (!authorization) throw unauthenticated(request, 'no Authorization header');
  const auth = parseAuthorization(authorization);
  if (!auth) throw unauthenticated(request, 'malformed Authorization header');
  const credential = await store.getCredential(auth.accessKeyId);
  if (!credential || credential.revoked_at !== null) {
    throw unauthenticated(request, credential ? 'revoked access key' : 'unknown access key');
  }
  const problem = verifySignature(
    {
      method: request.method,
      url: request.raw.url ?? request.url,
      header: (name) => header(request, name),
      rawBody: request.rawBody,
    },
    auth,
    credential.secret_access_key,
    now(),
  );
  if (problem) throw unauthenticated(request, problem);
  return {
    accessKeyId: credential.access_key_id,
    projectId: credential.project_id,
    domainId: credential.domain_id,
    userId: credential.user_id,
    userName: credential.user_name,
    role: credential.role,
  };
}

function checkScope(request: FastifyRequest, principal: Principal, scope: AuthScope): void {
  const params = request.params as Record<string, string | undefined>;
  if (scope === 'project') {
    if (params['project_id'] !== principal.projectId) throw new CtsError('CTS.0012');
    const headerProject = header(request, 'x-project-id');
    if (headerProject !== undefined && headerProject !== principal.projectId) throw new CtsError('CTS.0012');
  } else if (params['domain_id'] !== principal.domainId) {
    throw new CtsError('CTS.0002');
  }
}

export function registerAuthentication(app: FastifyInstance, store: Store): void {
  app.decorateRequest('principal', undefined);
  app.addHook('preValidation', async (request) => {
    const scope = request.routeOptions.config.auth;
    if (!scope) return;
    const principal = await authenticate(request, store);
    request.principal = principal;
    checkScope(request, principal, scope);
  });
}

/** The authenticated caller of a route that declared `config.auth`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CtsError('CTS.9401');
  return request.principal;
}
