/** `opencts doctor` through the command line, on data dirs a real service made and then broke. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase } from '../support/postgres.js';
import { makeTempDir, startTestService, type TestService } from '../support/service.js';
import { signedFetch } from '../support/signed-fetch.js';

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  reason: string;
  fix?: string;
  details?: string[];
}

interface Report {
  ok: boolean;
  checks: Check[];
}

const SQLITE_CHECKS = [
  'config',
  'store',
  'migrations',
  'master-key',
  'secrets',
  'signing-key',
  'object-store',
  'buckets',
  'trackers',
  'delivery-lag',
  'clock',
];

async function doctor(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ cli: CliResult; report: Report }> {
  const cli = await runCli(['doctor', ...args, '--json'], env);
  assert.equal(cli.stderr, '', 'doctor reports through its output, never by crashing');
  return { cli, report: JSON.parse(cli.stdout) as Report };
}

function failing(report: Report): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
}

function check(report: Report, name: string): Check {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `check ${name} is reported`);
  return found;
}

/** A service that made a tracker delivering to bucket `bucket`, stopped: the data dir stays. */
async function preparedDataDir(options: Parameters<typeof startTestService>[0], bucket: string): Promise<TestService> {
  const svc = await startTestService(options);
  const admin = svc.credential;
  const created = await signedFetch(svc.url, admin, {
    path: `/v3/${admin.project_id}/tracker`,
    body: {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { bucket_name: bucket, is_obs_created: true, file_prefix_name: 'doc' },
      is_support_validate: true,
    },
  });
  assert.equal(created.status, 201, created.text);
  await svc.stop();
  return svc;
}

describe('opencts doctor on SQLite', () => {
  let svc: TestService;
  const bucket = 'doctor-trail';

  before(async () => {
    svc = await preparedDataDir({ store: 'sqlite' }, bucket);
  });
  after(async () => {
    await svc.close();
  });

  test('a healthy data dir: exit 0, every check ok, --json names each check with a reason', async () => {
    const { cli, report } = await doctor(['--data-dir', svc.dataDir]);
    assert.equal(cli.code, 0, cli.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c) => c.name),
      SQLITE_CHECKS,
    );
    for (const c of report.checks) {
      assert.equal(c.status, 'ok', `${c.name}: ${c.reason}`);
      assert.equal(typeof c.reason, 'string');
      assert.ok(c.reason.length > 0 && !c.reason.includes('\n'), 'one line');
      assert.equal(c.fix, undefined, 'an ok check has nothing to fix');
      for (const key of Object.keys(c)) assert.ok(['name', 'status', 'reason', 'fix', 'details'].includes(key), key);
    }
    assert.match(check(report, 'buckets').details!.join('\n'), new RegExp(`bucket ${bucket} exists`));
    assert.match(check(report, 'signing-key').reason, /^signing with [0-9a-f]{16}…/);
    assert.match(check(report, 'secrets').reason, /opens the stored secrets \(\d+ access keys?\)/);
  });

  test('text output: one line per check and a summary; exit code as with --json', async () => {
    const cli = await runCli(['doctor', '--data-dir', svc.dataDir]);
    assert.equal(cli.code, 0, cli.stdout);
    for (const name of SQLITE_CHECKS) assert.match(cli.stdout, new RegExp(`^ok +${name} `, 'm'));
    assert.match(cli.stdout, new RegExp(`^all ${SQLITE_CHECKS.length} checks passed$`, 'm'));
  });

  test('a missing bucket fails the buckets check, naming tracker and bucket', async () => {
    const folder = path.join(svc.dataDir, 'buckets', bucket);
    await rm(folder, { recursive: true });
    try {
      const { cli, report } = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(cli.code, 1);
      assert.equal(report.ok, false);
      assert.deepEqual(failing(report), ['buckets']);
      const buckets = check(report, 'buckets');
      assert.match(
        buckets.details!.join('\n'),
        new RegExp(`tracker system of project \\w+: bucket ${bucket} does not exist`),
      );
      assert.ok(buckets.fix);
      const text = await runCli(['doctor', '--data-dir', svc.dataDir]);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /^FAIL +buckets /m);
      assert.match(text.stdout, /fix: create the bucket/);
    } finally {
      await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    }
  });

  test('a master key file readable by others fails the master-key check', async () => {
    const keyFile = path.join(svc.dataDir, 'master.key');
    await chmod(keyFile, 0o644);
    try {
      const { cli, report } = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(cli.code, 1);
      assert.deepEqual(failing(report), ['master-key']);
      assert.match(check(report, 'master-key').reason, /mode 0644/);
      assert.equal(check(report, 'master-key').fix, `chmod 600 ${keyFile}`);
      assert.equal(check(report, 'secrets').status, 'ok', 'the key still opens the secrets');
    } finally {
      await chmod(keyFile, 0o600);
    }
  });

  test('a different master key fails the secrets check; a missing one fails master-key', async () => {
    const keyFile = path.join(svc.dataDir, 'master.key');
    const original = await readFile(keyFile);
    try {
      await writeFile(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
      const wrong = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(wrong.cli.code, 1);
      assert.deepEqual(failing(wrong.report), ['secrets']);
      assert.match(check(wrong.report, 'secrets').reason, /does not open the stored secrets/);

      await rm(keyFile);
      const missing = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(missing.cli.code, 1);
      assert.deepEqual(failing(missing.report), ['master-key']);
      assert.match(check(missing.report, 'secrets').reason, /^not checked/);
      assert.equal(check(missing.report, 'secrets').status, 'warn', 'what could not be checked never passes');
    } finally {
      await writeFile(keyFile, original, { mode: 0o600 });
      await chmod(keyFile, 0o600);
    }
  });

  test('a wrong --store URL fails the store check; nothing behind it passes', async () => {
    const { cli, report } = await doctor([
      '--data-dir',
      svc.dataDir,
      '--store',
      'postgres://opencts@127.0.0.1:1/nothing',
    ]);
    assert.equal(cli.code, 1);
    assert.deepEqual(failing(report), ['store']);
    assert.match(check(report, 'store').reason, /cannot reach PostgreSQL 127\.0\.0\.1:1\/nothing/);
    for (const name of ['migrations', 'secrets', 'signing-key', 'buckets', 'trackers', 'delivery-lag']) {
      assert.equal(check(report, name).status, 'warn', name);
    }
  });

  test('an invalid setting fails the config check alone', async () => {
    const { cli, report } = await doctor(['--data-dir', svc.dataDir, '--store', 'mysql://x']);
    assert.equal(cli.code, 1);
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.status]),
      [['config', 'fail']],
    );
  });

  test('pending migrations, or migrations of a newer binary, fail the migrations check without migrating', async () => {
    const file = path.join(svc.dataDir, 'opencts.db');
    const db = new Database(file);
    const last = db.prepare('SELECT * FROM schema_migrations ORDER BY version DESC LIMIT 1').get() as {
      version: number;
      name: string;
      applied_at: number;
    };
    try {
      db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(last.version);
      const pending = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(pending.cli.code, 1);
      assert.deepEqual(failing(pending.report), ['migrations']);
      assert.match(check(pending.report, 'migrations').reason, new RegExp(`pending migrations ${last.version}\\b`));
      assert.match(check(pending.report, 'migrations').fix!, /opencts migrate/);
      const stillPending = db
        .prepare('SELECT count(*) AS n FROM schema_migrations WHERE version = ?')
        .get(last.version) as { n: number };
      assert.equal(stillPending.n, 0, 'doctor did not migrate');
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        last.version,
        last.name,
        last.applied_at,
      );
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, ?)').run('future', 1);
      const newer = await doctor(['--data-dir', svc.dataDir]);
      assert.equal(newer.cli.code, 1);
      assert.deepEqual(failing(newer.report), ['migrations']);
      assert.match(check(newer.report, 'migrations').reason, /does not know \(999\): a newer OpenCTS/);
    } finally {
      db.prepare('DELETE FROM schema_migrations WHERE version = 999').run();
      db.prepare('INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        last.version,
        last.name,
        last.applied_at,
      );
      db.close();
    }
  });

  test('an S3 endpoint that does not answer fails the object-store check', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const { cli, report } = await doctor(
      ['--data-dir', svc.dataDir, '--object-store', 's3://', '--s3-endpoint', `http://127.0.0.1:${port}`],
      { OPENCTS_S3_ACCESS_KEY_ID: 'K', OPENCTS_S3_SECRET_ACCESS_KEY: 'S' },
    );
    assert.equal(cli.code, 1);
    assert.deepEqual(failing(report), ['object-store']);
    assert.match(check(report, 'object-store').reason, new RegExp(`S3 http://127.0.0.1:${port} does not answer`));
    assert.match(check(report, 'buckets').reason, /^not checked/);
  });
});

describe('opencts doctor on PostgreSQL', () => {
  test('a throwaway database set up by the CLI: exit 0, every check ok, the database clock compared', async () => {
    const database = await createTestDatabase();
    const dataDir = await makeTempDir();
    try {
      const store = ['--data-dir', dataDir, '--store', database.url];
      const before = await doctor(store);
      assert.equal(before.cli.code, 1);
      assert.match(check(before.report, 'migrations').reason, /no OpenCTS schema yet/);
      for (const setup of [
        ['migrate', ...store],
        ['keys', 'rotate', ...store],
        [
          'credentials',
          'create',
          ...store,
          '--project-id',
          'p'.repeat(32),
          '--domain-id',
          'd'.repeat(32),
          '--user',
          'al',
        ],
      ]) {
        const result = await runCli(setup);
        assert.equal(result.code, 0, `${setup.join(' ')}: ${result.stderr}`);
      }
      const { cli, report } = await doctor(store);
      assert.equal(cli.code, 0, cli.stdout);
      assert.deepEqual(
        report.checks.map((c) => c.name),
        [...SQLITE_CHECKS, 'db-clock'],
      );
      for (const c of report.checks) assert.equal(c.status, 'ok', `${c.name}: ${c.reason}`);
      assert.match(check(report, 'store').reason, /^PostgreSQL \S+\/opencts_test_\w+ answers \(PostgreSQL \d+/);
      assert.match(check(report, 'secrets').reason, /\(1 access key\)/);
      assert.match(
        check(report, 'db-clock').reason,
        /the database clock is \d+\.\d{3} s (ahead of|behind) this host's/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    }
  });
});
