// Listen/upstream addresses in Go's `host:port` syntax, resolved the way Go's net package
// does for "tcp": hostnames prefer IPv4 (`localhost` → 127.0.0.1), an empty or wildcard host
// binds every interface and is reported as `[::]`.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** Go's `net.SplitHostPort` plus port parsing; errors use Go's wording. */
export function splitHostPort(address: string): HostPort {
  const fail = (why: string): never => {
    throw new Error(`address ${address}: ${why}`);
  };
  if (address === '') return { host: '', port: 0 }; // Go: every interface, any port
  const colon = address.lastIndexOf(':');
  if (colon < 0) fail('missing port in address');
  let host: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) fail("missing ']' in address");
    if (close + 1 !== colon)
      fail(close + 1 === address.length ? 'missing port in address' : "unexpected ']' in address");
    host = address.slice(1, close);
  } else {
    host = address.slice(0, colon);
    if (host.includes(':')) fail('too many colons in address');
    if (host.includes('[') || host.includes(']')) fail("unexpected '[' in address");
  }
  const portText = address.slice(colon + 1);
  const port = portText === '' ? 0 : Number(portText);
  if (!/^\d*$/.test(portText) || port > 65535) fail('invalid port');
  return { host, port };
}

export function formatAddress(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

/** The IP a hostname or literal binds/dials to (IPv4 first, as Go does for "tcp"). */
export async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    throw new Error(`lookup ${host}: no such host`);
  }
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
  if (!chosen) throw new Error(`lookup ${host}: no such host`);
  return chosen.address;
}

/** `net.ResolveTCPAddr("tcp", address).String()`, used to decide whether a listen address changed. */
export async function resolvedString(address: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  if (host === '') return `:${port}`;
  return formatAddress(await resolveHost(host), port);
}
