import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, type Config } from '../src/config.js';

let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'opencts-config-test-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config file and returns its path. */
async function configFile(content: unknown): Promise<string> {
  const file = path.join(dir, `config-${++n}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function assertConfigError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    assert.match(err.message, message);
    return true;
  });
}

describe('resolveConfig', () => {
  test('uses the defaults when no source sets anything', () => {
    assert.deepEqual(resolveConfig({ env: {} }), { ...DEFAULT_CONFIG, dataDir: path.resolve(DEFAULT_CONFIG.dataDir) });
  });

  test('precedence: flags over env over file over defaults', async () => {
    const file = await configFile({ port: 1001, host: 'file-host', region: 'file-region', durability: 'full' });
    const config = resolveConfig({
      flags: { config: file, port: 1003 },
      env: { OPENCTS_PORT: '1002', OPENCTS_HOST: 'env-host', OPENCTS_LOG_LEVEL: 'debug' },
    });
    const expected: Partial<Config> = {
      port: 1003, // flag beats env and file
      host: 'env-host', // env beats file
      logLevel: 'debug', // env beats default
      region: 'file-region', // file beats default
      durability: 'full', // file beats default
      bodyLimitBytes: DEFAULT_CONFIG.bodyLimitBytes, // default
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(config[key as keyof Config], value, key);
  });

  test('reads the file named by OPENCTS_CONFIG, and --config wins over it', async () => {
    const fromEnv = await configFile({ region: 'env-file' });
    const fromFlag = await configFile({ region: 'flag-file' });
    assert.equal(resolveConfig({ env: { OPENCTS_CONFIG: fromEnv } }).region, 'env-file');
    assert.equal(resolveConfig({ flags: { config: fromFlag }, env: { OPENCTS_CONFIG: fromEnv } }).region, 'flag-file');
  });

  test('flags left undefined (commander leaves unset options undefined) do not hide lower sources', () => {
    const config = resolveConfig({ flags: { port: undefined, host: undefined }, env: { OPENCTS_PORT: '9000' } });
    assert.equal(config.port, 9000);
    assert.equal(config.host, DEFAULT_CONFIG.host);
  });

  test('empty environment variables are ignored', () => {
    assert.equal(resolveConfig({ env: { OPENCTS_PORT: '', OPENCTS_HOST: '' } }).port, DEFAULT_CONFIG.port);
  });

  test('numeric environment variables are parsed as numbers', () => {
    const config = resolveConfig({ env: { OPENCTS_PORT: '8443', OPENCTS_BODY_LIMIT_BYTES: '2048' } });
    assert.equal(config.port, 8443);
    assert.equal(config.bodyLimitBytes, 2048);
  });

  test('rejects an unknown key in the config file, naming it', async () => {
    const file = await configFile({ prot: 8080 });
    assertConfigError(() => resolveConfig({ flags: { config: file }, env: {} }), /unknown.*prot/);
  });

  test('rejects an unknown flag', () => {
    const flags = { verbose: true } as unknown as Partial<Config>;
    assertConfigError(() => resolveConfig({ flags, env: {} }), /unknown.*verbose/);
  });

  for (const key of ['constructor', 'toString', '__proto__']) {
    test(`rejects the Object.prototype name ${key} as an unknown key`, async () => {
      const file = await configFile(`{"${key}": {"port": 1}}`);
      assertConfigError(() => resolveConfig({ flags: { config: file }, env: {} }), new RegExp(`unknown.*${key}`));
    });
  }

  for (const port of [65536, -1, 80.5]) {
    test(`rejects the port ${port} from a flag with a ConfigError`, () => {
      assertConfigError(() => resolveConfig({ flags: { port }, env: {} }), /port/);
    });
  }

  test('rejects a non-numeric port from the environment with a ConfigError', () => {
    assertConfigError(() => resolveConfig({ env: { OPENCTS_PORT: 'http' } }), /port/);
  });

  test('rejects a port given as a string in the config file', async () => {
    const file = await configFile({ port: '8080' });
    assertConfigError(() => resolveConfig({ flags: { config: file }, env: {} }), /port/);
  });

  test('rejects invalid values of the other settings', () => {
    assertConfigError(() => resolveConfig({ env: { OPENCTS_LOG_LEVEL: 'verbose' } }), /logLevel/);
    assertConfigError(() => resolveConfig({ env: { OPENCTS_DURABILITY: 'none' } }), /durability/);
    assertConfigError(() => resolveConfig({ env: { OPENCTS_REGION: 'Bad_Region' } }), /region/);
    assertConfigError(() => resolveConfig({ env: { OPENCTS_BODY_LIMIT_BYTES: '10' } }), /bodyLimitBytes/);
  });

  test('a missing config file is a ConfigError', () => {
    assertConfigError(
      () => resolveConfig({ flags: { config: path.join(dir, 'does-not-exist.json') }, env: {} }),
      /cannot read/,
    );
  });

  for (const content of ['{not json', '[1,2]', 'null', '42']) {
    test(`a config file holding ${content} is a ConfigError`, async () => {
      const file = await configFile(content);
      assertConfigError(() => resolveConfig({ flags: { config: file }, env: {} }), /not a JSON object/);
    });
  }

  test('resolves a relative dataDir to an absolute path', () => {
    const config = resolveConfig({ flags: { dataDir: 'relative/data' }, env: {} });
    assert.ok(path.isAbsolute(config.dataDir));
    assert.equal(config.dataDir, path.resolve(process.cwd(), 'relative/data'));
  });

  test('keeps an absolute dataDir as given', () => {
    const abs = path.join(dir, 'data');
    assert.equal(resolveConfig({ env: { OPENCTS_DATA_DIR: abs } }).dataDir, abs);
  });
});
