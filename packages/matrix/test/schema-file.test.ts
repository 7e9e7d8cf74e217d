import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { schemaFile, schemaText } from '../scripts/write-schema.ts';
import { loadMatrix, matrixJsonSchema } from '../src/index.ts';

const rootMatrix = fileURLToPath(new URL('../../../matrix.yaml', import.meta.url));

describe('matrix.schema.json', () => {
  test('the checked-in file is what matrixJsonSchema() produces now', () => {
    const onDisk = readFileSync(schemaFile, 'utf8');
    const fresh = `${JSON.stringify(matrixJsonSchema(), null, 2)}\n`;
    expect(schemaText()).toBe(fresh);
    if (onDisk !== fresh) {
      expect.fail(
        'packages/matrix/matrix.schema.json is out of date with src/schema.ts: run `node packages/matrix/scripts/write-schema.ts`',
      );
    }
  });

  test('it describes matrix.yaml for editors: strict keys, enums, defaults', () => {
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://faultline.dev/matrix.schema.json',
      title: 'faultline coverage matrix',
      type: 'object',
      additionalProperties: false,
      required: ['version', 'system', 'layers', 'issues'],
    });
    expect(Object.keys(schema.properties)).toEqual(['version', 'system', 'layers', 'policy', 'issues']);
    const layer = schema.properties.layers.additionalProperties;
    expect(layer.required).toEqual(['title', 'projects']);
    expect(layer.properties.backend.enum).toEqual(['auto', 'embedded', 'containers', 'external']);
    expect(layer.properties.toxiproxyUrl).toMatchObject({ type: 'string' });
    expect(layer.properties.timeout.default).toBe('10m');
    const issue = schema.properties.issues.items;
    expect(issue.additionalProperties).toBe(false);
    expect(issue.properties.severity.enum).toEqual(['critical', 'high', 'medium', 'low']);
  });
});

describe('the repository matrix.yaml', () => {
  test('references the checked-in schema on its first line', () => {
    const firstLine = readFileSync(rootMatrix, 'utf8').split('\n')[0];
    expect(firstLine).toBe('# yaml-language-server: $schema=./packages/matrix/matrix.schema.json');
  });

  test('loads', () => {
    const { matrix } = loadMatrix(rootMatrix);
    expect(matrix.version).toBe(1);
    expect(Object.keys(matrix.layers).length).toBeGreaterThan(0);
    expect(matrix.issues.length).toBeGreaterThan(0);
  });
});
