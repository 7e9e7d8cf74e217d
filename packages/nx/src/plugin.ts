import { join, posix, relative, sep } from 'node:path';
import {
  type LayerProject,
  type LoadedMatrix,
  loadMatrix,
  MatrixError,
  type Problem,
  resolveLayerProjects,
} from '@faultline/matrix';
import type {
  CreateNodes,
  CreateNodesContext,
  CreateNodesResult,
  CreateNodesResultArray,
  ProjectConfiguration,
  TargetConfiguration,
} from '@nx/devkit';
import { declaredFaultlinePackages, enclosingRoot, nameOfRoot, type WorkspaceProjects } from './workspace.ts';

/** One entry of a target's `inputs` (a named input such as `'default'`, a fileset, `{ env }`, ...). */
export type TargetInput = NonNullable<TargetConfiguration['inputs']>[number];

/** Options of the plugin, from its entry in nx.json (`{ "plugin": "@faultline/nx", "options": { ... } }`). */
export interface FaultlineNxOptions {
  /**
   * The matrix file, relative to the workspace root (default `matrix.yaml`). Its file name must contain
   * `matrix` and end in `.yaml` or `.yml` (the plugin's file pattern). The CLI runs in its directory, and
   * results go to `.faultline/results/` beside it.
   */
  matrix?: string;
  /** Prefix of the layer targets (default `resilience-`, giving `resilience-l1`, `resilience-l2`, ...). */
  targetPrefix?: string;
  /** Name of the gate target on the project at the matrix's directory (default `resilience-gate`). */
  gateTarget?: string;
  /**
   * Layers whose runs are cached and may run in parallel with other tasks (default `['l1']`: mocks and
   * failpoints in one process, deterministic for a given seed). Every other layer runs real processes and
   * real timing: never cached, and `parallelism: false` so it has the machine (ports, RSS, CPU) to itself.
   */
  cacheLayers?: string[];
  /**
   * Make the gate target depend on every layer target (default `false`). With `true`,
   * `nx run <root>:resilience-gate` runs the whole matrix first; with `false` the gate only reads the
   * results already in `.faultline/results/` (run the layers first with `nx run-many`).
   */
  gateDependsOnLayers?: boolean;
  /** The command that starts the CLI (default `faultline`, found in node_modules/.bin by nx:run-commands). */
  command?: string;
  /** Inputs added to every layer target (e.g. `{ "runtime": "node --version" }`). */
  inputs?: TargetInput[];
}

interface ResolvedOptions {
  matrix: string;
  targetPrefix: string;
  gateTarget: string;
  cacheLayers: readonly string[];
  gateDependsOnLayers: boolean;
  command: string;
  inputs: readonly TargetInput[];
}

/** The options of an `nx:run-commands` target as this plugin writes them. */
export interface RunCommandsOptions {
  command: string;
  cwd: string;
}

export type FaultlineTarget = TargetConfiguration<RunCommandsOptions | Record<string, never>>;

/**
 * The files the plugin is given: the matrix (any `*matrix*.yaml|yml`, filtered to the configured one) and
 * every package.json and project.json, which name the workspace's projects: matrix.yaml lists suites by
 * project name, and Nx merges inferred targets into projects by root, so the plugin maps names to roots.
 * Matching them also makes Nx re-run the plugin when a project is renamed or moved; matching vitest configs
 * makes it re-run when a path project (`./test/l1`, a directory holding one) appears or goes away.
 */
export const PLUGIN_GLOB =
  '**/{*matrix*.yaml,*matrix*.yml,package.json,project.json,' +
  'vitest.config.ts,vitest.config.mts,vitest.config.cts,vitest.config.js,vitest.config.mjs,vitest.config.cjs}';
const MATRIX_NAME = /matrix[^/]*\.ya?ml$/;

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = {
  matrix: 'matrix.yaml',
  targetPrefix: 'resilience-',
  gateTarget: 'resilience-gate',
  cacheLayers: ['l1'],
  gateDependsOnLayers: false,
  command: 'faultline',
  inputs: [],
};

/** The package whose binary runs the suites: its sources are inputs of cached layer targets. */
const CLI_PACKAGE = '@faultline/cli';

/**
 * The environment variables that change what a layer run does (a test-only break switch of the system
 * under test, the layer-3 backend and its images, container networking): inputs of every layer target, so
 * `FAULTLINE_BREAK=... nx run-many -t resilience-l1` never answers from a cache filled without it.
 */
export const BEHAVIOUR_ENV: readonly string[] = [
  'FAULTLINE_BREAK',
  'FAULTLINE_L3_BACKEND',
  'FAULTLINE_TOXIPROXY_IMAGE',
  'FAULTLINE_NODE_IMAGE',
  'FAULTLINE_CONTAINERS_HOST_NETWORK',
];

function optionError(message: string): Error {
  return new Error(`@faultline/nx: invalid plugin options in nx.json: ${message}`);
}

function resolveOptions(options: FaultlineNxOptions | undefined): ResolvedOptions {
  const o: Record<string, unknown> = options && typeof options === 'object' ? { ...options } : {};
  const str = (key: keyof FaultlineNxOptions, fallback: string): string => {
    const value = o[key] ?? fallback;
    if (typeof value !== 'string' || value.trim() === '') throw optionError(`"${key}" must be a non-empty string`);
    return value;
  };
  const known = Object.keys(DEFAULT_OPTIONS);
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length) throw optionError(`unknown option "${unknown[0]}" (known: ${known.join(', ')})`);
  const cacheLayers = o.cacheLayers ?? DEFAULT_OPTIONS.cacheLayers;
  if (!Array.isArray(cacheLayers) || !cacheLayers.every((l) => typeof l === 'string')) {
    throw optionError('"cacheLayers" must be a list of layer ids');
  }
  const inputs = o.inputs ?? [];
  if (!Array.isArray(inputs)) throw optionError('"inputs" must be a list of target inputs');
  const gateDependsOnLayers = o.gateDependsOnLayers ?? false;
  if (typeof gateDependsOnLayers !== 'boolean') throw optionError('"gateDependsOnLayers" must be true or false');
  const matrix = posix.normalize(str('matrix', DEFAULT_OPTIONS.matrix).replaceAll('\\', '/'));
  if (matrix.startsWith('../') || posix.isAbsolute(matrix)) {
    throw optionError(`"matrix" must be a path inside the workspace, relative to its root; got "${matrix}"`);
  }
  if (!MATRIX_NAME.test(posix.basename(matrix))) {
    throw optionError(
      `"matrix": the file name must contain "matrix" and end in .yaml or .yml (the plugin's file pattern); got "${matrix}"`,
    );
  }
  return {
    matrix,
    targetPrefix: typeof o.targetPrefix === 'string' ? o.targetPrefix : DEFAULT_OPTIONS.targetPrefix,
    gateTarget: str('gateTarget', DEFAULT_OPTIONS.gateTarget),
    cacheLayers,
    gateDependsOnLayers,
    command: str('command', DEFAULT_OPTIONS.command),
    inputs: inputs as TargetInput[],
  };
}

/** Loads the matrix; a MatrixError's locations are made relative to the workspace root (`matrix.yaml:8:3`). */
function load(workspaceRoot: string, matrixFile: string): LoadedMatrix {
  try {
    return loadMatrix(join(workspaceRoot, matrixFile));
  } catch (error) {
    if (error instanceof MatrixError) throw relativeError(workspaceRoot, error.problems);
    throw error;
  }
}

function relativeError(workspaceRoot: string, problems: readonly Problem[]): MatrixError {
  return new MatrixError(
    problems.map((p) => ({ ...p, file: relative(workspaceRoot, p.file).split(sep).join('/') || p.file })),
  );
}

/** `{workspaceRoot}/dir/path`, without a `./` when the directory is the root. */
function inWorkspace(dir: string, ...path: string[]): string {
  return `{workspaceRoot}/${posix.join(dir, ...path)}`.replace(/\/\.$/, '');
}

/**
 * Infers the targets for one matrix file. Pure except for reading the matrix and the package.json /
 * project.json files it is given; throws a MatrixError (`matrix.yaml:line:col: ...`) for a bad matrix or a
 * layer project that is not in the workspace.
 */
export function inferTargets(
  files: readonly string[],
  options: FaultlineNxOptions | undefined,
  context: CreateNodesContext,
): CreateNodesResultArray {
  const opts = resolveOptions(options);
  const normalized = files.map((f) => f.replaceAll('\\', '/'));
  const matrixFile = normalized.find((f) => f === opts.matrix);
  if (matrixFile === undefined) return [];

  const { workspaceRoot } = context;
  const loaded = load(workspaceRoot, matrixFile);
  const resolved = resolveLayerProjects(loaded, { workspaceRoot, files: normalized });
  const projects = resolved.named;
  const matrixDir = posix.dirname(matrixFile);
  const matrixName = posix.basename(matrixFile);
  const matrixArg = matrixName === 'matrix.yaml' ? '' : ` --matrix ${matrixName}`;
  const cwd = inWorkspace(matrixDir);
  const results = posix.join(matrixDir, '.faultline', 'results');

  const configs: Record<string, Omit<ProjectConfiguration, 'root'> & { targets: Record<string, FaultlineTarget> }> = {};
  const targetsOf = (root: string) => {
    configs[root] ??= { targets: {} };
    return configs[root].targets;
  };

  const problems: Problem[] = [...resolved.problems];
  const layerOwners: { project: string; target: string }[] = [];
  for (const [layerId, found] of resolved.layers) {
    const layer = loaded.matrix.layers[layerId]!;
    const target = `${opts.targetPrefix}${layerId}`;
    const cached = opts.cacheLayers.includes(layerId);
    const hosts = hostsOf(workspaceRoot, projects, found, (p, message) =>
      problems.push({
        ...loaded.locate(['layers', layerId, 'projects', layer.projects.indexOf(p.entry)]),
        message: `layer "${layerId}": ${message}`,
      }),
    );
    const [owner, ...others] = hosts;
    if (!owner) continue;
    const description = `faultline: run matrix layer ${layerId} (${layer.title}), timeout ${layer.timeout}`;
    // One CLI run covers every project of a layer (results are per layer), so only the first project
    // runs it; the others point at it, and `nx run-many -t <layer target>` runs the layer once.
    for (const other of others) {
      targetsOf(other.root)[target] = {
        executor: 'nx:noop',
        dependsOn: [{ projects: [owner.name], target }],
        ...(cached ? {} : { cache: false, parallelism: false }),
        metadata: { technologies: ['faultline'], description: `${description}: runs in ${owner.name}:${target}` },
      };
    }
    layerOwners.push({ project: owner.name, target });
    const options = { command: `${opts.command} run --layer ${layerId}${matrixArg}`, cwd };
    const siblings = others.map((o) => o.name);
    // Exactly the file this (unsharded) run writes: a glob would store and restore stale shard files.
    const outputs = [inWorkspace(results, `${layerId}.json`)];
    const inputs = layerInputs(opts, workspaceRoot, projects, matrixFile, siblings);
    const metadata = { technologies: ['faultline'], description };
    targetsOf(owner.root)[target] = cached
      ? {
          executor: 'nx:run-commands',
          options,
          cache: true,
          inputs,
          outputs,
          metadata,
        }
      : // Never cached, but its inputs make `nx affected` schedule it when the matrix or faultline changes.
        { executor: 'nx:run-commands', options, cache: false, parallelism: false, inputs, outputs, metadata };
    if (projects.has(CLI_PACKAGE) && owner.name !== CLI_PACKAGE) {
      // `nx affected` follows the project graph, not target inputs: a change to faultline's own packages
      // must reach the layer, so its host depends on the CLI (and through it on runner, matrix, vitest).
      configs[owner.root]!.implicitDependencies = [CLI_PACKAGE];
    }
  }
  if (problems.length) {
    throw relativeError(
      workspaceRoot,
      problems.sort((a, b) => a.line - b.line || a.col - b.col),
    );
  }

  targetsOf(matrixDir)[opts.gateTarget] = {
    executor: 'nx:run-commands',
    options: { command: `${opts.command} gate${matrixArg}`, cwd },
    cache: false,
    outputs: [inWorkspace(matrixDir, 'reports')],
    ...(opts.gateDependsOnLayers
      ? { dependsOn: layerOwners.map((o) => ({ projects: [o.project], target: o.target })) }
      : {}),
    metadata: {
      technologies: ['faultline'],
      description: `faultline: gate matrix ${loaded.matrix.system} on the results in ${results}/ and write reports/`,
    },
  };
  // Nx infers the root package.json as a project only when it has an `nx` key, and a path project may sit
  // in no project at all: a root that names no project becomes one here, named as nameOfRoot says.
  const knownRoots = new Set([...projects.values()].map((p) => p.root));
  for (const root of Object.keys(configs)) {
    if (!knownRoots.has(root)) configs[root]!.name = nameOfRoot(workspaceRoot, projects, root);
  }

  const result: CreateNodesResult = { projects: configs };
  return [[matrixFile, result]];
}

/** The Nx project that carries a layer project's target. */
interface Host {
  root: string;
  name: string;
}

/**
 * The Nx projects that carry a layer's targets, in matrix order, each once: a named project carries its
 * own; a path carries it on the project that contains the directory (the root project in a single-package
 * workspace), as Nx assigns files to projects. A path outside the workspace has no project to carry it.
 */
function hostsOf(
  workspaceRoot: string,
  projects: WorkspaceProjects,
  found: readonly LayerProject[],
  problem: (p: LayerProject, message: string) => void,
): Host[] {
  const hosts: Host[] = [];
  for (const p of found) {
    if (p.root === '..' || p.root.startsWith('../')) {
      problem(p, `project path "${p.entry}" leaves the Nx workspace (${p.dir}): no Nx project can run it`);
      continue;
    }
    const root = p.kind === 'name' ? p.root : enclosingRoot(projects, p.root);
    if (hosts.some((h) => h.root === root)) continue;
    hosts.push({ root, name: p.kind === 'name' ? p.entry : nameOfRoot(workspaceRoot, projects, root) });
  }
  return hosts;
}

/** What a layer run depends on: its suite and the system under test, the matrix, faultline, the env. */
function layerInputs(
  opts: ResolvedOptions,
  workspaceRoot: string,
  projects: WorkspaceProjects,
  matrixFile: string,
  siblings: readonly string[],
): TargetInput[] {
  const inputs: TargetInput[] = ['default', '^default', `{workspaceRoot}/${matrixFile}`];
  if (siblings.length) {
    inputs.push(
      { projects: [...siblings], input: 'default' },
      { projects: [...siblings], input: 'default', dependencies: true },
    );
  }
  if (projects.has(CLI_PACKAGE)) {
    // The CLI and what it runs (runner, matrix, vitest reporter) are workspace projects here.
    inputs.push(
      { projects: [CLI_PACKAGE], input: 'default' },
      { projects: [CLI_PACKAGE], input: 'default', dependencies: true },
    );
  } else {
    // Installed from the registry: their versions (from the lock file) are the input.
    const installed = declaredFaultlinePackages(workspaceRoot);
    if (installed.length) inputs.push({ externalDependencies: installed });
  }
  inputs.push(...BEHAVIOUR_ENV.map((env) => ({ env })), ...opts.inputs);
  return inputs;
}

/**
 * `[glob, fn]` with the batch signature `(files, options, context) => results`. Nx 22-24 read it as
 * `createNodesV2`; Nx 24 also as `createNodes` (which took over the v2 signature), so both names are exported.
 */
export const createNodesV2: CreateNodes<FaultlineNxOptions> = [PLUGIN_GLOB, inferTargets];
export const createNodes: CreateNodes<FaultlineNxOptions> = createNodesV2;
