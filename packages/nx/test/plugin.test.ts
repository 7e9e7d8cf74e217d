import { readdirSync, statSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import { MatrixError } from '@faultline/matrix';
import type { CreateNodesContext, CreateNodesResult } from 'nx/src/devkit-exports';
import { afterEach, describe, expect, test } from 'vitest';
import { BEHAVIOUR_ENV, createNodes, createNodesV2, type FaultlineNxOptions, PLUGIN_GLOB } from '../src/index.ts';
import { matrixYaml, standardFiles, tempWorkspace } from './helpers.ts';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

/** Every file of the workspace that the plugin's glob matches, as Nx would hand them over. */
function matchingFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...matchingFiles(root, path));
    else {
      const rel = relative(root, path).split('\\').join('/');
      if (matchesGlob(rel, PLUGIN_GLOB) || matchesGlob(rel, PLUGIN_GLOB.replace('**/', ''))) out.push(rel);
    }
  }
  return out.sort();
}

async function infer(files: Record<string, string | object>, options?: FaultlineNxOptions) {
  const ws = tempWorkspace(files);
  cleanups.push(ws.cleanup);
  const context: CreateNodesContext = { workspaceRoot: ws.root, nxJsonConfiguration: {} };
  const results = await createNodesV2[1](matchingFiles(ws.root), options, context);
  return { results, root: ws.root };
}

async function projectsOf(files: Record<string, string | object>, options?: FaultlineNxOptions) {
  const { results } = await infer(files, options);
  expect(results).toHaveLength(1);
  const [source, result] = results[0]!;
  return { source, projects: (result as CreateNodesResult).projects ?? {} };
}

/** line:col of the first `marker` in `text`. */
function where(text: string, marker: string): string {
  const index = text.indexOf(marker);
  if (index < 0) throw new Error(`no ${marker} in the text`);
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

function errorOf(run: () => Promise<unknown>): Promise<Error> {
  return run().then(
    () => {
      throw new Error('expected an error');
    },
    (error: unknown) => error as Error,
  );
}

describe('plugin shape', () => {
  test('createNodes and createNodesV2 are the same [glob, batch function] tuple', () => {
    expect(createNodes).toBe(createNodesV2);
    expect(createNodesV2[0]).toBe(PLUGIN_GLOB);
    expect(typeof createNodesV2[1]).toBe('function');
    for (const file of ['matrix.yaml', 'sub/dir/matrix.yml', 'ci.matrix.yaml', 'suites/l1/package.json']) {
      expect(matchesGlob(file, PLUGIN_GLOB) || matchesGlob(file, PLUGIN_GLOB.replace('**/', ''))).toBe(true);
    }
  });
});

describe('inferred targets', () => {
  test('every layer project gets its layer target; the root project gets the gate', async () => {
    const { source, projects } = await projectsOf(standardFiles());
    expect(source).toBe('matrix.yaml');
    expect(Object.keys(projects).sort()).toEqual(['.', 'suites/l1', 'suites/l2', 'suites/l3']);
    expect(Object.keys(projects['suites/l1']!.targets!)).toEqual(['resilience-l1']);
    expect(Object.keys(projects['suites/l2']!.targets!)).toEqual(['resilience-l2']);
    expect(Object.keys(projects['suites/l3']!.targets!)).toEqual(['resilience-l3']);
    // Suite projects keep the name Nx gives them; the plugin only adds targets.
    expect(projects['suites/l1']!.name).toBeUndefined();
  });

  test('l1 runs the CLI for its layer, cached, with the suite, its dependencies, the matrix and the CLI as inputs', async () => {
    const { projects } = await projectsOf(standardFiles());
    expect(projects['suites/l1']!.targets!['resilience-l1']).toEqual({
      executor: 'nx:run-commands',
      options: { command: 'faultline run --layer l1', cwd: '{workspaceRoot}' },
      cache: true,
      inputs: [
        'default',
        '^default',
        '{workspaceRoot}/matrix.yaml',
        { projects: ['@faultline/cli'], input: 'default' },
        { projects: ['@faultline/cli'], input: 'default', dependencies: true },
        ...BEHAVIOUR_ENV.map((env) => ({ env })),
      ],
      outputs: ['{workspaceRoot}/.faultline/results/l1.json'],
      metadata: {
        technologies: ['faultline'],
        description: 'faultline: run matrix layer l1 (Layer l1), timeout 5m',
      },
    });
  });

  test('l2 and l3 never cache and run alone', async () => {
    const { projects } = await projectsOf(standardFiles());
    for (const layer of ['l2', 'l3']) {
      const target = projects[`suites/${layer}`]!.targets![`resilience-${layer}`]!;
      expect(target).toMatchObject({
        executor: 'nx:run-commands',
        options: { command: `faultline run --layer ${layer}`, cwd: '{workspaceRoot}' },
        cache: false,
        parallelism: false,
        outputs: [`{workspaceRoot}/.faultline/results/${layer}.json`],
      });
      // Uncached, yet with inputs: `nx affected` schedules the layer when what it depends on changes.
      expect(target.inputs).toContain('{workspaceRoot}/matrix.yaml');
    }
  });

  test('the gate runs `faultline gate` on the root, uncached, depending on nothing by default', async () => {
    const { projects } = await projectsOf(standardFiles());
    const root = projects['.']!;
    // The root package.json has no `nx` key, so Nx does not infer it: the plugin names the project.
    expect(root.name).toBe('acme');
    expect(root.targets!['resilience-gate']).toEqual({
      executor: 'nx:run-commands',
      options: { command: 'faultline gate', cwd: '{workspaceRoot}' },
      cache: false,
      outputs: ['{workspaceRoot}/reports'],
      metadata: {
        technologies: ['faultline'],
        description: 'faultline: gate matrix demo on the results in .faultline/results/ and write reports/',
      },
    });
  });

  test('a root package.json that Nx already infers (it has an `nx` key) is not renamed', async () => {
    const files = standardFiles();
    files['package.json'] = { name: 'acme', nx: {}, workspaces: ['suites/*'] };
    const { projects } = await projectsOf(files);
    expect(projects['.']!.name).toBeUndefined();
    expect(projects['.']!.targets!['resilience-gate']).toBeDefined();
  });

  test('gateDependsOnLayers makes the gate run every layer first', async () => {
    const { projects } = await projectsOf(standardFiles(), { gateDependsOnLayers: true });
    expect(projects['.']!.targets!['resilience-gate']!.dependsOn).toEqual([
      { projects: ['suite-l1'], target: 'resilience-l1' },
      { projects: ['suite-l2'], target: 'resilience-l2' },
      { projects: ['suite-l3'], target: 'resilience-l3' },
    ]);
  });

  test('a layer with several projects runs once, in its first project; the others point at it', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = matrixYaml({ l1: ['suite-l1', 'suite-l1b'], l2: ['suite-l2', 'suite-l2b'] });
    files['suites/l1b/package.json'] = { name: 'suite-l1b' };
    files['suites/l2b/package.json'] = { name: 'suite-l2b' };
    const { projects } = await projectsOf(files);
    const l1 = projects['suites/l1']!.targets!['resilience-l1']!;
    expect(l1.executor).toBe('nx:run-commands');
    expect(l1.inputs).toContainEqual({ projects: ['suite-l1b'], input: 'default' });
    expect(l1.inputs).toContainEqual({ projects: ['suite-l1b'], input: 'default', dependencies: true });
    expect(projects['suites/l1b']!.targets!['resilience-l1']).toMatchObject({
      executor: 'nx:noop',
      dependsOn: [{ projects: ['suite-l1'], target: 'resilience-l1' }],
    });
    expect(projects['suites/l2b']!.targets!['resilience-l2']).toMatchObject({
      executor: 'nx:noop',
      dependsOn: [{ projects: ['suite-l2'], target: 'resilience-l2' }],
      cache: false,
      parallelism: false,
    });
  });

  test('options rename targets, pick the matrix file and the command', async () => {
    const files = standardFiles();
    delete files['matrix.yaml'];
    files['qa/resilience-matrix.yml'] = matrixYaml({ l1: ['suite-l1'], net: ['suite-l3'] });
    files['qa/project.json'] = { name: 'qa' };
    const { source, projects } = await projectsOf(files, {
      matrix: 'qa/resilience-matrix.yml',
      targetPrefix: 'chaos:',
      gateTarget: 'chaos-gate',
      command: 'npx faultline',
      cacheLayers: ['l1', 'net'],
      inputs: [{ runtime: 'node --version' }],
    });
    expect(source).toBe('qa/resilience-matrix.yml');
    expect(Object.keys(projects).sort()).toEqual(['qa', 'suites/l1', 'suites/l3']);
    const net = projects['suites/l3']!.targets!['chaos:net']!;
    expect(net.options).toEqual({
      command: 'npx faultline run --layer net --matrix resilience-matrix.yml',
      cwd: '{workspaceRoot}/qa',
    });
    expect(net.cache).toBe(true);
    expect(net.parallelism).toBeUndefined();
    expect(net.inputs).toContain('{workspaceRoot}/qa/resilience-matrix.yml');
    expect(net.inputs).toContainEqual({ runtime: 'node --version' });
    expect(net.outputs).toEqual(['{workspaceRoot}/qa/.faultline/results/net.json']);
    // qa/ is a project (project.json), so the gate joins it without renaming it.
    expect(projects.qa!.name).toBeUndefined();
    expect(projects.qa!.targets!['chaos-gate']!.options).toEqual({
      command: 'npx faultline gate --matrix resilience-matrix.yml',
      cwd: '{workspaceRoot}/qa',
    });
  });

  test('other matrix files (test fixtures) are ignored; no configured matrix means no targets', async () => {
    const files = standardFiles();
    files['packages/runner/test/fixtures/demo/matrix.yaml'] = 'version: 1\nbroken: [';
    expect((await projectsOf(files)).source).toBe('matrix.yaml');
    delete files['matrix.yaml'];
    expect((await infer(files)).results).toEqual([]);
  });

  test('names come from project.json, then package.json nx.name, then name; stray package.jsons do not count', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = matrixYaml({ l1: ['unit'], l2: ['crash'], l3: ['net'] });
    files['suites/l1/package.json'] = { name: 'suite-l1', nx: { name: 'unit' } };
    files['suites/l2/project.json'] = { name: 'crash' };
    files['suites/l3/package.json'] = { name: 'net' };
    // Outside the workspaces: not a project, even though it has the same name.
    files['tools/net/package.json'] = { name: 'net' };
    const { projects } = await projectsOf(files);
    expect(Object.keys(projects).sort()).toEqual(['.', 'suites/l1', 'suites/l2', 'suites/l3']);
  });

  test('a CLI installed from the registry is an external dependency input', async () => {
    const files = standardFiles();
    delete files['packages/cli/package.json'];
    files['package.json'] = {
      name: 'acme',
      workspaces: ['suites/*'],
      devDependencies: { '@faultline/cli': '^0.1.0' },
    };
    const { projects } = await projectsOf(files);
    expect(projects['suites/l1']!.targets!['resilience-l1']!.inputs).toEqual([
      'default',
      '^default',
      '{workspaceRoot}/matrix.yaml',
      { externalDependencies: ['@faultline/cli'] },
      ...BEHAVIOUR_ENV.map((env) => ({ env })),
    ]);
  });

  test('pnpm-workspace.yaml packages are workspaces too', async () => {
    const files = standardFiles();
    files['package.json'] = { name: 'acme' };
    files['pnpm-workspace.yaml'] = "packages:\n  - 'suites/*' # the suites\n  - packages/*\n";
    const { projects } = await projectsOf(files);
    expect(Object.keys(projects).sort()).toEqual(['.', 'suites/l1', 'suites/l2', 'suites/l3']);
  });
});

describe('layer projects given as paths', () => {
  const config = 'export default { test: {} };\n';

  test('a single-package workspace: the root project carries every layer target and the gate', async () => {
    const { projects } = await projectsOf({
      'package.json': { name: 'app', devDependencies: { '@faultline/cli': '^0.1.0' } },
      'matrix.yaml': matrixYaml({ l1: ['./test/l1'], l2: ['test/l2/'] }),
      'test/l1/vitest.config.ts': config,
      'test/l2/vitest.config.mts': config,
    });
    expect(Object.keys(projects)).toEqual(['.']);
    const root = projects['.']!;
    // The root package.json has no `nx` key: the plugin creates the project, named after package.json.
    expect(root.name).toBe('app');
    expect(Object.keys(root.targets!).sort()).toEqual(['resilience-gate', 'resilience-l1', 'resilience-l2']);
    expect(root.targets!['resilience-l1']).toMatchObject({
      executor: 'nx:run-commands',
      options: { command: 'faultline run --layer l1', cwd: '{workspaceRoot}' },
      cache: true,
      inputs: [
        'default',
        '^default',
        '{workspaceRoot}/matrix.yaml',
        { externalDependencies: ['@faultline/cli'] },
        ...BEHAVIOUR_ENV.map((env) => ({ env })),
      ],
    });
    expect(root.targets!['resilience-l2']).toMatchObject({ cache: false, parallelism: false });
  });

  test('a path inside a project lands on that project; a path to a project is that project', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = matrixYaml({ l1: ['./suites/l1/test/unit', './suites/l1/test/more'], l2: ['./suites/l2'] });
    files['suites/l1/test/unit/vitest.config.ts'] = config;
    files['suites/l1/test/more/vitest.config.ts'] = config;
    files['suites/l2/vitest.config.ts'] = config;
    const { projects } = await projectsOf(files, { gateDependsOnLayers: true });
    expect(Object.keys(projects).sort()).toEqual(['.', 'suites/l1', 'suites/l2']);
    // Two directories of one project: one target runs the layer once, with no sibling inputs or self-dependency.
    const l1 = projects['suites/l1']!.targets!['resilience-l1']!;
    expect(l1.executor).toBe('nx:run-commands');
    expect(l1.dependsOn).toBeUndefined();
    expect(l1.inputs).not.toContainEqual(expect.objectContaining({ projects: ['suite-l1'] }));
    expect(projects['suites/l2']!.targets!['resilience-l2']!.executor).toBe('nx:run-commands');
    expect(projects['.']!.targets!['resilience-gate']!.dependsOn).toEqual([
      { projects: ['suite-l1'], target: 'resilience-l1' },
      { projects: ['suite-l2'], target: 'resilience-l2' },
    ]);
  });

  test('a layer served by a project and a path outside it: the host of the path points at the owner', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = matrixYaml({ l1: ['suite-l1', './e2e'] });
    files['e2e/vitest.config.ts'] = config;
    const { projects } = await projectsOf(files);
    expect(projects['.']!.name).toBe('acme');
    expect(projects['.']!.targets!['resilience-l1']).toMatchObject({
      executor: 'nx:noop',
      dependsOn: [{ projects: ['suite-l1'], target: 'resilience-l1' }],
    });
    expect(projects['suites/l1']!.targets!['resilience-l1']!.inputs).toContainEqual({
      projects: ['acme'],
      input: 'default',
    });
  });

  test('a path that is missing, holds no vitest config or leaves the workspace is located in the matrix', async () => {
    const text = matrixYaml({ l1: ['./test/gone', './test/empty'], l2: ['../outside'] });
    const ws = tempWorkspace({
      'inner/package.json': { name: 'app' },
      'inner/matrix.yaml': text,
      'inner/test/empty/README.md': 'x',
      'outside/vitest.config.ts': config,
    });
    cleanups.push(ws.cleanup);
    const root = join(ws.root, 'inner');
    const context: CreateNodesContext = { workspaceRoot: root, nxJsonConfiguration: {} };
    const error = await errorOf(async () => createNodesV2[1](matchingFiles(root), undefined, context));
    expect(error).toBeInstanceOf(MatrixError);
    expect(error.message.split('\n')).toEqual([
      `matrix.yaml:${where(text, './test/gone')}: layer "l1": project path "./test/gone" does not exist (it is relative to the matrix's directory: ${join(root, 'test', 'gone')})`,
      `matrix.yaml:${where(text, './test/empty')}: layer "l1": project path "./test/empty" holds no vitest config (vitest.config.ts, vitest.config.mts, vitest.config.cts, vitest.config.js, vitest.config.mjs, vitest.config.cjs): add one, e.g. with defineLayerProject from @faultline/vitest`,
      `matrix.yaml:${where(text, '../outside')}: layer "l2": project path "../outside" leaves the Nx workspace (${join(ws.root, 'outside')}): no Nx project can run it`,
    ]);
  });

  test('the plugin glob matches vitest configs, so Nx re-infers when a path project appears or goes away', () => {
    for (const file of ['test/l1/vitest.config.ts', 'vitest.config.mts', 'a/b/vitest.config.js']) {
      expect(matchesGlob(file, PLUGIN_GLOB) || matchesGlob(file, PLUGIN_GLOB.replace('**/', ''))).toBe(true);
    }
  });
});

describe('errors', () => {
  test('a bad matrix throws its MatrixError, located as matrix.yaml:line:col', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = (files['matrix.yaml'] as string).replace('severity: critical', 'severity: severe');
    const error = await errorOf(() => infer(files));
    expect(error).toBeInstanceOf(MatrixError);
    expect(error.message).toBe(
      `matrix.yaml:${where(files['matrix.yaml'] as string, 'severe')}: issues[0].severity: severity must be one of critical, high, medium, low`,
    );
  });

  test('a YAML syntax error names the line and column', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = 'version: 1\nsystem: demo\nlayers:\n  l1: { title: x, projects: [a\n';
    const error = await errorOf(() => infer(files));
    expect(error.message).toMatch(/^matrix\.yaml:\d+:\d+: /);
  });

  test('a layer project that is not in the workspace is located in the matrix', async () => {
    const files = standardFiles();
    files['matrix.yaml'] = matrixYaml({ l1: ['suite-l1'], l2: ['suite-l2', 'suite-typo'] });
    const error = await errorOf(() => infer(files));
    expect(error).toBeInstanceOf(MatrixError);
    expect(error.message).toBe(
      `matrix.yaml:${where(files['matrix.yaml'] as string, 'suite-typo')}: layer "l2": project` +
        ' "suite-typo" is not a project of this workspace ' +
        '(no package.json in the package manager workspaces, nor a project.json, has that name; ' +
        'projects: @faultline/cli, suite-l1, suite-l2, suite-l3). To name a directory, write a path: ./test/l1',
    );
  });

  test.each([
    [{ matrix: '../matrix.yaml' }, '"matrix" must be a path inside the workspace'],
    [{ matrix: 'resilience.yaml' }, 'the file name must contain "matrix"'],
    [{ targetPrefix: 'x', gateTarget: '' }, '"gateTarget" must be a non-empty string'],
    [{ cacheLayers: 'l1' }, '"cacheLayers" must be a list of layer ids'],
    [{ gateDependsOnLayers: 'yes' }, '"gateDependsOnLayers" must be true or false'],
    [{ gate: 'x' }, 'unknown option "gate"'],
  ])('bad options %j are refused', async (options, message) => {
    const error = await errorOf(() => infer(standardFiles(), options as FaultlineNxOptions));
    expect(error.message).toContain('@faultline/nx: invalid plugin options in nx.json');
    expect(error.message).toContain(message);
  });
});
