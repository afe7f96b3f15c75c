/**
 * Projects, users' access keys, and the first-start bootstrap. The secret key is returned once,
 * when created; it is stored because HMAC verification needs it (hashing it would make
 * signatures unverifiable).
 */
import { createHash } from 'node:crypto';
import { newAccessKeyId, newHexId, newSecretAccessKey } from '../core/ids.js';
import type { Credential, Project, Role, Store } from '../store/store.js';

export interface IssuedCredential {
  readonly access_key_id: string;
  readonly secret_access_key: string;
  readonly project_id: string;
  readonly domain_id: string;
  readonly user: string;
}

export interface CredentialRequest {
  readonly projectId: string;
  readonly domainId: string;
  readonly user: string;
  readonly role?: Role;
  readonly now?: number;
}

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

/** A stable user id per (domain, user name), so one user's keys all name the same user id. */
export function userIdFor(domainId: string, userName: string): string {
  return createHash('sha256').update(`${domainId}\0${userName}`).digest('hex').slice(0, 32);
}

export class IdentityService {
  constructor(private readonly store: Store) {}

  async createCredential(request: CredentialRequest): Promise<IssuedCredential> {
    for (const [what, value] of [
      ['project id', request.projectId],
      ['domain id', request.domainId],
    ] as const) {
      if (!PROJECT_ID_PATTERN.test(value)) throw new Error(`invalid ${what} ${JSON.stringify(value)}`);
    }
    if (!USER_NAME_PATTERN.test(request.user)) throw new Error(`invalid user name ${JSON.stringify(request.user)}`);
    const now = request.now ?? Date.now();
    await this.store.ensureProject({
      project_id: request.projectId,
      domain_id: request.domainId,
      name: request.projectId,
      created_at: now,
    });
    const credential: Credential = {
      access_key_id: newAccessKeyId(),
      secret_access_key: newSecretAccessKey(),
      project_id: request.projectId,
      domain_id: request.domainId,
      user_id: userIdFor(request.domainId, request.user),
      user_name: request.user,
      role: request.role ?? 'admin',
      created_at: now,
      revoked_at: null,
    };
    await this.store.addCredential(credential);
    return {
      access_key_id: credential.access_key_id,
      secret_access_key: credential.secret_access_key,
      project_id: credential.project_id,
      domain_id: credential.domain_id,
      user: credential.user_name,
    };
  }

  /** On an empty store, creates a default project with an admin key; otherwise returns undefined. */
  async bootstrap(): Promise<IssuedCredential | undefined> {
    const projects: Project[] = await this.store.listProjects();
    if (projects.length > 0) return undefined;
    return this.createCredential({ projectId: newHexId(), domainId: newHexId(), user: 'admin', role: 'admin' });
  }
}
