import { existsSync, globSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export interface WorkspaceProject {
  name: string;
  /** Absolute directory. */
  dir: string;
  /** Workspace-relative directory. */
  relDir: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The projects of an npm-workspaces monorepo, by package name and by nx project name
 * (project.json `name`), so a matrix may name either.
 */
export function workspaceProjects(root: string): Map<string, WorkspaceProject> {
  const pkg = readJson(join(root, 'package.json'));
  const raw = pkg?.workspaces;
  const patterns = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object' && Array.isArray((raw as { packages?: unknown }).packages)
      ? (raw as { packages: unknown[] }).packages
      : [];
  const projects = new Map<string, WorkspaceProject>();
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    for (const rel of globSync(pattern, { cwd: root })) {
      const dir = resolve(root, rel);
      const relDir = relative(root, dir).split('\\').join('/');
      for (const file of ['package.json', 'project.json']) {
        const name = readJson(join(dir, file))?.name;
        if (typeof name === 'string' && !projects.has(name)) projects.set(name, { name, dir, relDir });
      }
    }
  }
  return projects;
}

export function hasVitestConfig(dir: string): boolean {
  return ['vitest.config.ts', 'vitest.config.mts', 'vitest.config.js', 'vitest.config.mjs'].some((f) =>
    existsSync(join(dir, f)),
  );
}
