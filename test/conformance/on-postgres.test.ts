/**
 * The HTTP and SDK conformance suite once more, on PostgreSQL: the same test files, unchanged,
 * with every test service they start on a throwaway database of its own (OPENCTS_TEST_STORE,
 * read by test/support/service.ts when a test starts a service).
 */
process.env['OPENCTS_TEST_STORE'] = 'postgres';

await import('./trackers.test.js');
await import('./traces.test.js');
await import('./self-audit.test.js');
await import('./restart.test.js');
await import('./notifications.test.js');
await import('./tags.test.js');
await import('./configuration.test.js');
await import('./catalogue.test.js');
await import('./legacy.test.js');
