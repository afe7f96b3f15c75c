/**
 * `opencts topics create|list|delete` and `opencts notifications failures|retry`: the self-hosted
 * notification targets of a data dir and its dead-letter list. Stable: scripts outside the
 * repository call `opencts topics create --data-dir DIR --project-id P --urn URN --url URL`.
 */
import type { Command } from 'commander';
import { CtsError } from '../core/error-catalog.js';
import { failureView } from '../api/routes/topics.js';
import type { Runtime } from '../runtime.js';
import type { Caller } from '../service/tracker-service.js';
import { table } from './format.js';
import { withRuntime } from './local-store.js';
import { dataDirOption, storeOption } from './options.js';

interface ProjectFlags {
  dataDir?: string;
  projectId: string;
  json?: boolean;
  readonly store?: string;
}

/** The project as a caller: it must exist (credentials create it). */
async function callerOf(rt: Runtime, projectId: string): Promise<Caller> {
  const project = await rt.store.getProject(projectId);
  if (!project)
    throw new CtsError('CTS.0012', `(project ${projectId} does not exist: create a credential for it first)`);
  return { projectId, domainId: project.domain_id };
}

const time = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

export function registerTopicCommands(program: Command): void {
  const topics = program.command('topics').description('notification topics: a topic URN mapped to a webhook');

  topics
    .command('create')
    .description('register a topic URN (urn:smn:… or urn:fss:…:function:default:…) with the webhook that receives it')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project of the topic (the URN must name it)')
    .requiredOption(
      '--urn <urn>',
      'urn:smn:{region}:{project_id}:{name} or urn:fss:{region}:{project_id}:function:default:{name}',
    )
    .requiredOption('--url <url>', 'webhook URL (http or https) that receives the signed messages')
    .option('--json', 'print JSON')
    .action(async (flags: ProjectFlags & { urn: string; url: string }) => {
      const created = await withRuntime(flags, async (rt) =>
        rt.notifications.createTopic(
          await callerOf(rt, flags.projectId),
          { urn: flags.urn, url: flags.url },
          undefined,
        ),
      );
      if (flags.json) {
        console.log(JSON.stringify(created));
        return;
      }
      console.log(`topic ${created.urn} -> ${created.url}`);
      console.log(`secret ${created.secret}`);
      console.log('(the secret signs every message in X-OpenCTS-Signature; it is not shown again)');
    });

  topics
    .command('list')
    .description('list the topics of a project (without their secrets)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project')
    .option('--json', 'print JSON')
    .action(async (flags: ProjectFlags) => {
      const list = await withRuntime(flags, async (rt) =>
        rt.notifications.listTopics(await callerOf(rt, flags.projectId)),
      );
      if (flags.json) console.log(JSON.stringify(list));
      else console.log(table(list.map((t) => ({ urn: t.urn, url: t.url, created: time(t.created_at) }))));
    });

  topics
    .command('delete')
    .description('delete a topic (refused while an enabled notification sends to it)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project')
    .requiredOption('--urn <urn>', 'topic URN')
    .option('--json', 'print JSON')
    .action(async (flags: ProjectFlags & { urn: string }) => {
      const removed = await withRuntime(flags, async (rt) =>
        rt.notifications.deleteTopic(await callerOf(rt, flags.projectId), flags.urn, undefined),
      );
      console.log(flags.json ? JSON.stringify(removed) : `deleted topic ${removed.urn}`);
    });

  const notifications = program.command('notifications').description('key-event notification delivery');

  notifications
    .command('failures')
    .description('list messages whose webhook failed every attempt (the dead-letter list)')
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project')
    .option('--json', 'print JSON')
    .action(async (flags: ProjectFlags) => {
      const list = await withRuntime(flags, async (rt) =>
        rt.notifications.failures(await callerOf(rt, flags.projectId)),
      );
      const views = list.map(failureView);
      if (flags.json) {
        console.log(JSON.stringify(views));
        return;
      }
      console.log(
        table(
          views.map((f) => ({
            id: f.id,
            notification: f.notification_name,
            trace_id: f.trace_id,
            attempts: String(f.attempts),
            last_error: f.last_error,
            failed: time(f.failed_at),
            retry: f.retry_requested_at === null ? '' : 'requested',
          })),
        ),
      );
    });

  notifications
    .command('retry')
    .description(
      'send failed messages again (all of the project, or those given with --id); a running server picks them up',
    )
    .addOption(dataDirOption())
    .addOption(storeOption())
    .requiredOption('--project-id <id>', 'project')
    .option('--id <id...>', 'only these failures (ids from `notifications failures`)')
    .option('--json', 'print JSON')
    .action(async (flags: ProjectFlags & { id?: string[] }) => {
      const retried = await withRuntime(flags, async (rt) =>
        rt.notifications.retry(await callerOf(rt, flags.projectId), flags.id, undefined),
      );
      console.log(flags.json ? JSON.stringify({ retried }) : `retry requested for ${retried.length} message(s)`);
    });
}
