/** Structured JSON-lines logging to stderr; stdout is reserved for the readiness line. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

/** An Error becomes `{ name, message, code, stack }` so a log line always carries the stack. */
export function serializeError(error: unknown): LogFields {
  if (error instanceof Error) {
    const out: LogFields = { name: error.name, message: error.message, stack: error.stack };
    const code = (error as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (error.cause !== undefined) out.cause = serializeError(error.cause);
    return out;
  }
  return { message: String(error) };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const write =
    options.write ??
    ((line: string) => {
      process.stderr.write(line);
    });
  return {
    log(level, event, fields) {
      if (LEVELS[level] < min) return;
      const record = { ts: new Date().toISOString(), level, event, pid: process.pid, ...fields };
      let line: string;
      try {
        line = JSON.stringify(record, replacer);
      } catch {
        line = JSON.stringify({ ts: record.ts, level, event, pid: process.pid, note: 'unserializable fields' });
      }
      write(`${line}\n`);
    },
  };
}

/** Collects records in memory: for tests and for callers that embed the daemon. */
export class MemoryLogger implements Logger {
  readonly records: Array<{ level: LogLevel; event: string; fields: LogFields }> = [];
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.records.push({ level, event, fields });
  }
  events(event: string): LogFields[] {
    return this.records.filter((r) => r.event === event).map((r) => r.fields);
  }
}

export const silentLogger: Logger = { log() {} };
