/**
 * TLS: `opencts serve --tls-cert F --tls-key F` speaks HTTPS only; the official SDK core reaches it
 * when given the CA (clients.md §1.2); half a TLS configuration is refused at start.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BOOTSTRAP_CREDENTIALS_FILE } from '../../src/runtime.js';
import type { IssuedCredential } from '../../src/service/identity-service.js';
import { createCtsClient, type CtsClientOptions } from '../support/cts-client.js';
import { rawCall, runServe, type ServeOutcome } from '../support/security.js';

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

describe('TLS', { skip: HAS_OPENSSL ? false : 'openssl is not installed' }, () => {
  let dir: string;
  let cert: string;
  let key: string;
  let server: Extract<ServeOutcome, { listening: true }>;
  let admin: IssuedCredential;

  function clientOptions(extra: Partial<CtsClientOptions> = {}): CtsClientOptions {
    return {
      endpoint: server.url,
      accessKeyId: admin.access_key_id,
      secretAccessKey: admin.secret_access_key,
      projectId: admin.project_id,
      ...extra,
    };
  }

  async function expectRefusedAtStart(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const outcome = await runServe(['--data-dir', path.join(dir, 'refused'), ...args], {
      OPENCTS_TLS_CERT: '',
      OPENCTS_TLS_KEY: '',
      ...env,
    });
    if (outcome.listening) {
      await outcome.stop();
      assert.fail(`serve started with half a TLS configuration at ${outcome.url}`);
    }
    assert.notEqual(outcome.code, 0);
    assert.match(outcome.stderr, /TLS needs both a certificate \(tlsCert\) and a key \(tlsKey\)/);
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opencts-tls-'));
    cert = path.join(dir, 'c.pem');
    key = path.join(dir, 'k.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const dataDir = path.join(dir, 'data');
    const outcome = await runServe(['--data-dir', dataDir, '--tls-cert', cert, '--tls-key', key]);
    assert.ok(outcome.listening, `serve --tls-cert/--tls-key did not start: ${JSON.stringify(outcome)}`);
    server = outcome;
    admin = JSON.parse(await readFile(path.join(dataDir, BOOTSTRAP_CREDENTIALS_FILE), 'utf8')) as IssuedCredential;
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('serve announces an https:// endpoint', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('the SDK core with an https.Agent trusting the certificate calls the API', async () => {
    const ca = await readFile(cert);
    const cts = createCtsClient(
      clientOptions({ userOptions: { axiosRequestConfig: { httpsAgent: new https.Agent({ ca }) } } }),
    );
    const res = await cts.listTrackers();
    assert.equal(res.httpStatusCode, 200);
    assert.deepEqual(res.trackers, []);
  });

  test('control: the SDK core without the CA refuses the self-signed certificate', async () => {
    await assert.rejects(createCtsClient(clientOptions()).listTrackers(), /self[- ]signed/i);
  });

  test('plain http to the TLS port is not served', async () => {
    const plain = server.url.replace(/^https:/, 'http:');
    await assert.rejects(rawCall(plain, { target: '/' }));
  });

  test('a certificate without a key is refused at start (flag)', async () => {
    await expectRefusedAtStart(['--tls-cert', cert], {});
  });

  test('a key without a certificate is refused at start (environment)', async () => {
    await expectRefusedAtStart([], { OPENCTS_TLS_KEY: key });
  });
});
