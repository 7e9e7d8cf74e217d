// Regenerates packages/matrix/matrix.schema.json from the zod schema:
//   node packages/matrix/scripts/write-schema.ts
// The file is checked in so editors (yaml-language-server) can complete matrix.yaml;
// test/schema-file.test.ts fails when it is out of date.
import { renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { matrixJsonSchema } from '../src/schema.ts';

export function schemaText(): string {
  return `${JSON.stringify(matrixJsonSchema(), null, 2)}\n`;
}

export const schemaFile = fileURLToPath(new URL('../matrix.schema.json', import.meta.url));

if (import.meta.main) {
  const tmp = `${schemaFile}.tmp-${process.pid}`;
  writeFileSync(tmp, schemaText());
  renameSync(tmp, schemaFile);
  console.log(`wrote ${schemaFile}`);
}
