import type { TestError } from './results.ts';

/** `1 test`, `2 tests`: a count with its noun in the right number. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

// Colour and cursor escapes that assertion libraries leave in messages.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Text cut to `max` characters, saying so. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** The first line of an error message, without colour codes, cut to `max` characters. */
export function firstLine(text: string, max = 200): string {
  const line =
    text
      .replace(ANSI, '')
      .split(/\r?\n/)
      .find((l) => l.trim() !== '') ?? '';
  return cut(line.trim(), max);
}

// One very long line (a serialised object) must not push the diff out of the excerpt.
const MAX_LINE = 300;

/**
 * What a person needs of a failed test's errors: the first lines of the first error's message
 * and its expected/received diff when there is one, without colour codes, bounded in lines and
 * characters, and how many more errors there were.
 */
export function errorExcerpt(errors: readonly TestError[], maxLines = 12, maxChars = 1000): string | undefined {
  const first = errors[0];
  if (!first) return undefined;
  const lines = [first.message, first.diff]
    .filter((t): t is string => Boolean(t))
    .join('\n')
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((line) => cut(line, MAX_LINE));
  while (lines.length && lines[lines.length - 1]?.trim() === '') lines.pop();
  let out = lines.slice(0, maxLines).join('\n');
  if (lines.length > maxLines) out += `\n… (${plural(lines.length - maxLines, 'more line', 'more lines')})`;
  out = cut(out, maxChars);
  if (errors.length > 1) out += `\n(and ${plural(errors.length - 1, 'more error', 'more errors')})`;
  return out;
}
