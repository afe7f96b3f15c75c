/**
 * Synthetic CTS traces for the benchmarks, shaped like the generator of spec perf-limits.md
 * (appendix, gen.js): a seeded PRNG, 30 services, 200 resource types (7 or 6 per service), 50 users,
 * 300 operation names (10 per service), ratings normal:warning:incident = 6:2:1 and the three
 * management trace types. A stored trace is about 1.3 KB of wire JSON.
 *
 * One difference: resources come from a pool (20,000 by default), each with its own id, name, service
 * and resource type, so that a resource_name or resource_id filter finds that resource's history
 * (perf-limits drew a fresh random resource id per trace).
 */
import type { IngestedTrace } from '../../src/core/trace/ingest.js';
import type { TraceRating, TraceType } from '../../src/core/trace/trace.js';

/** mulberry32: small, fast, seeded; good enough to spread synthetic values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';

function hex(rng: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += HEX[Math.floor(rng() * 16)];
  return out;
}

/** A UUID v4 drawn from the PRNG (reproducible). */
export function pseudoUuid(rng: () => number): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Math.floor(rng() * 4)]}${h.slice(17, 20)}-${h.slice(20)}`;
}

const SERVICE_NAMES = [
  'ECS',
  'EVS',
  'VPC',
  'OBS',
  'RDS',
  'ELB',
  'IAM',
  'KMS',
  'CCE',
  'DCS',
  'DMS',
  'DDS',
  'SFS',
  'CBR',
  'IMS',
  'AS',
  'CES',
  'LTS',
  'SMN',
  'DNS',
  'NAT',
  'WAF',
  'APIG',
  'FunctionGraph',
  'CSS',
  'DWS',
  'MRS',
  'GaussDB',
  'SWR',
  'CDN',
] as const;

const VERBS = ['create', 'delete', 'update', 'start', 'stop', 'attach', 'detach', 'resize', 'tag', 'reboot'] as const;
const RESOURCE_NOUNS = ['instance', 'volume', 'network', 'policy', 'snapshot', 'group', 'key'] as const;

export interface Service {
  readonly name: string;
  readonly resourceTypes: readonly string[];
  readonly operations: readonly string[];
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly accessKeyId: string;
  readonly sourceIp: string;
}

export interface Resource {
  readonly id: string;
  readonly name: string;
  readonly service: Service;
  readonly resourceType: string;
}

export interface Universe {
  readonly services: readonly Service[];
  readonly resourceTypes: readonly string[];
  readonly operations: readonly string[];
  readonly users: readonly User[];
  readonly resources: readonly Resource[];
  readonly domainId: string;
  readonly domainName: string;
}

const AK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function buildUniverse(seed = 1, resourceCount = 20_000): Universe {
  const rng = mulberry32(seed);
  // 200 resource types: the first 20 services get 7, the other 10 get 6.
  const services: Service[] = SERVICE_NAMES.map((name, i) => {
    const lower = name.toLowerCase();
    const typeCount = i < 20 ? 7 : 6;
    return {
      name,
      resourceTypes: RESOURCE_NOUNS.slice(0, typeCount).map((noun) => `${lower}_${noun}`),
      operations: VERBS.map((verb) => `${verb}${name}${i % 2 === 0 ? 'Resource' : 'Instance'}`),
    };
  });
  const users: User[] = Array.from({ length: 50 }, (_, i) => ({
    id: hex(rng, 32),
    name: `user-${String(i).padStart(2, '0')}`,
    accessKeyId: Array.from({ length: 20 }, () => AK_ALPHABET[Math.floor(rng() * AK_ALPHABET.length)]).join(''),
    sourceIp: `10.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`,
  }));
  const resources: Resource[] = Array.from({ length: resourceCount }, (_, i) => {
    const service = services[Math.floor(rng() * services.length)]!;
    const resourceType = service.resourceTypes[Math.floor(rng() * service.resourceTypes.length)]!;
    return { id: pseudoUuid(rng), name: `${resourceType}-${i}`, service, resourceType };
  });
  return {
    services,
    resourceTypes: services.flatMap((s) => s.resourceTypes),
    operations: services.flatMap((s) => s.operations),
    users,
    resources,
    domainId: hex(rng, 32),
    domainName: 'bench-domain',
  };
}

const TRACE_TYPES: readonly TraceType[] = ['ConsoleAction', 'ApiCall', 'SystemAction'];
const USER_AGENTS = [
  'huaweicloud-usdk-go/3.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'terraform-provider-huaweicloud/1.64.0',
];

/** 6:2:1 */
export function rating(rng: () => number): TraceRating {
  const r = rng() * 9;
  return r < 6 ? 'normal' : r < 8 ? 'warning' : 'incident';
}

/**
 * One reported management trace, as a service would send it to `POST /v3/{project}/traces`.
 * Its stored wire JSON is about 1.3 KB.
 */
export function generateIngested(rng: () => number, u: Universe, time: number, projectId: string): IngestedTrace {
  const resource = u.resources[Math.floor(rng() * u.resources.length)]!;
  const service = resource.service;
  const user = u.users[Math.floor(rng() * u.users.length)]!;
  const op = service.operations[Math.floor(rng() * service.operations.length)]!;
  const traceRating = rating(rng);
  const code = traceRating === 'normal' ? 200 : traceRating === 'warning' ? 400 : 500;
  const requestId = pseudoUuid(rng);
  const lower = service.name.toLowerCase();
  return {
    time,
    user: {
      id: user.id,
      name: user.name,
      domain: { id: u.domainId, name: u.domainName },
      account_id: u.domainId,
      access_key_id: user.accessKeyId,
      principal_urn: `iam::${u.domainId}:user:${user.name}`,
      type: 'User',
    },
    service_type: service.name,
    resource_type: resource.resourceType,
    resource_id: resource.id,
    resource_name: resource.name,
    trace_name: op,
    trace_rating: traceRating,
    trace_type: TRACE_TYPES[Math.floor(rng() * TRACE_TYPES.length)]!,
    request: JSON.stringify({
      [resource.resourceType]: {
        name: resource.name,
        id: resource.id,
        flavor: `s6.large.${1 + Math.floor(rng() * 4)}`,
        availability_zone: `local-1${'abc'[Math.floor(rng() * 3)]}`,
      },
    }),
    response: JSON.stringify(
      code === 200
        ? { [resource.resourceType]: { id: resource.id, status: 'ACTIVE' }, request_id: requestId }
        : { error_code: `${service.name}.${code === 400 ? '0400' : '0500'}`, error_msg: 'request failed' },
    ),
    code,
    api_version: 'v2',
    message: code === 200 ? '' : 'operation failed',
    source_ip: user.sourceIp,
    request_id: requestId,
    location_info: 'local-1',
    endpoint: `${lower}.local-1.example.com`,
    resource_url: `/v2/${projectId}/${lower}/${resource.resourceType}s/${resource.id}`,
    enterprise_project_id: '0',
    read_only: op.startsWith('list'),
    operation_id: `${service.name}:${resource.resourceType}:${op}`,
    user_agent: USER_AGENTS[Math.floor(rng() * USER_AGENTS.length)]!,
    content_length: 200 + Math.floor(rng() * 800),
    total_time: 5 + Math.floor(rng() * 200),
  };
}
