/**
 * Buckets as folders. The bucket half of the fs object store now lives in FsObjectStore (layout:
 * bucket `B` is `<data-dir>/buckets/B/`, bucket settings under `<root>/.opencts/`); this name is
 * kept for callers that only need BucketAdmin.
 */
export { FsObjectStore as FsBuckets } from './fs-object-store.js';
