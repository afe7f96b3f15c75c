/** `opencts credentials create|list|revoke|rotate`: manage access keys directly in a data dir. */
import { Option, type Command } from 'commander';
import { ROLES, type Role } from '../core/authz.js';
import type { IssuedCredential } from '../service/identity-service.js';
import { parseDuration, table } from './format.js';
import { withRuntime } from './local-store.js';
import { dataDirOption, storeOption } from './options.js';

function printIssued(issued: IssuedCredential, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(issued));
    return;
  }
  console.log(`access_key_id      ${issued.access_key_id}`);
  console.log(`secret_access_key  ${issued.secret_access_key}   (shown once: store it now)`);
  if (issued.security_token !== undefined) {
    console.log(`security_token     ${issued.security_token}   (send as X-Security-Token; shown once)`);
    console.log(`expires_at         ${new Date(issued.expires_at!).toISOString()}`);
  }
  console.log(`project_id         ${issued.project_id}`);
  console.log(`domain_id          ${issued.domain_id}`);
  console.log(`user               ${issued.user}`);
}

export function registerCredentialCommands(program: Command): void {
  const credentials = program.command('credentials').description('manage AK/SK access keys');

  credentials
    .command('create')
    .description('create an access key (the secret is shown once)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project the key acts in (created if new)')
    .requiredOption('--domain-id <id>', 'domain (account) that owns the project')
    .requiredOption('--user <name>', 'user the key acts for (created if new)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).default('admin'))
    .option('--ttl <duration>', 'temporary key: valid this long, with a security token (e.g. 1h)', parseDuration)
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        dataDir?: string;
        store?: string;
        projectId: string;
        domainId: string;
        user: string;
        role: Role;
        ttl?: number;
        json?: boolean;
      }) => {
        const issued = await withRuntime(flags, (rt) =>
          rt.identity.createCredential({
            projectId: flags.projectId,
            domainId: flags.domainId,
            user: flags.user,
            role: flags.role,
            ...(flags.ttl !== undefined ? { ttlMs: flags.ttl } : {}),
          }),
        );
        printIssued(issued, flags.json);
      },
    );

  credentials
    .command('list')
    .description('list access keys (never their secrets)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--project-id <id>', 'only keys of this project')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; projectId?: string; json?: boolean }) => {
      const list = await withRuntime(flags, (rt) =>
        rt.store.listCredentials(flags.projectId ? { project_id: flags.projectId } : {}),
      );
      const now = Date.now();
      const rows = list.map((c) => ({
        access_key_id: c.access_key_id,
        project_id: c.project_id,
        domain_id: c.domain_id,
        user: c.user_name,
        role: c.role,
        created: new Date(c.created_at).toISOString(),
        expires: c.expires_at === null ? '' : new Date(c.expires_at).toISOString(),
        status:
          c.revoked_at !== null
            ? `revoked ${new Date(c.revoked_at).toISOString()}`
            : c.expires_at !== null && c.expires_at <= now
              ? 'expired'
              : 'active',
      }));
      console.log(flags.json ? JSON.stringify(rows) : table(rows));
    });

  credentials
    .command('revoke')
    .description('revoke an access key; requests signed with it fail from now on')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .argument('<access_key_id>')
    .action(async (accessKeyId: string, flags: { dataDir?: string }) => {
      const revoked = await withRuntime(flags, (rt) => rt.store.revokeCredential(accessKeyId, Date.now()));
      if (!revoked) throw new Error(`no active access key ${accessKeyId}`);
      console.log(`revoked ${accessKeyId}`);
    });

  credentials
    .command('rotate')
    .description('replace an access key: a new key for the same user, project and role; the old one is revoked')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .argument('<access_key_id>')
    .option('--json', 'print JSON')
    .action(async (accessKeyId: string, flags: { dataDir?: string; store?: string; json?: boolean }) => {
      const issued = await withRuntime(flags, (rt) => rt.identity.rotateCredential(accessKeyId));
      printIssued(issued, flags.json);
    });
}
