// Where a test is declared, for formats that do not say (go test -json, libtest JSON report no
// file for a passing test): its function's declaration in the command's source tree, found by name.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ResultFormat } from '@faultline/matrix';
import type { IngestedTest } from './types.ts';

const SKIP = new Set(['node_modules', 'target', 'vendor', 'dist', 'build', '__pycache__']);
const MAX_FILES = 5000;

function sourceFiles(root: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP.has(e.name)) walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith(suffix)) out.push(join(dir, e.name));
    }
  };
  walk(root);
  return out.sort();
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The function a test's name points at, and a declaration pattern for it. */
function declaration(format: ResultFormat, t: IngestedTest): { fn: string; suffix: string; re: RegExp } | undefined {
  if (format === 'go-test-json') {
    const fn = t.name.split('/')[0] ?? t.name;
    return { fn, suffix: '_test.go', re: new RegExp(`^func ${escapeRegExp(fn)}\\(`, 'm') };
  }
  if (format === 'libtest-json') {
    const fn = t.name.split('::').pop() ?? t.name;
    return { fn, suffix: '.rs', re: new RegExp(`^\\s*(pub )?(async )?fn ${escapeRegExp(fn)}\\s*\\(`, 'm') };
  }
  return undefined;
}

/** Fills in `file` and `line` (relative to `cwd`) of tests the format left without them. */
export function locateTests(format: ResultFormat, cwd: string, tests: IngestedTest[]): void {
  const missing = tests.filter((t) => t.file === undefined || t.line === undefined);
  if (!missing.length) return;
  const files = new Map<string, string[]>();
  const texts = new Map<string, string>();
  for (const t of missing) {
    const d = declaration(format, t);
    if (!d) continue;
    if (!files.has(d.suffix)) files.set(d.suffix, sourceFiles(cwd, d.suffix));
    for (const file of files.get(d.suffix) ?? []) {
      if (!texts.has(file)) texts.set(file, readFileSync(file, 'utf8'));
      const text = texts.get(file) ?? '';
      const m = d.re.exec(text);
      if (!m) continue;
      const offset = m.index + m[0].indexOf('fn');
      t.file = relative(cwd, file).split('\\').join('/');
      t.line = text.slice(0, offset).split('\n').length;
      break;
    }
  }
}
