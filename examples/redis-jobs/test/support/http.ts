// A bounded HTTP client for the tests: every request has a deadline, and the answer says what
// arrived (status, JSON body, time taken) or how the connection failed (code), never hangs.
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  ms: number;
}

export interface Failure {
  status: 0;
  /** ECONNRESET, ECONNREFUSED, TIMEOUT (our deadline), ... */
  error: string;
  ms: number;
}

export type Outcome = Answer | Failure;

export interface CallOptions {
  body?: string;
  /** Default 5 000 ms: past it the request is destroyed and reported as TIMEOUT. */
  timeoutMs?: number;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Never rejects: a failed connection is an outcome with status 0, so tests can assert on it. */
export function call(method: string, url: string, options: CallOptions = {}): Promise<Outcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    // agent: false, one connection per request: no kept-alive socket crosses a restart or a fault.
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: parse(Buffer.concat(chunks).toString()),
          ms: ms(),
        });
      });
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ status: 0, error: error.code ?? error.message, ms: ms() }),
      );
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, error: 'TIMEOUT', ms: ms() });
    }, options.timeoutMs ?? 5_000);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: 0, error: error.code ?? error.message, ms: ms() });
    });
    req.end(options.body);
  });
}

export const get = (url: string, options?: CallOptions) => call('GET', url, options);
export const post = (url: string, options?: CallOptions) => call('POST', url, options);

/** The JSON body of a 2xx answer, or a failed assertion that quotes the outcome. */
export function bodyOf<T>(outcome: Outcome, status = 200): T {
  if (outcome.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${JSON.stringify(outcome)}`);
  }
  return (outcome as Answer).body as T;
}
