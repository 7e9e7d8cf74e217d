// Request bodies decoded with Go's encoding/json rules (first value only, null leaves a
// field unchanged, case-insensitive keys, integers for int fields) and its error wording,
// so `bad request body: ...` answers read like the real server's.
import { badRequestBody } from './errors.ts';
import { scanFirstValue } from './go-json.ts';

export type JsonObject = Record<string, unknown>;

/** Parses the first JSON value of a body, with a Go Decoder's errors (`EOF` for an empty body). */
export function parseBody(body: string | Uint8Array): unknown {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const scanned = scanFirstValue(bytes);
  if ('error' in scanned) throw badRequestBody(scanned.error);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, scanned.end).toString('utf8'));
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** A JSON object to decode into the Go type `goType`; `null` decodes as "no fields". */
export function asObject(value: unknown, goType: string): JsonObject {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw badRequestBody(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  return value as JsonObject;
}

/** The value for `key`, matched exactly first and then case-insensitively, like Go. */
export function field(object: JsonObject, key: string): unknown {
  if (Object.hasOwn(object, key)) return object[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(object)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function mismatch(value: unknown, where: string, goType: string): never {
  const kind = typeof value === 'number' ? `number ${value}` : jsonKind(value);
  throw badRequestBody(`json: cannot unmarshal ${kind} into Go struct field ${where} of type ${goType}`);
}

/** `undefined` when absent or null (Go leaves the field as it was). */
export function stringField(object: JsonObject, key: string, owner: string): string | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') mismatch(value, `${owner}.${key}`, 'string');
  return value;
}

export function boolField(object: JsonObject, key: string, owner: string): boolean | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') mismatch(value, `${owner}.${key}`, 'bool');
  return value;
}

const INT64_LIMIT = 2 ** 63;

export function intField(object: JsonObject, key: string, owner: string, goType: string): number | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) >= INT64_LIMIT) {
    mismatch(value, `${owner}.${key}`, goType);
  }
  return value;
}

/** A float32 field, rounded to float32 and printed as Go prints it (0.2 stays 0.2). */
export function float32Field(object: JsonObject, key: string, owner: string): number | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(Math.fround(value))) mismatch(value, `${owner}.${key}`, 'float32');
  return shortestFloat32(value);
}

/** The shortest decimal that rounds to the same float32 (Go's `strconv.FormatFloat(f, 'g', -1, 32)`). */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/** JSON as Go's encoder writes it: `<`, `>`, `&` and U+2028/9 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
