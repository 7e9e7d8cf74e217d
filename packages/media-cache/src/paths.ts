import { RequestError } from './errors.ts';

/**
 * Turns a URL path tail into a safe relative file path (`a/b.mp3`): percent-decoded, no empty,
 * `.` or `..` segments, no NUL. Everything served or written stays inside its origin root.
 */
export function normalizeFilePath(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new RequestError(400, `bad file path "${raw}": invalid percent-encoding`);
  }
  if (decoded.includes('\0')) throw new RequestError(400, 'bad file path: contains NUL');
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw new RequestError(400, 'bad file path: empty; use /files/<path>');
  for (const segment of segments) {
    if (segment === '.' || segment === '..') {
      throw new RequestError(400, `bad file path "${decoded}": "." and ".." segments are not allowed`);
    }
  }
  return segments.join('/');
}

/** Percent-encodes each segment of a normalized path for use in a URL. */
export function encodeFilePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
