// Go's encoding/json scanner (scanner.go), reduced to what a `json.Decoder` reports: where
// the first value of a body ends, or the exact SyntaxError text for the byte that broke it,
// so `bad request body: ...` reads like the real server's for any input.

type Step = (c: number) => Step | string | typeof END;

const END: unique symbol = Symbol('end');
const MAX_DEPTH = 10000;
const OBJECT_KEY = 0;
const OBJECT_VALUE = 1;
const ARRAY_VALUE = 2;

/** Go's `quoteChar`: the byte as `strconv.Quote` writes the rune, in single quotes. */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  return `'${quoteRune(c)}'`;
}

const NAMED: Record<number, string> = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r' };

function quoteRune(c: number): string {
  if (c === 0x5c) return '\\\\';
  const named = NAMED[c];
  if (named) return `\\${named}`;
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, '0')}`;
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `\\u${c.toString(16).padStart(4, '0')}`;
  return String.fromCharCode(c);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Where the first JSON value ends (exclusive), or the Go error text (`EOF`, `unexpected EOF`, `invalid character …`). */
export function scanFirstValue(bytes: Uint8Array): { end: number } | { error: string } {
  const scanner = new Scanner();
  let step: Step = scanner.beginValue;
  for (let i = 0; i < bytes.length; i++) {
    const next = step(bytes[i]!);
    if (next === END) return { end: i };
    if (typeof next === 'string') return { error: next };
    step = next;
    if (scanner.done) return { end: i + 1 };
  }
  if (step(0x20) === END || scanner.done) return { end: bytes.length };
  return { error: bytes.some((c) => !isSpace(c)) ? 'unexpected EOF' : 'EOF' };
}

class Scanner {
  readonly #stack: number[] = [];
  /** A closing bracket ended the top-level value (Go's decoder stops there, inventing a space). */
  done = false;

  #error(c: number, context: string): string {
    return `invalid character ${quoteChar(c)} ${context}`;
  }

  #push(c: number, state: number, next: Step): Step | string {
    this.#stack.push(state);
    return this.#stack.length <= MAX_DEPTH ? next : this.#error(c, 'exceeded max depth');
  }

  #pop(): Step {
    this.#stack.pop();
    if (this.#stack.length === 0) this.done = true;
    return this.endValue;
  }

  beginValue = (c: number): Step | string => {
    if (isSpace(c)) return this.beginValue;
    if (c === 0x7b) return this.#push(c, OBJECT_KEY, this.beginStringOrEmpty);
    if (c === 0x5b) return this.#push(c, ARRAY_VALUE, this.beginValueOrEmpty);
    if (c === 0x22) return this.inString;
    if (c === 0x2d) return this.neg;
    if (c === 0x30) return this.zero;
    if (c >= 0x31 && c <= 0x39) return this.digits;
    if (c === 0x74) return this.literal('true', 1);
    if (c === 0x66) return this.literal('false', 1);
    if (c === 0x6e) return this.literal('null', 1);
    return this.#error(c, 'looking for beginning of value');
  };

  beginValueOrEmpty = (c: number): Step | string => {
    if (isSpace(c)) return this.beginValueOrEmpty;
    if (c === 0x5d) return this.#pop();
    return this.beginValue(c);
  };

  beginStringOrEmpty = (c: number): Step | string => {
    if (isSpace(c)) return this.beginStringOrEmpty;
    if (c === 0x7d) return this.#pop();
    return this.beginString(c);
  };

  beginString = (c: number): Step | string => {
    if (isSpace(c)) return this.beginString;
    if (c === 0x22) return this.inString;
    return this.#error(c, 'looking for beginning of object key string');
  };

  endValue = (c: number): Step | string | typeof END => {
    const state = this.#stack.at(-1);
    if (state === undefined) return END;
    if (isSpace(c)) return this.endValue;
    if (state === OBJECT_KEY) {
      if (c !== 0x3a) return this.#error(c, 'after object key');
      this.#stack[this.#stack.length - 1] = OBJECT_VALUE;
      return this.beginValue;
    }
    if (state === OBJECT_VALUE) {
      if (c === 0x7d) return this.#pop();
      if (c !== 0x2c) return this.#error(c, 'after object key:value pair');
      this.#stack[this.#stack.length - 1] = OBJECT_KEY;
      return this.beginString;
    }
    if (c === 0x5d) return this.#pop();
    if (c !== 0x2c) return this.#error(c, 'after array element');
    return this.beginValue;
  };

  inString = (c: number): Step | string => {
    if (c === 0x22) return this.endValue;
    if (c === 0x5c) return this.inStringEsc;
    if (c < 0x20) return this.#error(c, 'in string literal');
    return this.inString;
  };

  inStringEsc = (c: number): Step | string => {
    if ('bfnrt\\/"'.includes(String.fromCharCode(c))) return this.inString;
    if (c === 0x75) return this.hex(4);
    return this.#error(c, 'in string escape code');
  };

  hex(left: number): Step {
    return (c) => {
      if (!isHex(c)) return this.#error(c, 'in \\u hexadecimal character escape');
      return left > 1 ? this.hex(left - 1) : this.inString;
    };
  }

  literal(word: string, at: number): Step {
    return (c) => {
      if (c !== word.charCodeAt(at)) return this.#error(c, `in literal ${word} (expecting '${word[at]}')`);
      return at + 1 < word.length ? this.literal(word, at + 1) : this.endValue;
    };
  }

  neg = (c: number): Step | string => {
    if (c === 0x30) return this.zero;
    if (c >= 0x31 && c <= 0x39) return this.digits;
    return this.#error(c, 'in numeric literal');
  };

  digits = (c: number): Step | string | typeof END => (isDigit(c) ? this.digits : this.zero(c));

  zero = (c: number): Step | string | typeof END => {
    if (c === 0x2e) return this.dot;
    if (c === 0x65 || c === 0x45) return this.exponent;
    return this.endValue(c);
  };

  dot = (c: number): Step | string => {
    if (isDigit(c)) return this.fraction;
    return this.#error(c, 'after decimal point in numeric literal');
  };

  fraction = (c: number): Step | string | typeof END => {
    if (isDigit(c)) return this.fraction;
    if (c === 0x65 || c === 0x45) return this.exponent;
    return this.endValue(c);
  };

  exponent = (c: number): Step | string => (c === 0x2b || c === 0x2d ? this.exponentSign : this.exponentSign(c));

  exponentSign = (c: number): Step | string => {
    if (isDigit(c)) return this.exponentDigits;
    return this.#error(c, 'in exponent of numeric literal');
  };

  exponentDigits = (c: number): Step | string | typeof END => (isDigit(c) ? this.exponentDigits : this.endValue(c));
}
