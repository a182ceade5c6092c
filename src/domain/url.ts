// URL rules of the API: redirect URLs are validated like Apache Commons UrlValidator (http/https,
// a valid domain with a top-level domain, or an IP address; "localhost" is not a valid domain),
// and callback URLs may be restricted to public https addresses.
import { BlockList, isIP } from 'node:net';

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const TLD = /^[A-Za-z]{2,63}$|^xn--[A-Za-z0-9-]{1,59}$/;
const PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
// No whitespace: Commons UrlValidator refuses it in the query as everywhere else.
const QUERY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]|{}^`"<>]*$/;

export interface UrlCheckOptions {
  /** Accept "localhost" as a host (the callback URL in the test environment). */
  allowLocalhost?: boolean;
  /** Accept only https. */
  httpsOnly?: boolean;
}

function validIpv4(host: string): boolean {
  return isIP(host) === 4 && host.split('.').every((p) => p === String(Number(p)));
}

/** Whether `value` is a URL as the API accepts it. Pure; does not resolve the host. */
export function isValidHttpUrl(value: unknown, opts: UrlCheckOptions = {}): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return false;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(value);
  if (!m) return false;
  const [, scheme, authority, path, query = '', fragment = ''] = m;
  const lower = scheme.toLowerCase();
  if (lower !== 'https' && (opts.httpsOnly || lower !== 'http')) return false;
  const hostPort = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:@]+))(?::(\d{1,5}))?$/.exec(authority);
  if (!hostPort) return false;
  const [, ipv6, host, port] = hostPort;
  if (port !== undefined && (Number(port) > 65535 || Number(port) === 0)) return false;
  if (ipv6 !== undefined) {
    if (isIP(ipv6) !== 6) return false;
  } else if (!validIpv4(host)) {
    if (host.toLowerCase() === 'localhost') {
      if (!opts.allowLocalhost) return false;
    } else {
      const labels = host.replace(/\.$/, '').split('.');
      if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels[labels.length - 1])) return false;
    }
  }
  if (!PATH.test(path) || path.includes('//')) return false;
  if (query && !QUERY.test(query.slice(1))) return false;
  if (fragment && /\s/.test(fragment)) return false;
  return true;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32], ['fd00:ec2::', 32],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** Loopback, private, link-local, metadata and other non-public addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}
