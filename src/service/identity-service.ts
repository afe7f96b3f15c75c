/**
 * Users, projects and access keys, and the first-start bootstrap. A secret key (and a temporary
 * key's security token) is returned once, when created: the store keeps the secret sealed (HMAC
 * verification needs it) and only a hash of the token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../core/authz.js';
import { newAccessKeyId, newHexId, newSecretAccessKey } from '../core/ids.js';
import type { Credential, Project, Store, User } from '../store/store.js';

export interface IssuedCredential {
  readonly access_key_id: string;
  readonly secret_access_key: string;
  readonly project_id: string;
  readonly domain_id: string;
  readonly user: string;
  /** Temporary credentials only: send as X-Security-Token. */
  readonly security_token?: string;
  /** Temporary credentials only: ms since the epoch. */
  readonly expires_at?: number;
}

export interface CredentialRequest {
  readonly projectId: string;
  readonly domainId: string;
  readonly user: string;
  readonly role?: Role;
  /** Makes a temporary key with a security token, valid this long. */
  readonly ttlMs?: number;
  readonly now?: number;
}

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Long enough for one bootstrap; an instance that died during it is succeeded after this. */
const BOOTSTRAP_LEASE_MS = 60_000;

export class IdentityError extends Error {
  override name = 'IdentityError';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function checkId(what: string, value: string): void {
  if (!PROJECT_ID_PATTERN.test(value)) throw new IdentityError(`invalid ${what} ${JSON.stringify(value)}`);
}

function checkUserName(name: string): void {
  if (!USER_NAME_PATTERN.test(name)) throw new IdentityError(`invalid user name ${JSON.stringify(name)}`);
}

export class IdentityService {
  constructor(private readonly store: Store) {}

  async createUser(domainId: string, userName: string, now = Date.now()): Promise<User> {
    checkId('domain id', domainId);
    checkUserName(userName);
    return this.store.ensureUser({ domain_id: domainId, user_name: userName, user_id: newHexId(), created_at: now });
  }

  async deleteUser(domainId: string, userName: string): Promise<void> {
    if (!(await this.store.deleteUser(domainId, userName, Date.now()))) {
      throw new IdentityError(`no user ${userName} in domain ${domainId}`);
    }
  }

  async createCredential(request: CredentialRequest): Promise<IssuedCredential> {
    checkId('project id', request.projectId);
    checkId('domain id', request.domainId);
    checkUserName(request.user);
    if (request.ttlMs !== undefined && !(request.ttlMs > 0)) throw new IdentityError('ttl must be positive');
    const now = request.now ?? Date.now();
    await this.store.ensureProject({
      project_id: request.projectId,
      domain_id: request.domainId,
      name: request.projectId,
      created_at: now,
    });
    const user = await this.createUser(request.domainId, request.user, now);
    const securityToken = request.ttlMs === undefined ? undefined : randomBytes(48).toString('base64url');
    const credential: Credential = {
      access_key_id: newAccessKeyId(),
      secret_access_key: newSecretAccessKey(),
      project_id: request.projectId,
      domain_id: request.domainId,
      user_id: user.user_id,
      user_name: user.user_name,
      role: request.role ?? 'admin',
      created_at: now,
      revoked_at: null,
      expires_at: request.ttlMs === undefined ? null : now + request.ttlMs,
      security_token_sha256: securityToken === undefined ? null : sha256Hex(securityToken),
    };
    await this.store.addCredential(credential);
    return {
      access_key_id: credential.access_key_id,
      secret_access_key: credential.secret_access_key,
      project_id: credential.project_id,
      domain_id: credential.domain_id,
      user: credential.user_name,
      ...(securityToken !== undefined ? { security_token: securityToken, expires_at: credential.expires_at! } : {}),
    };
  }

  /** Issues a new key for the same user, project and role, then revokes the old one. */
  async rotateCredential(accessKeyId: string): Promise<IssuedCredential> {
    const old = await this.store.getCredential(accessKeyId);
    if (!old || old.revoked_at !== null) throw new IdentityError(`no active access key ${accessKeyId}`);
    const now = Date.now();
    const issued = await this.createCredential({
      projectId: old.project_id,
      domainId: old.domain_id,
      user: old.user_name,
      role: old.role,
      ...(old.expires_at !== null ? { ttlMs: Math.max(1, old.expires_at - now) } : {}),
      now,
    });
    await this.store.revokeCredential(accessKeyId, now);
    return issued;
  }

  /** On an empty store, creates a default project with an admin key; otherwise returns undefined. */
  async bootstrap(): Promise<IssuedCredential | undefined> {
    const projects: Project[] = await this.store.listProjects();
    if (projects.length > 0) return undefined;
    // Instances starting at once on one empty database: only the one that holds this lease
    // bootstraps (it is never released: the first project ends bootstrapping for good).
    if (!(await this.store.acquireLease('bootstrap', newHexId(), BOOTSTRAP_LEASE_MS))) return undefined;
    if ((await this.store.listProjects()).length > 0) return undefined;
    return this.createCredential({ projectId: newHexId(), domainId: newHexId(), user: 'admin', role: 'admin' });
  }
}
