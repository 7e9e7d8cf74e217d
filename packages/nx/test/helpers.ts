import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway workspace: `files` maps relative paths to contents (objects are written as JSON). */
export function tempWorkspace(files: Record<string, string | object>): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'faultline-nx-'));
  writeFiles(root, files);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function writeFiles(root: string, files: Record<string, string | object>): void {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** A valid matrix whose layers are served by the given projects. */
export function matrixYaml(layers: Record<string, string[]>): string {
  const lines = ['version: 1', 'system: demo', 'layers:'];
  for (const [id, projects] of Object.entries(layers)) {
    lines.push(`  ${id}: { title: Layer ${id}, projects: [${projects.join(', ')}], timeout: 5m }`);
  }
  lines.push(
    'policy:',
    '  require:',
    `    - { layers: [${Object.keys(layers)[0]}] }`,
    'issues:',
    '  - { id: sig-term, title: Graceful shutdown, severity: critical }',
    '',
  );
  return lines.join('\n');
}

/** The usual layout: a root package.json with npm workspaces, one suite per layer. */
export function standardFiles(): Record<string, string | object> {
  return {
    'package.json': { name: 'acme', private: true, workspaces: ['packages/*', 'suites/*'] },
    'matrix.yaml': matrixYaml({ l1: ['suite-l1'], l2: ['suite-l2'], l3: ['suite-l3'] }),
    'suites/l1/package.json': { name: 'suite-l1' },
    'suites/l2/package.json': { name: 'suite-l2' },
    'suites/l3/package.json': { name: 'suite-l3' },
    'packages/cli/package.json': { name: '@faultline/cli' },
  };
}
