import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Versions stored with every result, so a report says what produced it. */
export function toolVersions(): Record<string, string> {
  return {
    node: process.versions.node,
    vitest: versionOf('vitest'),
    faultline: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
      .version,
  };
}
