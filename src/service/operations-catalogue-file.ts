/**
 * The optional operations catalogue file (config `operationsCatalogue`): auditable operations of
 * services that have not reported a trace yet, so ListOperations (and the notification picker
 * it feeds) knows them from the start. JSON in ListOperations' own shape:
 * `{"operations":[{"service_type":"ECS","resource_type":"ecs","operation_list":["createServer"]}]}`.
 */
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { entriesOf, type OperationEntry } from '../core/catalogue/operations.js';

const NAME = Type.String({ minLength: 1, maxLength: 256 });

const CatalogueFile = Type.Object({
  operations: Type.Array(Type.Object({ service_type: NAME, resource_type: NAME, operation_list: Type.Array(NAME) })),
});

export class CatalogueFileError extends Error {
  override name = 'CatalogueFileError';
}

export function loadOperationsCatalogue(file: string): OperationEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CatalogueFileError(`cannot read the operations catalogue ${file}: ${(err as Error).message}`);
  }
  if (!Value.Check(CatalogueFile, parsed)) {
    const first = [...Value.Errors(CatalogueFile, parsed)][0];
    throw new CatalogueFileError(
      `the operations catalogue ${file} is invalid at ${first?.path || '/'}: ${first?.message ?? 'invalid'}`,
    );
  }
  return entriesOf(parsed.operations);
}
