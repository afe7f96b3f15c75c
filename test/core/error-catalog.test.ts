/**
 * Pins the error catalog to the spec's error table (cts-api.md §4) in both directions, in the
 * manner of fastify's test/internals/errors.test.js.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOG, CtsError, isCtsError, type CtsErrorCode } from '../../src/core/error-catalog.js';

interface SpecRow {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Rows `| HTTP | Code | error_msg | Meaning |`; a bracketed 2024 rephrasing after the message is dropped. */
function parseErrorTable(markdown: string): SpecRow[] {
  const rows: SpecRow[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // A table row splits into ['', HTTP, Code, error_msg, Meaning, ''].
    if (cells.length !== 6 || !/^CTS\.\d{4}$/.test(cells[2] ?? '')) continue;
    const [, http, code, msg] = cells as [string, string, string, string];
    assert.match(http, /^\d{3}$/, `HTTP status of ${code}`);
    rows.push({ status: Number(http), code, message: msg.replace(/\s*\[[^\]]*\]$/, '') });
  }
  return rows;
}

const fixture = new URL('../../../test/fixtures/cts-error-table.md', import.meta.url);
const specRows = parseErrorTable(readFileSync(fixture, 'utf8'));
const catalog: Record<string, { status: number; message: string }> = ERROR_CATALOG;
const EXTENSION = /^CTS\.9\d{3}$/;
const extensionCodes = Object.keys(catalog).filter((c) => EXTENSION.test(c));

describe('error table parser', () => {
  test('reads every row of the spec table (45 codes, none twice)', () => {
    assert.equal(specRows.length, 45);
    assert.equal(new Set(specRows.map((r) => r.code)).size, specRows.length);
  });

  test('strips the bracketed 2024 rephrasing from error_msg', () => {
    const row = specRows.find((r) => r.code === 'CTS.0200');
    assert.equal(row?.message, 'Tracker number is Maximum.');
  });
});

describe('ERROR_CATALOG against the spec error table', () => {
  for (const row of specRows) {
    test(`${row.code} is in the catalog with status ${row.status} and the spec's error_msg`, () => {
      assert.deepEqual(catalog[row.code], { status: row.status, message: row.message });
    });
  }

  test('every catalog code that is not an OpenCTS extension (CTS.9xxx) is in the spec table', () => {
    const specCodes = new Set(specRows.map((r) => r.code));
    const notInSpec = Object.keys(catalog).filter((c) => !EXTENSION.test(c) && !specCodes.has(c));
    assert.deepEqual(notInSpec, []);
  });

  test('holds exactly the spec codes plus the extensions', () => {
    assert.ok(extensionCodes.length > 0, 'the catalog has OpenCTS extensions');
    assert.equal(Object.keys(catalog).length, specRows.length + extensionCodes.length);
  });

  test('every extension code carries the HTTP status of its number (CTS.9413 → 413)', () => {
    for (const code of extensionCodes) {
      assert.equal(catalog[code]?.status, Number(code.slice('CTS.9'.length)), code);
    }
  });

  test('every entry is an error status (400–599) with a non-empty message', () => {
    for (const [code, entry] of Object.entries(catalog)) {
      assert.ok(entry.status >= 400 && entry.status <= 599, `${code} status ${entry.status}`);
      assert.notEqual(entry.message.trim(), '', code);
    }
  });
});

describe('CtsError', () => {
  test('carries the code, the catalog status and the catalog message', () => {
    const err = new CtsError('CTS.0214');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'CtsError');
    assert.equal(err.code, 'CTS.0214');
    assert.equal(err.status, 404);
    assert.equal(err.message, 'The tracker does not exist.');
    assert.equal(err.detail, undefined);
  });

  test('appends the detail to the catalog message without replacing it', () => {
    const err = new CtsError('CTS.0003', 'compress_type must be gzip or json.');
    assert.equal(err.status, 400);
    assert.equal(err.detail, 'compress_type must be gzip or json.');
    assert.equal(
      err.message,
      'Invalid message body. The message body is empty or invalid. compress_type must be gzip or json.',
    );
  });

  test('toWire() gives exactly {error_code, error_msg}', () => {
    assert.deepEqual(new CtsError('CTS.0201').toWire(), {
      error_code: 'CTS.0201',
      error_msg: 'A management tracker has been created.',
    });
    const withDetail = new CtsError('CTS.9413', 'limit 1024 bytes').toWire();
    assert.deepEqual(Object.keys(withDetail), ['error_code', 'error_msg']);
    assert.equal(withDetail.error_msg, 'The request body is too large. limit 1024 bytes');
  });

  test('every catalog code builds a CtsError whose wire form matches the catalog', () => {
    for (const code of Object.keys(ERROR_CATALOG) as CtsErrorCode[]) {
      const err = new CtsError(code);
      assert.equal(err.status, catalog[code]?.status, code);
      assert.deepEqual(err.toWire(), { error_code: code, error_msg: catalog[code]?.message }, code);
    }
  });

  test('isCtsError recognises CtsError and nothing else', () => {
    assert.equal(isCtsError(new CtsError('CTS.0001')), true);
    assert.equal(isCtsError(new Error('Tracker number is Maximum.')), false);
    assert.equal(isCtsError({ code: 'CTS.0001', status: 400, message: 'x' }), false);
  });
});
