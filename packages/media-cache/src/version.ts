import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (status and the readiness line report it). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
