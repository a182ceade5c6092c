// URL rules of the API: redirect URLs are validated like Apache Commons UrlValidator (http/https,
// a valid domain whose top-level domain is in IANA's list, or an IP address; "localhost" is not a
// valid domain), and callback URLs may be restricted to public https addresses.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import tlds from 'tlds' with { type: 'json' };

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
// No whitespace: Commons UrlValidator refuses it in the query as everywhere else.
const QUERY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]|{}^`"<>]*$/;

// IANA's root zone list. Host names are ASCII here (as in Commons UrlValidator's authority rule),
// so internationalised TLDs count in their punycode form ("xn--p1ai" for "рф").
const TOP_LEVEL_DOMAINS = new Set(tlds.map((tld) => domainToASCII(tld).toLowerCase()).filter((tld) => tld !== ''));

export interface UrlCheckOptions {
  /** Accept "localhost" as a host (the callback URL in the test environment). */
  allowLocalhost?: boolean;
  /** Accept only https. */
  httpsOnly?: boolean;
}

function validIpv4(host: string): boolean {
  return isIP(host) === 4 && host.split('.').every((p) => p === String(Number(p)));
}

/** Whether `host` is a domain name with at least two labels whose last label is an IANA top-level domain. */
function isValidDomainName(host: string): boolean {
  const labels = host.replace(/\.$/, '').split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && TOP_LEVEL_DOMAINS.has(labels[labels.length - 1].toLowerCase());
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
    } else if (!isValidDomainName(host)) return false;
  }
  if (!PATH.test(path) || path.includes('//')) return false;
  if (query && !QUERY.test(query.slice(1))) return false;
  if (fragment && /\s/.test(fragment)) return false;
  return true;
}

// ---- non-public addresses ---------------------------------------------------------------------
// The special-purpose ranges come from ipaddr.js (`range()`); an address is public only where it
// calls it 'unicast'. IPv6 forms that carry an IPv4 address are judged by that address.

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

function ipv4Of(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16,
 *  198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4 (255.255.255.255 included), AS112 and AMT are not public. */
function isPublicIpv4(address: IPv4): boolean {
  return address.range() === 'unicast';
}

function isPublicIpv6(address: IPv6): boolean {
  const p = address.parts;
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:0:0/96 (ipaddr.js also reads the IPv4-compatible spelling ::a.b.c.d as ::ffff:a.b.c.d; same verdict)
    case 'rfc6145': // ::ffff:0:0:0/96, SIIT translated
      return isPublicIpv4(ipv4Of(p[6], p[7]));
    case 'rfc6052':
      // NAT64: the well-known prefix 64:ff9b::/96 carries the address in its last 32 bits. Where the
      // local-use 64:ff9b:1::/48 carries it depends on the operator's prefix length, and the prefix is
      // not globally reachable: refused.
      return address.match(NAT64_WELL_KNOWN) && isPublicIpv4(ipv4Of(p[6], p[7]));
    case '6to4': // 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
      return isPublicIpv4(ipv4Of(p[1], p[2]));
    case 'unicast':
      // IPv4-compatible ::a.b.c.d (::/96; :: and ::1 are ranges of their own).
      if (address.match(IPV4_COMPATIBLE)) return isPublicIpv4(ipv4Of(p[6], p[7]));
      // Outside 2000::/3 nothing is allocated for global unicast (::/8 and 100::/8 reserved, and so on).
      return address.match(GLOBAL_UNICAST);
    default:
      // Unspecified, loopback, link-local, site-local, unique-local, multicast, discard, documentation,
      // benchmarking, ORCHID, AMT, AS112, segment routing, and Teredo (2001::/32). Teredo is refused
      // outright: it is obsolete, it reaches its hosts through relays, and it carries two IPv4
      // addresses (the server's and, inverted, the client's) that would both have to be checked.
      return false;
  }
}

/** Parses an IP address (IPv6 possibly in brackets and with a zone id); undefined for anything else. */
function parseAddress(text: string): IPv4 | IPv6 | undefined {
  const bracketed = /^\[([^\]]*)\]$/.exec(text);
  const address = bracketed ? bracketed[1] : text;
  const family = isIP(address);
  if (family === 4 && !bracketed && ipaddr.IPv4.isValidFourPartDecimal(address)) return ipaddr.IPv4.parse(address);
  // The zone id (fe80::1%eth0) only picks the interface; the address is judged without it.
  if (family === 6) return ipaddr.IPv6.parse(address.replace(/%.*$/s, ''));
  return undefined;
}

/**
 * Whether `address` is not a public unicast address: loopback, private, link-local, metadata,
 * reserved and documentation ranges, multicast, and every IPv6 form of such an IPv4 address.
 * Strings that are not IP addresses count as non-public. Used both when a payment is initiated and
 * when makePayment connects, so both refuse the same addresses.
 */
export function isPrivateAddress(address: string): boolean {
  try {
    const parsed = parseAddress(address);
    if (parsed === undefined) return true;
    return parsed.kind() === 'ipv4' ? !isPublicIpv4(parsed as IPv4) : !isPublicIpv6(parsed as IPv6);
  } catch {
    return true;
  }
}
