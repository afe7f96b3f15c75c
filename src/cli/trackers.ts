/** `opencts trackers list|create|update|delete` against a running OpenCTS. */
import { Option, type Command } from 'commander';
import type { Tracker, TrackerInput } from '../core/tracker/tracker.js';
import { clientFrom, withConnectionOptions, type ConnectionFlags } from './api-client.js';
import { table } from './format.js';

interface TrackerFlags extends ConnectionFlags {
  type?: string;
  name?: string;
  status?: string;
  bucket?: string;
  prefix?: string;
  createBucket?: boolean;
  compress?: string;
  sortByService?: boolean;
  lifecycle?: string;
  lts?: boolean;
  validate?: boolean;
  dataBucket?: string;
  dataEvents?: string;
  body?: string;
  json?: boolean;
}

/** The request body from flags; `--body` (raw JSON) is merged under them for fields without a flag. */
function bodyFrom(flags: TrackerFlags): TrackerInput {
  const body: TrackerInput = flags.body ? (JSON.parse(flags.body) as TrackerInput) : {};
  if (flags.type !== undefined) body.tracker_type = flags.type;
  if (flags.name !== undefined) body.tracker_name = flags.name;
  if (flags.status !== undefined) body.status = flags.status;
  if (flags.lts !== undefined) body.is_lts_enabled = flags.lts;
  if (flags.validate !== undefined) body.is_support_validate = flags.validate;
  const obs = { ...body.obs_info };
  if (flags.bucket !== undefined) obs.bucket_name = flags.bucket;
  if (flags.prefix !== undefined) obs.file_prefix_name = flags.prefix;
  if (flags.createBucket !== undefined) obs.is_obs_created = flags.createBucket;
  if (flags.compress !== undefined) obs.compress_type = flags.compress;
  if (flags.sortByService !== undefined) obs.is_sort_by_service = flags.sortByService;
  if (flags.lifecycle !== undefined) obs.bucket_lifecycle = Number(flags.lifecycle);
  if (Object.keys(obs).length > 0) body.obs_info = obs;
  if (flags.dataBucket !== undefined || flags.dataEvents !== undefined) {
    body.data_bucket = { ...body.data_bucket };
    if (flags.dataBucket !== undefined) body.data_bucket.data_bucket_name = flags.dataBucket;
    if (flags.dataEvents !== undefined) body.data_bucket.data_event = flags.dataEvents.split(',').map((e) => e.trim());
  }
  return body;
}

function row(t: Tracker): Record<string, string> {
  return {
    name: t.tracker_name,
    type: t.tracker_type,
    status: t.detail ? `${t.status} (${t.detail})` : t.status,
    bucket: t.obs_info.bucket_name,
    data_bucket: t.data_bucket ? `${t.data_bucket.data_bucket_name} ${t.data_bucket.data_event.join(',')}` : '',
    lts: String(t.lts.is_lts_enabled),
    validate: String(t.is_support_validate),
    created: new Date(t.create_time).toISOString(),
  };
}

function configOptions(command: Command): Command {
  return command
    .option('--bucket <name>', 'OBS bucket that receives trace files ("" for none)')
    .option('--prefix <prefix>', 'trace file name prefix')
    .option('--create-bucket', 'create the bucket (is_obs_created)')
    .addOption(new Option('--compress <type>', 'trace file format').choices(['gzip', 'json']))
    .option('--sort-by-service', 'one folder per service (is_sort_by_service)')
    .option('--no-sort-by-service', 'no service folders')
    .option('--lifecycle <days>', 'keep trace files this many days (0, 30, 60, 90, 180, 1095)')
    .option('--lts', 'dump traces to the log service')
    .option('--no-lts', 'stop dumping to the log service')
    .option('--validate', 'write signed digest files (is_support_validate)')
    .option('--no-validate', 'no digest files')
    .option('--data-bucket <name>', 'data tracker: the bucket whose object operations are recorded')
    .option('--data-events <list>', 'data tracker: READ, WRITE or READ,WRITE')
    .option('--body <json>', 'raw request body (spec §1.2) for fields without a flag')
    .option('--json', 'print JSON');
}

function unsetNegatableDefaults(command: Command, flags: TrackerFlags): TrackerFlags {
  // commander gives --no-x options a default of true; only flags given on the command line count.
  for (const key of ['sortByService', 'lts', 'validate'] as const) {
    if (command.getOptionValueSource(key) === 'default') delete flags[key];
  }
  return flags;
}

export function registerTrackerCommands(program: Command): void {
  const trackers = program.command('trackers').description('manage trackers of a running OpenCTS');

  withConnectionOptions(
    trackers
      .command('list')
      .description('list trackers')
      .option('--name <name>', 'only this tracker')
      .addOption(new Option('--type <type>', 'only this type').choices(['system', 'data']))
      .option('--json', 'print JSON'),
  ).action(async (flags: TrackerFlags) => {
    const res: { trackers: Tracker[] } = await clientFrom(flags).call({
      method: 'GET',
      path: '/v3/{project_id}/trackers',
      query: { tracker_name: flags.name, tracker_type: flags.type },
    });
    console.log(flags.json ? JSON.stringify(res.trackers) : table(res.trackers.map(row)));
  });

  const create = withConnectionOptions(
    configOptions(
      trackers
        .command('create')
        .description('create a tracker')
        .addOption(new Option('--type <type>', 'tracker type').choices(['system', 'data']).default('system'))
        .option('--name <name>', 'tracker name (system trackers are named "system")', 'system'),
    ),
  );
  create.action(async (flags: TrackerFlags) => {
    const created: Tracker = await clientFrom(flags).call({
      method: 'POST',
      path: '/v3/{project_id}/tracker',
      body: bodyFrom(unsetNegatableDefaults(create, flags)),
    });
    console.log(flags.json ? JSON.stringify(created) : table([row(created)]));
  });

  const update = withConnectionOptions(
    configOptions(
      trackers
        .command('update')
        .description('change a tracker; options not given keep their values')
        .addOption(new Option('--type <type>', 'tracker type').choices(['system', 'data']).default('system'))
        .option('--name <name>', 'tracker name', 'system')
        .addOption(new Option('--status <status>', 'enable or disable recording').choices(['enabled', 'disabled'])),
    ),
  );
  update.action(async (flags: TrackerFlags) => {
    await clientFrom(flags).call({
      method: 'PUT',
      path: '/v3/{project_id}/tracker',
      body: bodyFrom(unsetNegatableDefaults(update, flags)),
    });
    console.log(`updated ${flags.type} tracker ${flags.name}`);
  });

  withConnectionOptions(
    trackers
      .command('delete')
      .description('delete trackers (without --name: every data tracker)')
      .option('--name <name>', 'tracker name')
      .addOption(new Option('--type <type>', 'tracker type (default data)').choices(['system', 'data'])),
  ).action(async (flags: TrackerFlags) => {
    await clientFrom(flags).call({
      method: 'DELETE',
      path: '/v3/{project_id}/trackers',
      query: { tracker_name: flags.name, tracker_type: flags.type },
    });
    console.log(flags.name ? `deleted tracker ${flags.name}` : 'deleted every data tracker');
  });
}
