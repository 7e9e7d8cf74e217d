// Runs every bench/*.bench.ts (or the ones named on the command line) and prints each
// figure as baseline vs subject with their ratio, so figures are compared within one run.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BenchFigure, BenchScript } from './figure.ts';

const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

const all: Array<BenchFigure & { script: string }> = [];
for (const file of scripts) {
  const mod = (await import(join(dir, file))) as { default: BenchScript };
  process.stderr.write(`bench: ${file} ...\n`);
  for (const f of await mod.default()) all.push({ ...f, script: basename(file, '.bench.ts') });
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));
console.log('| script | figure | baseline | subject | ratio | budget | note |');
console.log('|---|---|---|---|---|---|---|');
for (const f of all) {
  const budget = f.budget ? `${f.budget} ${f.ok === false ? 'MISSED' : 'met'}` : '';
  console.log(
    `| ${f.script} | ${f.name} | ${f.baseline.label}: ${fmt(f.baseline.value)} ${f.unit} | ${f.subject.label}: ${fmt(f.subject.value)} ${f.unit} | ${f.ratio.toFixed(2)}x | ${budget} | ${f.note ?? ''} |`,
  );
}
