/** `opencts traces list`: query a running OpenCTS, newest first, paging as needed. */
import { Option, type Command } from 'commander';
import { MAX_LIMIT } from '../core/trace/list-query.js';
import type { WireTrace } from '../core/trace/wire.js';
import { clientFrom, withConnectionOptions, type ConnectionFlags } from './api-client.js';
import { parseDuration, parseInstant, parsePositiveInt, table } from './format.js';

interface TraceFlags extends ConnectionFlags {
  type: 'system' | 'data';
  tracker?: string;
  service?: string;
  user?: string;
  resourceType?: string;
  resourceId?: string;
  resourceName?: string;
  traceName?: string;
  rating?: string;
  accessKey?: string;
  traceId?: string;
  since?: number;
  from?: number;
  to?: number;
  limit: number;
  json?: boolean;
}

interface TracePage {
  traces: WireTrace[];
  meta_data: { count: number; marker: string | null };
}

function row(t: WireTrace): Record<string, string> {
  return {
    time: new Date(t.time).toISOString(),
    service: t.service_type,
    resource_type: t.resource_type,
    resource: t.resource_name ?? t.resource_id ?? '',
    trace_name: t.trace_name,
    rating: t.trace_rating,
    code: t.code ?? '',
    user: t.user.name ?? t.user.user_name ?? '',
    source_ip: t.source_ip ?? '',
  };
}

export function registerTraceCommands(program: Command): void {
  const traces = program.command('traces').description('query traces of a running OpenCTS');
  withConnectionOptions(
    traces
      .command('list')
      .description('list traces, newest first')
      .addOption(new Option('--type <type>', 'system or data traces').choices(['system', 'data']).default('system'))
      .option('--tracker <name>', 'tracker name (data traces)')
      .option('--service <type>', 'service_type, e.g. CTS, ECS')
      .option('--user <name>', 'user name of the operator')
      .option('--resource-type <type>', 'resource_type')
      .option('--resource-id <id>', 'resource_id')
      .option('--resource-name <name>', 'resource_name')
      .option('--trace-name <name>', 'trace_name, e.g. createTracker')
      .addOption(new Option('--rating <rating>', 'trace_rating').choices(['normal', 'warning', 'incident']))
      .option('--access-key <ak>', 'access key used by the operator')
      .option('--trace-id <id>', 'one trace by id (other filters are ignored)')
      .option('--since <duration>', 'traces of the last 90s, 15m, 2h, 7d (default 1h)', parseDuration)
      .option('--from <time>', 'start (epoch ms or ISO-8601), instead of --since', parseInstant)
      .option('--to <time>', 'end (epoch ms or ISO-8601; default now)', parseInstant)
      .option('--limit <n>', 'how many traces at most', parsePositiveInt, 50)
      .option('--json', 'print the traces as a JSON array'),
  ).action(async (flags: TraceFlags) => {
    const client = clientFrom(flags);
    const to = flags.to ?? Date.now();
    const from = flags.from ?? to - (flags.since ?? 3_600_000);
    const found: WireTrace[] = [];
    let marker: string | undefined;
    do {
      const page: TracePage = await client.call({
        method: 'GET',
        path: '/v3/{project_id}/traces',
        query: {
          trace_type: flags.type,
          limit: Math.min(MAX_LIMIT, flags.limit - found.length),
          from,
          to,
          next: marker,
          tracker_name: flags.tracker,
          service_type: flags.service,
          user: flags.user,
          resource_id: flags.resourceId,
          resource_name: flags.resourceName,
          resource_type: flags.resourceType,
          trace_id: flags.traceId,
          trace_name: flags.traceName,
          trace_rating: flags.rating,
          access_key_id: flags.accessKey,
        },
      });
      found.push(...page.traces);
      marker = page.meta_data.marker ?? undefined;
    } while (marker && found.length < flags.limit);
    console.log(flags.json ? JSON.stringify(found) : table(found.map(row)));
  });
}
