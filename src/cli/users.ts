/** `opencts users create|list|delete` and `opencts tokens create`: identities in a data dir. */
import { Option, type Command } from 'commander';
import { ROLES, type Role } from '../core/authz.js';
import { parseDuration, table } from './format.js';
import { withRuntime } from './local-store.js';
import { dataDirOption, storeOption } from './options.js';

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage users of a domain (account)');

  users
    .command('create')
    .description('create a user')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--domain-id <id>', 'domain (account) of the user')
    .requiredOption('--name <name>', 'user name')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; domainId: string; name: string; json?: boolean }) => {
      const user = await withRuntime(flags, (rt) => rt.identity.createUser(flags.domainId, flags.name));
      console.log(flags.json ? JSON.stringify(user) : `user ${user.user_name} (${user.user_id}) in ${user.domain_id}`);
    });

  users
    .command('list')
    .description('list users')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .option('--domain-id <id>', 'only users of this domain')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; store?: string; domainId?: string; json?: boolean }) => {
      const list = await withRuntime(flags, (rt) =>
        rt.store.listUsers(flags.domainId ? { domain_id: flags.domainId } : {}),
      );
      const rows = list.map((u) => ({
        domain_id: u.domain_id,
        user: u.user_name,
        user_id: u.user_id,
        created: new Date(u.created_at).toISOString(),
      }));
      console.log(flags.json ? JSON.stringify(rows) : table(rows));
    });

  users
    .command('delete')
    .description('delete a user: every access key of theirs is revoked and their tokens stop working')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--domain-id <id>', 'domain (account) of the user')
    .requiredOption('--name <name>', 'user name')
    .action(async (flags: { dataDir?: string; store?: string; domainId: string; name: string }) => {
      await withRuntime(flags, (rt) => rt.identity.deleteUser(flags.domainId, flags.name));
      console.log(`deleted user ${flags.name}`);
    });

  const tokens = program.command('tokens').description('issue X-Auth-Token tokens');
  tokens
    .command('create')
    .description('issue a signed token for a user in a project (send it as X-Auth-Token)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--user <name>', 'user the token acts for')
    .requiredOption('--project <id>', 'project the token is scoped to')
    .option('--ttl <duration>', 'how long it is valid (at most 7d)', parseDuration, 24 * 3_600_000)
    .addOption(new Option('--role <role>', 'what the token may do').choices(ROLES).default('admin'))
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        dataDir?: string;
        store?: string;
        user: string;
        project: string;
        ttl: number;
        role: Role;
        json?: boolean;
      }) => {
        const issued = await withRuntime(flags, (rt) =>
          rt.tokens.issue({ user: flags.user, projectId: flags.project, ttlMs: flags.ttl, role: flags.role }),
        );
        console.log(flags.json ? JSON.stringify(issued) : issued.token);
      },
    );
}
