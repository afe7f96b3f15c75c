/**
 * Wire schemas of the tag API (spec §1.9). Lengths here are generous caps that stop absurd input
 * early; the documented key/value rules are checked in core/tag/tags.ts with precise messages.
 */
import { Type } from '@sinclair/typebox';
import { MAX_FILTER_TAGS, MAX_FILTER_VALUES, MAX_TAGS_PER_TRACKER } from '../../core/tag/tags.js';
import { ProjectParams } from './tracker.js';

const TEXT = { maxLength: 1024 };
const ID = { minLength: 1, maxLength: 64 };

export const ResourceParams = Type.Object({
  ...ProjectParams.properties,
  resource_id: Type.String({ ...ID, pattern: '^[A-Za-z0-9_-]+$', description: 'the tracker id' }),
});

const TagInput = Type.Object({ key: Type.String(TEXT), value: Type.Optional(Type.String(TEXT)) });

export const BatchTagsBody = Type.Object(
  { tags: Type.Optional(Type.Array(TagInput, { maxItems: MAX_TAGS_PER_TRACKER })) },
  { description: 'Tags to add (an existing key takes the new value) or to delete (by key, or key and value)' },
);

export const SingleTagBody = Type.Object({ tag: TagInput });

export const Tag = Type.Object({ key: Type.String(), value: Type.String() });

export const ResourceTagsResponse = Type.Object({ tags: Type.Array(Tag) });

export const ListTagsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 200 })),
  marker: Type.Optional(Type.String(TEXT)),
});

export const ListTagsResponse = Type.Object({
  tags: Type.Array(Type.Object({ key: Type.String(), values: Type.Array(Type.String()) })),
  page_info: Type.Object({
    next_marker: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
    current_count: Type.Integer(),
  }),
});

const PAGING = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const FilterQuery = Type.Object(PAGING);

const filterFields = {
  without_any_tag: Type.Optional(Type.Boolean()),
  tags: Type.Optional(
    Type.Array(
      Type.Object({
        key: Type.String(TEXT),
        values: Type.Optional(Type.Array(Type.String(TEXT), { maxItems: MAX_FILTER_VALUES })),
      }),
      { maxItems: MAX_FILTER_TAGS },
    ),
  ),
  matches: Type.Optional(
    Type.Array(Type.Object({ key: Type.String(TEXT), value: Type.Optional(Type.String(TEXT)) }), { maxItems: 10 }),
  ),
};

/** terraform sends limit and offset in the body as well as (or instead of) the query. */
export const FilterBody = Type.Object({ ...filterFields, ...PAGING });
export const CountBody = Type.Object(filterFields);

export const FilterResponse = Type.Object({
  resources: Type.Array(
    Type.Object({
      resource_id: Type.String(),
      resource_name: Type.String(),
      resource_detail: Type.String(),
      tags: Type.Array(Tag),
    }),
  ),
  total_count: Type.Integer(),
});

export const CountResponse = Type.Object({ total_count: Type.Integer() });
