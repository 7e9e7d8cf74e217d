// Issue 21, item 3: every layer target declares what its run depends on (matrix, faultline's packages,
// the suite and the system under test, the FAULTLINE_* variables that change behaviour); outputs are
// exactly the files its run writes.
import { readdirSync, statSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import type { CreateNodesContext, CreateNodesResult } from 'nx/src/devkit-exports';
import { afterEach, describe, expect, test } from 'vitest';
import { BEHAVIOUR_ENV, createNodesV2 } from '../src/index.ts';
import { standardFiles, tempWorkspace } from './helpers.ts';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function files(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return files(root, path);
    const rel = relative(root, path).split('\\').join('/');
    return matchesGlob(rel, createNodesV2[0]) || matchesGlob(rel, createNodesV2[0].replace('**/', '')) ? [rel] : [];
  });
}

async function targets(input: Record<string, string | object>) {
  const ws = tempWorkspace(input);
  cleanups.push(ws.cleanup);
  const context: CreateNodesContext = { workspaceRoot: ws.root, nxJsonConfiguration: {} };
  const [[, result]] = (await createNodesV2[1](files(ws.root), {}, context)) as [[string, CreateNodesResult]];
  const projects = result.projects ?? {};
  return (layer: string) => projects[`suites/${layer}`]!.targets![`resilience-${layer}`]!;
}

describe('layer target inputs and outputs', () => {
  test('the FAULTLINE_* variables that change a run are inputs of every layer', async () => {
    expect(BEHAVIOUR_ENV).toEqual(expect.arrayContaining(['FAULTLINE_BREAK', 'FAULTLINE_L3_BACKEND']));
    const target = await targets(standardFiles());
    for (const layer of ['l1', 'l2', 'l3']) {
      for (const env of BEHAVIOUR_ENV) expect(target(layer).inputs).toContainEqual({ env });
    }
  });

  test('uncached l2/l3 declare the matrix, the suite and faultline too (so nx affected schedules them)', async () => {
    const target = await targets(standardFiles());
    for (const layer of ['l2', 'l3']) {
      expect(target(layer).cache).toBe(false);
      expect(target(layer).inputs).toEqual(
        expect.arrayContaining(['default', '^default', '{workspaceRoot}/matrix.yaml']),
      );
      expect(target(layer).inputs).toContainEqual({
        projects: ['@faultline/cli'],
        input: 'default',
        dependencies: true,
      });
    }
  });

  test('outputs are exactly the results file the target writes: no glob that restores stale shards', async () => {
    const target = await targets(standardFiles());
    for (const layer of ['l1', 'l2', 'l3']) {
      expect(target(layer).outputs).toEqual([`{workspaceRoot}/.faultline/results/${layer}.json`]);
    }
  });

  test('installed @faultline/* packages are external dependency inputs, each of them', async () => {
    const input = standardFiles();
    delete input['packages/cli/package.json'];
    input['package.json'] = {
      name: 'acme',
      workspaces: ['suites/*'],
      devDependencies: { '@faultline/vitest': '^0.1.0', '@faultline/cli': '^0.1.0', vitest: '^5.0.0' },
    };
    const target = await targets(input);
    expect(target('l1').inputs).toContainEqual({ externalDependencies: ['@faultline/cli', '@faultline/vitest'] });
  });
});
