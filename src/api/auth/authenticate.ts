/**
 * Authentication of CTS API calls by AK/SK signature (spec §6.2). Runs after the body is read
 * (the signature covers its raw bytes) and before schema validation, so an unauthenticated
 * caller learns nothing from validation messages. Every failure looks the same on the wire: the
 * response never tells whether an access key exists.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayAccess } from '../../core/authz.js';
import { CtsError } from '../../core/error-catalog.js';
import type { Credential, Store } from '../../store/store.js';
import { TokenError, type TokenService } from '../../service/token-service.js';
import type { AuthFailureLimiter } from './failure-limiter.js';
import { parseAuthorization, sha256Hex } from './sdk-hmac-sha256.js';
import { verifySignature } from './verify-signature.js';

/** Who made an authenticated call. */
export interface Principal {
  /** Undefined when the caller authenticated with a token. */
  readonly accessKeyId: string | undefined;
  readonly method: 'aksk' | 'token';
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

function sameDigest(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Why authentication failed: for logs and metrics only, never for the wire. */
export class AuthFailure extends Error {
  override name = 'AuthFailure';
  constructor(readonly reason: string) {
    super(reason);
  }
}

function unauthenticated(_request: FastifyRequest, reason: string): AuthFailure {
  return new AuthFailure(reason);
}

async function authenticateToken(request: FastifyRequest, token: string, tokens: TokenService): Promise<Principal> {
  try {
    const claims = await tokens.verify(token);
    return {
      accessKeyId: undefined,
      method: 'token',
      projectId: claims.projectId,
      domainId: claims.domainId,
      userId: claims.userId,
      userName: claims.userName,
      role: claims.role,
    };
  } catch (err) {
    if (err instanceof TokenError) throw unauthenticated(request, err.message);
    throw err;
  }
}

export async function authenticate(
  request: FastifyRequest,
  store: Store,
  tokens: TokenService,
  now: () => number = Date.now,
): Promise<Principal> {
  const token = header(request, 'x-auth-token');
  if (token !== undefined) return authenticateToken(request, token, tokens);
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
  if (credential.expires_at !== null) {
    // Temporary credentials (clients.md §4.1): valid until they expire, and only with their token.
    if (now() >= credential.expires_at) throw unauthenticated(request, 'temporary access key expired');
    const token = header(request, 'x-security-token');
    if (!token || !sameDigest(sha256Hex(token), credential.security_token_sha256 ?? '')) {
      throw unauthenticated(request, 'missing or wrong security token');
    }
  }
  return {
    accessKeyId: credential.access_key_id,
    method: 'aksk',
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
  } else {
    if (params['domain_id'] !== principal.domainId) throw new CtsError('CTS.0002');
    // The SDK sends X-Project-Id on domain-scoped calls too (clients.md §4.2): it must be the caller's.
    const headerProject = header(request, 'x-project-id');
    if (headerProject !== undefined && headerProject !== principal.projectId) throw new CtsError('CTS.0012');
  }
}

export interface AuthenticationDeps {
  readonly store: Store;
  readonly tokens: TokenService;
  readonly failures: AuthFailureLimiter;
}

/** Reason label of the failure metric: the reason without key-specific detail. */
function reasonLabel(reason: string): string {
  return reason.replace(/[^a-z -]/gi, '').slice(0, 40);
}

export function registerAuthentication(app: FastifyInstance, deps: AuthenticationDeps): void {
  app.decorateRequest('principal', undefined);
  app.addHook('preValidation', async (request, reply) => {
    const scope = request.routeOptions.config.auth;
    if (!scope) return;
    let principal: Principal;
    try {
      principal = await authenticate(request, deps.store, deps.tokens);
    } catch (err) {
      if (!(err instanceof AuthFailure)) throw err;
      const claimedKey = parseAuthorization(header(request, 'authorization') ?? '')?.accessKeyId;
      request.log.warn({ reason: err.reason, ak: claimedKey }, 'authentication failed');
      const retryAfter = await deps.failures.record(request, reasonLabel(err.reason), claimedKey);
      if (retryAfter !== undefined) {
        reply.header('Retry-After', String(retryAfter));
        throw new CtsError('CTS.9429');
      }
      throw new CtsError('CTS.9401');
    }
    request.principal = principal;
    checkScope(request, principal, scope);
    const operation = request.routeOptions.config.operation;
    if (operation && !mayAccess(principal.role, operation.access)) {
      throw new CtsError('CTS.0013', `(role ${principal.role} may not ${operation.access})`);
    }
  });
}

/** The authenticated caller of a route that declared `config.auth`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CtsError('CTS.9401');
  return request.principal;
}
