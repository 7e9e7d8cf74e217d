import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkDurability, journalLength, lastValue, maxValue, openJournal, readJsonNumber } from '../src/index.ts';
import { readJournal } from '../src/journal.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);

const path = (name: string) => join(tmp.dir, name);

describe('journals', () => {
  test('append, read back, last and max values', () => {
    const j = openJournal(path('a.log'));
    for (const v of [3, 9, 4]) j.append(v);
    j.close();
    expect(readJournal(path('a.log'))).toEqual({ entries: ['3', '9', '4'], tornTail: undefined });
    expect(journalLength(path('a.log'))).toBe(3);
    expect(lastValue(path('a.log'))).toBe(4);
    expect(maxValue(path('a.log'))).toBe(9);
    expect(() => j.append(1)).toThrow(/is closed/);
  });

  test('a torn last line (killed mid-append) is reported and ignored by the value readers', () => {
    writeFileSync(path('b.log'), '1\n2\n');
    appendFileSync(path('b.log'), '3'); // no newline: the append never finished
    expect(readJournal(path('b.log'))).toEqual({ entries: ['1', '2'], tornTail: '3' });
    expect(lastValue(path('b.log'))).toBe(2);
    expect(maxValue(path('b.log'))).toBe(2);
  });

  test('a missing journal is empty; a non-numeric complete line is an error naming file:line', () => {
    expect(journalLength(path('missing.log'))).toBe(0);
    expect(maxValue(path('missing.log'))).toBeUndefined();
    writeFileSync(path('c.log'), '1\nbanana\n');
    expect(() => maxValue(path('c.log'))).toThrow(/c\.log:2: expected a number, got "banana"/);
    expect(() => openJournal(path('d.log')).append('a\nb')).toThrow(/may not contain a newline/);
  });
});

describe('durability checks', () => {
  test('readJsonNumber tells ok, missing and torn apart', () => {
    writeFileSync(path('ok.json'), JSON.stringify({ cursor: { seq: 7 } }));
    writeFileSync(path('torn.json'), '{"cursor":{"se');
    writeFileSync(path('empty.json'), '');
    writeFileSync(path('shape.json'), '{"cursor":{}}');
    expect(readJsonNumber(path('ok.json'), 'cursor.seq')).toEqual({ state: 'ok', value: 7 });
    expect(readJsonNumber(path('nope.json'), 'seq')).toEqual({ state: 'missing' });
    expect(readJsonNumber(path('torn.json'), 'cursor.seq')).toMatchObject({ state: 'torn' });
    expect(readJsonNumber(path('empty.json'), 'seq')).toMatchObject({ state: 'torn', reason: /0 bytes do not parse/ });
    expect(readJsonNumber(path('shape.json'), 'cursor.seq')).toMatchObject({ state: 'torn', reason: /not a number/ });
  });

  test('checkDurability reports torn, missing, behind-journal and regressed', () => {
    const subject = 'w0 checkpoint';
    expect(checkDurability({ subject, stored: { state: 'ok', value: 10 }, journaled: 10, previous: 5 })).toEqual([]);
    expect(checkDurability({ subject, stored: { state: 'missing' } })).toEqual([]);
    const kinds = (input: Parameters<typeof checkDurability>[0]) => checkDurability(input).map((v) => v.kind);
    expect(kinds({ subject, stored: { state: 'torn', reason: 'x', raw: '{' } })).toEqual(['torn']);
    expect(kinds({ subject, stored: { state: 'missing' }, journaled: 1 })).toEqual(['missing']);
    expect(kinds({ subject, stored: { state: 'ok', value: 3 }, journaled: 4, previous: 9 })).toEqual([
      'behind-journal',
      'regressed',
    ]);
    expect(checkDurability({ subject, stored: { state: 'ok', value: 3 }, previous: 9 })[0]!.detail).toBe(
      'w0 checkpoint moved backwards from 9 (previous wave) to 3',
    );
  });
});
