// The one Node version guard of every entry point, checked on real Node binaries: the running one,
// an old one (the machine's system Node 20, when it has one) and the oldest supported, 22.12 (which
// `.ci/run` installs into /opt/node22.12; FAULTLINE_NODE_22_12 points elsewhere).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { missingFlags, NODE_REQUIREMENT, nodeSupported } from '@faultline/evidence/node-guard';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BINS = {
  faultline: join(ROOT, 'packages/cli/bin/faultline.js'),
  'faultline-toxiproxy': join(ROOT, 'packages/toxiproxy/bin/faultline-toxiproxy.js'),
  'media-cache': join(ROOT, 'packages/media-cache/bin/media-cache.js'),
};

function versionOf(node: string): string | undefined {
  if (!existsSync(node)) return undefined;
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1);
}

const OLD = ['/usr/bin/node', '/usr/local/bin/node'].find((n) => {
  const v = versionOf(n);
  return v !== undefined && !nodeSupported(v);
});
const NODE_22_12 = process.env.FAULTLINE_NODE_22_12 ?? '/opt/node22.12/bin/node';

describe('node guard', () => {
  test('22.12 and newer are supported, older are not', () => {
    for (const v of ['22.12.0', '22.20.1', '23.0.0', '24.21.0', '30.1.2']) expect(nodeSupported(v)).toBe(true);
    for (const v of ['22.11.9', '20.20.2', '18.0.0', '0.10.48']) expect(nodeSupported(v)).toBe(false);
    expect(nodeSupported()).toBe(true);
    expect(missingFlags({ typescript: true, sqlite: true })).toEqual([]);
  });

  test.skipIf(!OLD)(`every bin on an old Node (${OLD}) prints one line and exits 2`, () => {
    for (const [tool, bin] of Object.entries(BINS)) {
      const r = spawnSync(OLD!, [bin, '--version'], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, `${tool}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `${tool} needs Node.js ${NODE_REQUIREMENT}; this is v${versionOf(OLD!)}. Install Node 24 (e.g. \`nvm install 24\`, or \`npm i -g --prefix ~/.node24 node@24\` and put ~/.node24/bin first on PATH).\n`,
      );
    }
  });

  test.skipIf(!existsSync(NODE_22_12))(
    'on Node 22.12 every bin runs; media-cache re-runs itself with the flags it needs',
    () => {
      for (const [tool, bin] of Object.entries(BINS)) {
        const r = spawnSync(NODE_22_12, [bin, tool === 'faultline-toxiproxy' ? '-version' : '--version'], {
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(r.status, `${tool}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
      }
    },
  );
});
