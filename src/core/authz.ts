/**
 * Roles and what they may do (like CTS's system policies: CTS FullAccess, CTS ReadOnlyAccess).
 * Every API operation declares one kind of access; a role grants a set of them.
 */
export const ROLES = ['admin', 'readonly', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** read: GET operations; write: changes to trackers and other configuration; ingest: report traces. */
export const ACCESS_KINDS = ['read', 'write', 'ingest'] as const;
export type Access = (typeof ACCESS_KINDS)[number];

/**
 * admin manages the project (everything but reporting traces, so that an admin key cannot forge
 * other services' history); readonly only reads; service only reports traces.
 */
export const ROLE_GRANTS: Readonly<Record<Role, readonly Access[]>> = {
  admin: ['read', 'write'],
  readonly: ['read'],
  service: ['ingest'],
};

export function mayAccess(role: Role, access: Access): boolean {
  return ROLE_GRANTS[role].includes(access);
}
