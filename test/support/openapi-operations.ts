/**
 * The API operations a running OpenCTS documents in GET /openapi.json, for tests that must cover
 * every endpoint, including ones added after the test was written; and fast-check arbitraries of
 * values that fit a (simple) JSON schema, for endpoints no test knows by name.
 */
import fc from 'fast-check';

/** The subset of JSON schema that @fastify/swagger emits for our TypeBox schemas. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
}

export interface OperationParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface ApiOperation {
  /** `GET /v3/{project_id}/traces`: method and OpenAPI path template. */
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly OperationParameter[];
  /** Schema of the JSON request body, when the operation takes one. */
  readonly bodySchema: JsonSchema | undefined;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

interface OpenApiDocument {
  paths?: Record<string, Record<string, { parameters?: OperationParameter[]; requestBody?: unknown }>>;
}

export async function fetchOperations(baseUrl: string): Promise<ApiOperation[]> {
  const res = await fetch(new URL('/openapi.json', baseUrl));
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  const doc = (await res.json()) as OpenApiDocument;
  const operations: ApiOperation[] = [];
  for (const [template, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      if (!METHODS.has(method)) continue;
      const parameters = op.parameters ?? [];
      const pathParams = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      const requestBody = op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined;
      operations.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        path: template,
        pathParams,
        queryParams: parameters.filter((p) => p.in === 'query'),
        bodySchema: requestBody?.content?.['application/json']?.schema ?? (requestBody ? {} : undefined),
      });
    }
  }
  return operations.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The path with each `{name}` replaced by its (already encoded) value. */
export function fillPath(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return value;
  });
}

/**
 * Values that (mostly) fit the schema: strings come from `strings` (trimmed to maxLength), so a
 * test decides which identifying values reach the server. Unknown shapes give null.
 */
export function schemaValue(schema: JsonSchema, strings: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((s) => schemaValue(s, strings, depth + 1)));
  }
  if (schema.allOf && schema.allOf.length > 0) return schemaValue(schema.allOf[0] as JsonSchema, strings, depth + 1);
  const type = Array.isArray(schema.type)
    ? (schema.type[0] as string | undefined)
    : (schema.type as string | undefined);
  switch (type) {
    case 'string':
      return strings.map((s) => (schema.maxLength !== undefined ? s.slice(0, schema.maxLength) : s));
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1000, Number.MIN_SAFE_INTEGER),
        max: Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      if (depth > 6) return fc.constant([]);
      return fc.array(schemaValue(schema.items ?? {}, strings, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'object': {
      if (depth > 6) return fc.constant({});
      const properties = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties))
        model[name] = schemaValue(property, strings, depth + 1);
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in properties) });
    }
    default:
      return fc.constant(null);
  }
}
