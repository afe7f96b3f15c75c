/** `opencts credentials create|list|revoke`: manage access keys directly in the data dir's store. */
import { Option, type Command } from 'commander';
import { resolveConfig } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { ROLES, type Role } from '../store/store.js';
import { table } from './format.js';
import { dataDirOption } from './options.js';

async function withRuntime<T>(dataDir: string | undefined, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = resolveConfig({ flags: { dataDir } });
  const runtime = await openRuntime(config);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

export function registerCredentialCommands(program: Command): void {
  const credentials = program.command('credentials').description('manage AK/SK access keys');

  credentials
    .command('create')
    .description('create an access key (the secret is shown once)')
    .addOption(dataDirOption())
    .requiredOption('--project-id <id>', 'project the key acts in (created if new)')
    .requiredOption('--domain-id <id>', 'domain (account) that owns the project')
    .requiredOption('--user <name>', 'user name recorded in traces')
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).default('admin'))
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        dataDir?: string;
        projectId: string;
        domainId: string;
        user: string;
        role: Role;
        json?: boolean;
      }) => {
        const issued = await withRuntime(flags.dataDir, (rt) =>
          rt.identity.createCredential({
            projectId: flags.projectId,
            domainId: flags.domainId,
            user: flags.user,
            role: flags.role,
          }),
        );
        if (flags.json) console.log(JSON.stringify(issued));
        else {
          console.log(`access_key_id      ${issued.access_key_id}`);
          console.log(`secret_access_key  ${issued.secret_access_key}   (shown once: store it now)`);
          console.log(`project_id         ${issued.project_id}`);
          console.log(`domain_id          ${issued.domain_id}`);
          console.log(`user               ${issued.user}`);
        }
      },
    );

  credentials
    .command('list')
    .description('list access keys (never their secrets)')
    .addOption(dataDirOption())
    .option('--project-id <id>', 'only keys of this project')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir?: string; projectId?: string; json?: boolean }) => {
      const list = await withRuntime(flags.dataDir, (rt) =>
        rt.store.listCredentials(flags.projectId ? { project_id: flags.projectId } : {}),
      );
      const rows = list.map((c) => ({
        access_key_id: c.access_key_id,
        project_id: c.project_id,
        domain_id: c.domain_id,
        user: c.user_name,
        role: c.role,
        created: new Date(c.created_at).toISOString(),
        status: c.revoked_at === null ? 'active' : `revoked ${new Date(c.revoked_at).toISOString()}`,
      }));
      console.log(flags.json ? JSON.stringify(rows) : table(rows));
    });

  credentials
    .command('revoke')
    .description('revoke an access key; requests signed with it fail from now on')
    .addOption(dataDirOption())
    .argument('<access_key_id>')
    .action(async (accessKeyId: string, flags: { dataDir?: string }) => {
      const revoked = await withRuntime(flags.dataDir, (rt) => rt.store.revokeCredential(accessKeyId, Date.now()));
      if (!revoked) throw new Error(`no active access key ${accessKeyId}`);
      console.log(`revoked ${accessKeyId}`);
    });
}
