/**
 * Signed, expiring tokens for `X-Auth-Token` (spec §6.1): JWTs (HS256, a library's implementation:
 * jose) whose key is derived from the master key, so every instance sharing the master key can
 * verify them. A token names its user, domain, project and role; deleting the user voids it.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Role } from '../core/authz.js';
import { ROLES } from '../core/authz.js';
import { uuidv7 } from '../core/ids.js';
import type { SecretBox } from '../store/secret-box.js';
import type { Store } from '../store/store.js';
import { IdentityError } from './identity-service.js';

const ISSUER = 'opencts';
const ALGORITHM = 'HS256';
export const MAX_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

export interface IssuedToken {
  readonly token: string;
  readonly expires_at: number;
  readonly project_id: string;
  readonly domain_id: string;
  readonly user: string;
  readonly role: Role;
}

export interface TokenClaims {
  readonly userId: string;
  readonly userName: string;
  readonly domainId: string;
  readonly projectId: string;
  readonly role: Role;
  readonly tokenId: string;
}

export class TokenError extends Error {
  override name = 'TokenError';
}

export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    private readonly store: Store,
    secrets: SecretBox,
  ) {
    this.key = secrets.deriveKey('token signing');
  }

  async issue(request: { user: string; projectId: string; ttlMs: number; role?: Role }): Promise<IssuedToken> {
    if (!(request.ttlMs > 0 && request.ttlMs <= MAX_TOKEN_TTL_MS)) {
      throw new IdentityError(`ttl must be between 1 ms and ${MAX_TOKEN_TTL_MS / 3_600_000} hours`);
    }
    const project = await this.store.getProject(request.projectId);
    if (!project) throw new IdentityError(`no project ${request.projectId}`);
    const user = await this.store.getUser(project.domain_id, request.user);
    if (!user) throw new IdentityError(`no user ${request.user} in domain ${project.domain_id}`);
    const role = request.role ?? 'admin';
    const expiresAt = Date.now() + request.ttlMs;
    const token = await new SignJWT({
      user: user.user_name,
      domain_id: user.domain_id,
      project_id: project.project_id,
      role,
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(user.user_id)
      .setJti(uuidv7())
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return {
      token,
      expires_at: Math.floor(expiresAt / 1000) * 1000,
      project_id: project.project_id,
      domain_id: project.domain_id,
      user: user.user_name,
      role,
    };
  }

  /** The token's claims; TokenError when it is malformed, tampered with, expired, or its user is gone. */
  async verify(token: string): Promise<TokenClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: [ALGORITHM] }));
    } catch (err) {
      throw new TokenError(err instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token');
    }
    const { sub, jti, user, domain_id, project_id, role } = payload;
    if (
      typeof sub !== 'string' ||
      typeof jti !== 'string' ||
      typeof user !== 'string' ||
      typeof domain_id !== 'string' ||
      typeof project_id !== 'string' ||
      !(ROLES as readonly unknown[]).includes(role)
    ) {
      throw new TokenError('invalid token claims');
    }
    const current = await this.store.getUser(domain_id, user);
    if (!current || current.user_id !== sub) throw new TokenError('the token user no longer exists');
    return {
      userId: sub,
      userName: user,
      domainId: domain_id,
      projectId: project_id,
      role: role as Role,
      tokenId: jti,
    };
  }
}
