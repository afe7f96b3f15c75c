/**
 * Tags on trackers (spec §1.9, resource type `cts-tracker`): the key/value rules of Huawei
 * Cloud's tag APIs, and the pure decisions of every tag operation — batch create (an existing
 * key takes the new value), batch delete (by key, or by key and value), and the resource filter
 * of `resource-instances/filter` and `count`.
 */
import { CtsError } from '../error-catalog.js';

/** The only resource type CTS tags (spec §1.9). */
export const TAG_RESOURCE_TYPE = 'cts-tracker';
/** Tags one tracker may carry (Huawei Cloud TMS: 20 per resource). */
export const MAX_TAGS_PER_TRACKER = 20;
/** Keys, and values per key, in a filter (spec §1.9: ≤ 20 × 20). */
export const MAX_FILTER_TAGS = 20;
export const MAX_FILTER_VALUES = 20;
export const MAX_KEY_LENGTH = 128;
export const MAX_VALUE_LENGTH = 255;

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** A tag as a request gives it: a delete may name the key only. */
export interface TagInput {
  readonly key: string;
  readonly value?: string | undefined;
}

// Letters and digits of any language, space, and the documented punctuation. Keys may not hold
// `/` (Huawei's current key rule lists `_ . : = + - @`; values add `/`).
const KEY_CHARS = /^[\p{L}\p{M}\p{N} _.:=+\-@]+$/u;
const VALUE_CHARS = /^[\p{L}\p{M}\p{N} _.:/=+\-@]*$/u;

/** Unicode characters, not UTF-16 units: the limits count characters. */
function length(text: string): number {
  return [...text].length;
}

function invalid(detail: string): CtsError {
  return new CtsError('CTS.0003', `(${detail})`);
}

export function checkTagKey(key: string, where: string): void {
  if (key.length === 0) throw invalid(`${where}: the tag key is empty`);
  if (length(key) > MAX_KEY_LENGTH) throw invalid(`${where}: a tag key has at most ${MAX_KEY_LENGTH} characters`);
  if (!KEY_CHARS.test(key)) {
    throw invalid(`${where}: a tag key holds letters, digits, spaces and _ . : = + - @ only`);
  }
  if (key !== key.trim()) throw invalid(`${where}: a tag key cannot start or end with a space`);
  if (key.startsWith('_sys_')) throw invalid(`${where}: a tag key cannot start with _sys_`);
}

export function checkTagValue(value: string, where: string): void {
  if (length(value) > MAX_VALUE_LENGTH) {
    throw invalid(`${where}: a tag value has at most ${MAX_VALUE_LENGTH} characters`);
  }
  if (!VALUE_CHARS.test(value)) {
    throw invalid(`${where}: a tag value holds letters, digits, spaces and _ . : / = + - @ only`);
  }
  if (value !== value.trim()) throw invalid(`${where}: a tag value cannot start or end with a space`);
}

function checkUniqueKeys(keys: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw invalid(`${what}: the key ${JSON.stringify(key)} is given twice`);
    seen.add(key);
  }
}

function byKey(a: Tag, b: Tag): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The tracker's tags after a batch create: new keys are added, existing keys take the new value. */
export function planCreateTags(current: readonly Tag[], input: readonly TagInput[]): Tag[] {
  input.forEach((tag, i) => {
    checkTagKey(tag.key, `tags[${i}]`);
    checkTagValue(tag.value ?? '', `tags[${i}]`);
  });
  checkUniqueKeys(
    input.map((t) => t.key),
    'tags',
  );
  const next = new Map(current.map((t) => [t.key, t.value]));
  for (const tag of input) next.set(tag.key, tag.value ?? '');
  if (next.size > MAX_TAGS_PER_TRACKER) {
    throw new CtsError('CTS.0407', `(a tracker has at most ${MAX_TAGS_PER_TRACKER} tags)`);
  }
  return [...next].map(([key, value]) => ({ key, value })).sort(byKey);
}

/**
 * The tracker's tags after a batch delete: a tag given with a value is deleted only when the
 * value matches, one given by key alone whatever its value. Tags that do not exist are ignored,
 * so a retried delete succeeds.
 */
export function planDeleteTags(current: readonly Tag[], input: readonly TagInput[]): Tag[] {
  input.forEach((tag, i) => {
    checkTagKey(tag.key, `tags[${i}]`);
    if (tag.value !== undefined) checkTagValue(tag.value, `tags[${i}]`);
  });
  const doomed = (tag: Tag) =>
    input.some((wanted) => wanted.key === tag.key && (wanted.value === undefined || wanted.value === tag.value));
  return current.filter((t) => !doomed(t));
}

/** `resource-instances/filter` body (spec §1.9). */
export interface ResourceFilter {
  readonly without_any_tag?: boolean | undefined;
  readonly tags?: ReadonlyArray<{ readonly key: string; readonly values?: readonly string[] | undefined }> | undefined;
  readonly matches?: ReadonlyArray<{ readonly key: string; readonly value?: string | undefined }> | undefined;
}

export const MATCH_KEYS = ['resource_name'] as const;

export function checkResourceFilter(filter: ResourceFilter): void {
  const tags = filter.tags ?? [];
  if (tags.length > MAX_FILTER_TAGS) throw invalid(`tags: at most ${MAX_FILTER_TAGS} keys`);
  tags.forEach((tag, i) => {
    checkTagKey(tag.key, `tags[${i}]`);
    const values = tag.values ?? [];
    if (values.length > MAX_FILTER_VALUES) throw invalid(`tags[${i}]: at most ${MAX_FILTER_VALUES} values`);
    values.forEach((v, j) => checkTagValue(v, `tags[${i}].values[${j}]`));
    if (new Set(values).size !== values.length) throw invalid(`tags[${i}]: a value is given twice`);
  });
  checkUniqueKeys(
    tags.map((t) => t.key),
    'tags',
  );
  const matches = filter.matches ?? [];
  matches.forEach((m, i) => {
    if (!(MATCH_KEYS as readonly string[]).includes(m.key)) {
      throw invalid(`matches[${i}]: the key must be ${MATCH_KEYS.join(' or ')}`);
    }
    if (m.value !== undefined && length(m.value) > MAX_VALUE_LENGTH) {
      throw invalid(`matches[${i}]: the value has at most ${MAX_VALUE_LENGTH} characters`);
    }
  });
  checkUniqueKeys(
    matches.map((m) => m.key),
    'matches',
  );
}

/**
 * Whether a resource passes the filter: `without_any_tag` keeps untagged resources only (and
 * ignores `tags`); otherwise every filter key must be present (keys AND), with one of its values
 * when values are given (values OR); `resource_name` matches contain the value (case-sensitive).
 */
export function matchesFilter(resource: { name: string; tags: readonly Tag[] }, filter: ResourceFilter): boolean {
  for (const m of filter.matches ?? []) {
    if (m.key === 'resource_name' && m.value !== undefined && !resource.name.includes(m.value)) return false;
  }
  if (filter.without_any_tag === true) return resource.tags.length === 0;
  return (filter.tags ?? []).every((wanted) => {
    const tag = resource.tags.find((t) => t.key === wanted.key);
    if (!tag) return false;
    const values = wanted.values ?? [];
    return values.length === 0 || values.includes(tag.value);
  });
}

/** Every key of a project's tags with its distinct values, keys in order (list per resource type). */
export function tagKeysWithValues(tags: readonly Tag[]): Array<{ key: string; values: string[] }> {
  const keys = new Map<string, Set<string>>();
  for (const t of tags) {
    let values = keys.get(t.key);
    if (!values) keys.set(t.key, (values = new Set()));
    values.add(t.value);
  }
  return [...keys]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, values]) => ({ key, values: [...values].sort() }));
}
