import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { requiredLayers } from './policy.ts';
import { MatrixError, type Problem } from './problem.ts';
import { type Matrix, matrixSchema } from './schema.ts';
import { didYouMean } from './suggest.ts';

/** Larger inputs are refused before parsing: a matrix is hand-written text, not data. */
const MAX_BYTES = 4 * 1024 * 1024;
/** Aliases beyond this many are treated as an alias bomb ("billion laughs"). */
const MAX_ALIASES = 100;

export interface LoadedMatrix {
  matrix: Matrix;
  /** Absolute or as-given path of the file, used in messages. */
  file: string;
  /** Where a value sits in the file (e.g. ['layers', 'l1', 'projects', 0]), for later problems. */
  locate: (path: readonly PropertyKey[]) => Omit<Problem, 'message'>;
}

/** Reads and validates a matrix file; throws MatrixError listing every problem with file:line:col. */
export function loadMatrix(file: string): LoadedMatrix {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const hint = code === 'ENOENT' ? ' (create one, or pass --matrix FILE)' : '';
    throw new MatrixError([{ file, line: 1, col: 1, message: `cannot read the matrix: ${code}${hint}` }]);
  }
  return parseMatrixWithSource(text, file);
}

/** Validates matrix text; `file` names it in messages. */
export function parseMatrix(text: string, file = 'matrix.yaml'): Matrix {
  return parseMatrixWithSource(text, file).matrix;
}

function parseMatrixWithSource(text: string, file: string): LoadedMatrix {
  if (Buffer.byteLength(text) > MAX_BYTES) {
    throw new MatrixError([{ file, line: 1, col: 1, message: `the file is over ${MAX_BYTES} bytes` }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, col: pos.col };
  };

  const problems: Problem[] = doc.errors.map((e) => {
    // Errors about indentation start at the line's leading spaces; point at the node instead.
    let offset = e.pos[0];
    while (text[offset] === ' ') offset++;
    const key = e.code === 'DUPLICATE_KEY' ? duplicateKeyAt(doc, e.pos[0]) : undefined;
    return { ...at(offset), message: key === undefined ? yamlMessage(e.message) : `duplicate key "${key}"` };
  });
  if (problems.length) throw new MatrixError(problems);
  if (doc.contents === null) throw new MatrixError([{ ...at(0), message: 'the file is empty: expected a mapping' }]);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    let firstAlias: number | undefined;
    visit(doc, {
      Alias(_, node) {
        firstAlias = node.range?.[0];
        return visit.BREAK;
      },
    });
    const message = /alias/i.test(String(error))
      ? `too many alias expansions (over ${MAX_ALIASES}): refusing a possible alias bomb`
      : String((error as Error).message ?? error);
    throw new MatrixError([{ ...at(firstAlias), message }]);
  }

  // jitless: zod's JIT compiles a parser for each object shape on its first parse (new Function), which
  // a CLI parsing one matrix per process pays and never gets back: ~8 ms of the first load. The result and
  // the issues are the same either way (the loader tests, and 14k mutated matrices compared once).
  const parsed = matrixSchema.safeParse(data, { jitless: true });
  if (!parsed.success) {
    throw new MatrixError(parsed.error.issues.map((issue) => locateSchemaIssue(issue, doc.contents, at)));
  }
  const semantic = checkSemantics(parsed.data, (path) => nodeAt(doc.contents, path)?.range?.[0], at);
  if (semantic.length) throw new MatrixError(semantic);
  return { matrix: parsed.data, file, locate: (path) => at(deepestNode(doc.contents, path)?.range?.[0]) };
}

/** The text of the mapping key whose node starts at `offset` (the yaml package's DUPLICATE_KEY position). */
function duplicateKeyAt(doc: ReturnType<typeof parseDocument>, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function yamlMessage(message: string): string {
  // The yaml package appends "at line L, column C" which we already report as file:line:col.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

type At = (offset: number | undefined) => Omit<Problem, 'message'>;
type PathKey = PropertyKey;

function nodeAt(root: unknown, path: readonly PathKey[]): Node | undefined {
  let node: unknown = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      node = pair?.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray(node.items)) {
      node = node.items[Number(key)];
    } else return undefined;
    if (node === undefined || node === null) return undefined;
  }
  return node as Node;
}

/** The deepest node along the path that exists (a missing key points at its parent mapping). */
function deepestNode(root: unknown, path: readonly PathKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = nodeAt(root, path.slice(0, n));
    if (node) return node;
  }
  return undefined;
}

function keyNode(root: unknown, path: readonly PathKey[], key: string): Node | undefined {
  const map = nodeAt(root, path);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return pair?.key as Node | undefined;
}

export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(top level)';
}

/**
 * A union that failed every option reports only "Invalid input"; report instead the option that
 * got furthest into the value (e.g. `severity: [critical, severe]` fails the list option at [1]).
 */
function unionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue | undefined {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return undefined;
  const score = (branch: z.core.$ZodIssue[]) => {
    const depth = Math.max(...branch.map((i) => i.path.length));
    const typeOnly = branch.every((i) => i.code === 'invalid_type' && i.path.length === 0);
    return depth * 2 + (typeOnly ? 0 : 1);
  };
  const branches = issue.errors.filter((b) => b.length > 0);
  const best = branches.reduce<z.core.$ZodIssue[] | undefined>(
    (a, b) => (a && score(a) >= score(b) ? a : b),
    undefined,
  );
  if (!best) return undefined;
  if (score(best) === 0) {
    // Every option wanted another type: say which ones.
    const expected = branches.flatMap((b) => (b[0]?.code === 'invalid_type' ? [b[0].expected] : []));
    return { ...issue, message: `Invalid input: expected ${expected.join(' or ')}` };
  }
  const first = best[0]!;
  return { ...first, path: [...issue.path, ...first.path] } as z.core.$ZodIssue;
}

function locateSchemaIssue(original: z.core.$ZodIssue, root: unknown, at: At): Problem {
  const issue = unionBranch(original) ?? original;
  const path = issue.path;
  if (issue.code === 'invalid_key' && path.length) {
    // A record key that breaks its pattern (e.g. layer "L1"): point at the key, give the key's rule.
    const parentPath = path.slice(0, -1);
    const key = String(path[path.length - 1]);
    const node = keyNode(root, parentPath, key) ?? deepestNode(root, path);
    const why = issue.issues[0]?.message ?? issue.message;
    return { ...at(node?.range?.[0]), message: `${formatPath(parentPath)}: invalid key "${key}": ${why}` };
  }
  if (issue.code === 'unrecognized_keys') {
    const node = keyNode(root, path, issue.keys[0] ?? '') ?? deepestNode(root, path);
    const where = path.length ? ` in ${formatPath(path)}` : '';
    return {
      ...at(node?.range?.[0]),
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${where}`,
    };
  }
  const exists = nodeAt(root, path) !== undefined;
  // Whatever zod calls it (a missing literal or enum is "invalid_value"), an absent key is missing.
  if (!exists && path.length && isMap(nodeAt(root, path.slice(0, -1)))) {
    const parent = deepestNode(root, path.slice(0, -1));
    const key = String(path[path.length - 1]);
    return { ...at(parent?.range?.[0]), message: `${formatPath(path.slice(0, -1))}: missing required key "${key}"` };
  }
  const node = deepestNode(root, path);
  return { ...at(node?.range?.[0]), message: `${formatPath(path)}: ${issue.message}` };
}

type Locate = (path: readonly PathKey[]) => number | undefined;

function checkSemantics(matrix: Matrix, locate: Locate, at: At): Problem[] {
  const problems: Problem[] = [];
  const report = (path: PathKey[], message: string) => problems.push({ ...at(locate(path)), message });
  const layerIds = Object.keys(matrix.layers);
  const known = `known layers: ${layerIds.join(', ')}`;

  const firstIndex = new Map<string, number>();
  matrix.issues.forEach((issue, i) => {
    const first = firstIndex.get(issue.id);
    if (first !== undefined) {
      report(['issues', i, 'id'], `duplicate issue id "${issue.id}" (first used by issues[${first}])`);
    } else firstIndex.set(issue.id, i);
    issue.layers?.forEach((layer, j) => {
      if (!layerIds.includes(layer)) {
        report(['issues', i, 'layers', j], `unknown layer "${layer}"${didYouMean(layer, layerIds)} (${known})`);
      }
    });
    checkBreaks(issue, i, layerIds, report);
  });
  if (layerIds.includes(RESERVED_LAYER)) {
    report(
      ['layers', RESERVED_LAYER],
      `layer id "${RESERVED_LAYER}" is reserved (faultline verify writes .faultline/results/verify.json): rename the layer`,
    );
  }

  matrix.policy.require.forEach((rule, i) => {
    rule.layers.forEach((layer, j) => {
      if (!layerIds.includes(layer)) {
        report(
          ['policy', 'require', i, 'layers', j],
          `unknown layer "${layer}"${didYouMean(layer, layerIds)} (${known})`,
        );
      }
    });
  });

  const owner = new Map<string, string>();
  for (const [layerId, layer] of Object.entries(matrix.layers)) {
    layer.projects.forEach((entry, j) => {
      const project = typeof entry === 'string' ? entry : entry.name;
      const other = owner.get(project);
      if (other !== undefined && other !== layerId) {
        report(
          ['layers', layerId, 'projects', j],
          `project "${project}" already serves layer "${other}": a project serves one layer, so its results belong to one column`,
        );
      } else owner.set(project, layerId);
    });
  }

  if (problems.length === 0) {
    matrix.issues.forEach((issue, i) => {
      const required = requiredLayers(matrix, issue);
      if (required.size === 0) {
        report(
          ['issues', i],
          `issue "${issue.id}" is required in no layer: give it "layers: [...]" or add a policy rule that matches it`,
        );
      }
      issue.breaks?.forEach((b, j) => {
        b.layers.forEach((layer, k) => {
          if (!required.has(layer)) {
            report(
              ['issues', i, 'breaks', j, 'layers', k],
              `break "${b.name}": issue "${issue.id}" is not required in layer "${layer}" (required: ${[...required].join(', ')}): a break is verified on a required cell`,
            );
          }
        });
      });
    });
  }
  return problems;
}

/** The results file name `faultline verify` writes beside the layers' results files. */
const RESERVED_LAYER = 'verify';

type Report = (path: PathKey[], message: string) => void;

/** An issue's `breaks`: known layers, each name once (a name is one switch of the system under test). */
function checkBreaks(issue: Matrix['issues'][number], i: number, layerIds: readonly string[], report: Report): void {
  const seen = new Map<string, number>();
  issue.breaks?.forEach((b, j) => {
    const first = seen.get(b.name);
    if (first !== undefined) {
      report(
        ['issues', i, 'breaks', j, 'name'],
        `duplicate break "${b.name}" in issue "${issue.id}" (first at breaks[${first}]): list its layers once`,
      );
    } else seen.set(b.name, j);
    b.layers.forEach((layer, k) => {
      if (!layerIds.includes(layer)) {
        report(
          ['issues', i, 'breaks', j, 'layers', k],
          `break "${b.name}": unknown layer "${layer}"${didYouMean(layer, layerIds)} (known layers: ${layerIds.join(', ')})`,
        );
      }
    });
  });
}
