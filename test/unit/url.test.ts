import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockList } from 'node:net';
import { domainToASCII } from 'node:url';
import tlds from 'tlds' with { type: 'json' };
import { isPrivateAddress, isValidHttpUrl } from '../../src/domain/url.ts';
import { MakePaymentClient, resolvesToPrivate } from '../../src/delivery/make-payment-client.ts';

/** IANA's top-level domains as they appear in a URL's host: ASCII, internationalised ones in punycode. */
const IANA_TLDS = tlds.map((t) => domainToASCII(t));

describe('isValidHttpUrl', () => {
  it('accepts http(s) URLs with a domain that has a TLD, or an IP address', () => {
    for (const url of [
      'https://example.com',
      'https://example.com/',
      'http://127.0.0.1',
      'http://127.0.0.1:8080/path?x=1',
      'https://sub.example.no/a/b',
      'https://example.com/vipps/fallback-result-page-for-both-success-and-failure/acme-shop-123-order123abc',
      'https://example.com:443/a?b=c&d=e#frag',
      'https://example.com:65535',
      'HTTPS://EXAMPLE.COM/X',
      'https://my-shop.example.co.uk/return?order=1%202',
      'https://xn--bcher-kva.no',
      'http://[2001:db8::1]:8080/x',
      'http://10.0.0.1/return',
    ]) {
      assert.equal(isValidHttpUrl(url), true, url);
    }
  });

  it('refuses localhost, unless allowLocalhost', () => {
    for (const url of ['https://localhost', 'http://localhost:3000/cb', 'http://LOCALHOST/x', 'http://localhost./x']) {
      assert.equal(isValidHttpUrl(url), false, url);
    }
    assert.equal(isValidHttpUrl('https://localhost', { allowLocalhost: true }), true);
    assert.equal(isValidHttpUrl('http://localhost:3000/cb', { allowLocalhost: true }), true);
    assert.equal(isValidHttpUrl('http://localhost:3000/cb', { allowLocalhost: true, httpsOnly: true }), false);
  });

  it('refuses other schemes and scheme-less values', () => {
    for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'javascript://example.com/%0Aalert(1)', 'file:///etc/passwd',
      'vipps://', 'mailto:a@example.com', 'example.com', '//example.com', 'https:example.com', 'https:/example.com', 'data:text/html,hi']) {
      assert.equal(isValidHttpUrl(url), false, url);
    }
  });

  it('refuses a missing host and a host without a dot', () => {
    for (const url of ['https://', 'http://', 'https:///path', 'https://:443/', 'https://?x=1', 'https://intranet', 'https://intranet/x', 'https://shop:8080']) {
      assert.equal(isValidHttpUrl(url), false, url);
    }
  });

  it('refuses invalid domains', () => {
    for (const url of ['https://-example.com', 'https://example-.com', 'https://exa_mple.com', 'https://example.c0m', 'https://example.c',
      'https://example..com', 'https://.example.com', `https://${'a'.repeat(64)}.com`, 'https://256.1.1.1', 'https://1.2.3', 'http://127.0.0.01']) {
      assert.equal(isValidHttpUrl(url), false, url);
    }
  });

  it('the top-level domain must be in IANA\'s list, as in Commons UrlValidator; internationalised ones in punycode', () => {
    for (const url of ['https://shop.example.no/back', 'https://SHOP.EXAMPLE.NO/back', 'https://example.com.', 'https://shop.example.museum',
      'https://example.xn--p1ai/', 'https://example.XN--P1AI/', 'https://shop.xn--vermgensberatung-pwb', 'https://1.0.0.127.in-addr.arpa']) {
      assert.equal(isValidHttpUrl(url), true, url);
    }
    for (const url of ['https://shop.example.invalidtld/back', 'https://xn--bcher-kva.example', 'https://shop.test', 'https://shop.invalid/x',
      'https://printer.local', 'https://router.localdomain', 'https://example.onion', 'https://example.xn--zz1a', 'https://example.co.uk2',
      'https://example.рф', 'https://пример.xn--p1ai', 'https://shop.localhost', 'http://localhost.localdomain:3000/cb']) {
      assert.equal(isValidHttpUrl(url), false, url);
      assert.equal(isValidHttpUrl(url, { allowLocalhost: true }), false, url);
    }
  });

  it('property: a domain under a top-level domain that is not in IANA\'s list is refused, under one that is, accepted', () => {
    const known = new Set(IANA_TLDS);
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(fc.property(label, fc.stringMatching(/^[a-z]{2,12}$/), fc.constantFrom(...IANA_TLDS), (name, tld, real) => {
      assert.equal(isValidHttpUrl(`https://${name}.${tld}/x`), known.has(tld), `${name}.${tld}`);
      assert.equal(isValidHttpUrl(`https://${name}.${real}/x`), true, `${name}.${real}`);
      assert.equal(isValidHttpUrl(`https://${name}.${real}.${tld}/x`), known.has(tld), `${name}.${real}.${tld}`);
    }), { numRuns: 500 });
  });

  it('refuses whitespace anywhere', () => {
    for (const url of ['https://exa mple.com', ' https://example.com', 'https://example.com ', 'https://example.com/a b',
      'https://example.com/?q=a b', 'https://example.com/?q=a\tb', 'https://example.com/#a b', 'https://example.com/\nx', 'https://example.com/?x=\r\n']) {
      assert.equal(isValidHttpUrl(url), false, JSON.stringify(url));
    }
  });

  it('refuses ports above 65535 and port 0', () => {
    for (const url of ['https://example.com:65536', 'https://example.com:99999', 'https://example.com:123456', 'http://127.0.0.1:0/', 'https://example.com:x']) {
      assert.equal(isValidHttpUrl(url), false, url);
    }
  });

  it('refuses http when httpsOnly', () => {
    assert.equal(isValidHttpUrl('http://example.com', { httpsOnly: true }), false);
    assert.equal(isValidHttpUrl('http://127.0.0.1:8080/path?x=1', { httpsOnly: true }), false);
    assert.equal(isValidHttpUrl('https://example.com', { httpsOnly: true }), true);
  });

  it('refuses non-strings, empty strings and over-long URLs', () => {
    for (const v of [undefined, null, 0, 1, true, {}, [], ['https://example.com'], new URL('https://example.com'), '']) {
      assert.equal(isValidHttpUrl(v), false, String(v));
    }
    assert.equal(isValidHttpUrl(`https://example.com/${'a'.repeat(2020)}`), true);
    assert.equal(isValidHttpUrl(`https://example.com/${'a'.repeat(2100)}`), false);
  });

  it('property: never throws, for any string or any value, with any options', () => {
    const opts = fc.record({ allowLocalhost: fc.boolean(), httpsOnly: fc.boolean() }, { requiredKeys: [] });
    const values: Array<[fc.Arbitrary<unknown>, number]> = [
      [fc.string(), 500],
      // Any code point, lone surrogates included (fc's 'binary' unit is avoided: building it takes seconds).
      [fc.string({ unit: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) }), 300],
      [fc.string({ unit: fc.constantFrom(...'htps:/[]@?#.%:1aA- \t\n'), maxLength: 40 }).map((s) => `https://${s}`), 500],
      // (fc.webUrl is avoided: building it alone takes about 2 s.)
      [fc.tuple(fc.constantFrom('http', 'https', 'HTTP', 'ftp', ''), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
        .map(([scheme, host, rest]) => `${scheme}://${host}${rest}`), 300],
      [fc.anything({ maxDepth: 2, maxKeys: 5, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true }), 200],
    ];
    for (const [value, numRuns] of values) {
      fc.assert(fc.property(value, opts, (v, o) => { assert.equal(typeof isValidHttpUrl(v, o), 'boolean'); }), { numRuns });
    }
    fc.assert(fc.property(fc.anything({ maxDepth: 2, maxKeys: 5 }).filter((v) => typeof v !== 'string'), (v) => { assert.equal(isValidHttpUrl(v), false); }), { numRuns: 200 });
  });

  it('property: URLs made of a scheme, a domain, a port and a path are accepted; httpsOnly refuses their http form', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const url = fc.record({
      https: fc.boolean(),
      labels: fc.array(label, { minLength: 1, maxLength: 3 }),
      tld: fc.constantFrom(...IANA_TLDS),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/), { maxLength: 3 }),
    }).map(({ https, labels, tld, port, path }) =>
      ({ https, url: `${https ? 'https' : 'http'}://${[...labels, tld].join('.')}${port === undefined ? '' : `:${port}`}${path.map((p) => `/${p}`).join('')}` }));
    fc.assert(fc.property(url, ({ https, url: u }) => {
      assert.equal(isValidHttpUrl(u), true, u);
      assert.equal(isValidHttpUrl(u, { httpsOnly: true }), https, u);
    }), { numRuns: 300 });
  });

  it('property: a URL with whitespace inserted anywhere after the scheme is refused', () => {
    fc.assert(fc.property(fc.nat(), fc.constantFrom(' ', '\t', '\n', '\r'), (pos, ws) => {
      const base = 'https://sub.example.no/a/b?x=1&y=2#frag';
      const at = 'https://'.length + (pos % (base.length - 'https://'.length + 1));
      const u = base.slice(0, at) + ws + base.slice(at);
      assert.equal(isValidHttpUrl(u), false, JSON.stringify(u));
    }), { numRuns: 200 });
  });
});

describe('isPrivateAddress', () => {
  it('loopback, private, link-local, metadata and unique-local addresses are private', () => {
    for (const a of ['127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.0.1', '192.168.255.255',
      '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255',
      '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'FE80::1', 'ff02::1', 'fd00:ec2::254',
      '::ffff:127.0.0.1', '::FFFF:10.0.0.1', '::ffff:169.254.169.254', '::ffff:7f00:1']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('public addresses are not', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:4860:4860::8888', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isPrivateAddress(a), false, a);
    }
  });

  it('strings that are not IP addresses count as private', () => {
    for (const a of ['', 'localhost', 'example.com', '256.0.0.1', '1.2.3', '8.8.8.8 ', '[::1]', 'not an ip']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('property: never throws; every 10.x, 127.x and 192.168.x address is private', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(fc.property(fc.constantFrom('10', '127', '192.168'), octet, octet, octet, (net, a, b, c) => {
      const addr = net === '192.168' ? `192.168.${b}.${c}` : `${net}.${a}.${b}.${c}`;
      assert.equal(isPrivateAddress(addr), true, addr);
      assert.equal(isPrivateAddress(`::ffff:${addr}`), true, addr);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (s) => {
      assert.equal(typeof isPrivateAddress(s), 'boolean');
    }), { numRuns: 500 });
  });
});

// ---- IPv6 forms, reserved ranges, and one verdict for every spelling ------------------------------

/** The non-public IPv4 ranges, written out independently of the implementation (which asks ipaddr.js). */
const NON_PUBLIC_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  // AS112 anycast DNS sinks and AMT relays: special-purpose too (ipaddr.js names them), no PSP endpoint lives there.
  ['192.175.48.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24],
];
const oracle = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V4) oracle.addSubnet(net, prefix, 'ipv4');

/** A few blocks of public addresses (Google, Cloudflare, Fastly, RIPE NCC, Akamai). */
const PUBLIC_V4: Array<[string, number]> = [['8.0.0.0', 8], ['1.1.1.0', 24], ['104.16.0.0', 13], ['151.101.0.0', 16], ['193.0.0.0', 21], ['23.0.0.0', 12]];
const PUBLIC_V6 = ['2001:4860', '2606:4700', '2a00:1450', '2a04:4e42', '2001:67c'];

const toInt = (dotted: string) => dotted.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toDotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hex = (n: number) => n.toString(16);
const inBlock = ([net, prefix]: [string, number]) =>
  fc.integer({ min: 0, max: 2 ** (32 - prefix) - 1 }).map((offset) => toDotted(toInt(net) + offset));
const group = fc.integer({ min: 0, max: 0xffff });

/** Every IPv6 spelling that carries the IPv4 address `v4`, named by the transition mechanism. */
function embeddings(v4: string, g: number): Record<string, string> {
  const n = toInt(v4);
  const high = hex(n >>> 16), low = hex(n & 0xffff);
  const clientHigh = hex((~n >>> 16) & 0xffff), clientLow = hex(~n & 0xffff);
  return {
    compatibleDotted: `::${v4}`,
    compatibleHex: `::${high}:${low}`,
    compatibleFull: `0:0:0:0:0:0:${high}:${low}`,
    mappedDotted: `::ffff:${v4}`,
    mappedHex: `::ffff:${high}:${low}`,
    mappedUpper: `0:0:0:0:0:FFFF:${v4}`,
    siit: `::ffff:0:${high}:${low}`,
    siitDotted: `::ffff:0:${v4}`,
    sixToFour: `2002:${high}:${low}::${hex(g)}`,
    sixToFourSubnet: `2002:${high}:${low}:${hex(g)}::1`,
    nat64: `64:ff9b::${high}:${low}`,
    nat64Dotted: `64:ff9b::${v4}`,
    nat64LocalUse: `64:ff9b:1::${high}:${low}`,
    teredoServer: `2001:0:${high}:${low}:8000:${hex(g)}:fefe:fefe`,
    teredoClient: `2001:0:808:808:8000:${hex(g)}:${clientHigh}:${clientLow}`,
  };
}

describe('isPrivateAddress: IPv6 forms and reserved ranges', () => {
  it('the IPv6 forms of 127.0.0.1 and the discard prefix are private', () => {
    for (const a of ['::127.0.0.1', '::7f00:1', '::ffff:0:7f00:1', '2002:7f00:1::', '100::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1',
      '2001:0:7f00:1::', '::a9fe:a9fe', '::ffff:0:a9fe:a9fe', '2002:a9fe:a9fe::1', '64:ff9b::169.254.169.254']) {
      assert.equal(isPrivateAddress(a), true, a);
      assert.equal(isPrivateAddress(`[${a}]`), true, `[${a}]`);
    }
  });

  it('every listed IPv4 range is private at both ends, as is each IPv6 form of its ends', () => {
    for (const [net, prefix] of NON_PUBLIC_V4) {
      const first = toInt(net), last = first + 2 ** (32 - prefix) - 1;
      for (const a of [toDotted(first), toDotted(last)]) {
        assert.equal(isPrivateAddress(a), true, a);
        for (const [form, v6] of Object.entries(embeddings(a, 1))) assert.equal(isPrivateAddress(v6), true, `${form} ${v6}`);
      }
      // Just outside the range the verdict is the oracle's (the neighbour may be another range).
      for (const n of [first - 1, last + 1]) {
        if (n < 0 || n > 0xffffffff) continue;
        assert.equal(isPrivateAddress(toDotted(n)), oracle.check(toDotted(n), 'ipv4'), toDotted(n));
      }
    }
    assert.equal(isPrivateAddress('255.255.255.255'), true);
    assert.equal(isPrivateAddress('169.254.169.254'), true, 'cloud metadata');
  });

  it('the reserved IPv6 ranges are private', () => {
    for (const a of ['::', '::1', '0:0:0:0:0:0:0:1', '100::', '100::ffff:ffff:ffff:ffff', 'fc00::1', 'fdff:ffff::1', 'fe80::1', 'febf:ffff::1',
      'fec0::1', 'feff::1', '2001:db8::1', '2001:db8:ffff::1', '3fff::1', '3fff:fff:ffff::1', 'ff00::', 'ff02::1', 'ff0e::101',
      '2001:2::1', '2001:2:0:ffff::1', '2001:10::1', '2001:20::1', '2001:2f::1', '2001:30::1', '2001:3::1', '2001:4:112::1', '5f00::1',
      // Not allocated for global unicast (outside 2000::/3).
      '::1:0:0:1', '1::', '4000::1', 'e000::1', '64:ff9a::1',
      // Teredo, whatever it carries.
      '2001::', '2001:0:808:808:8000:1234:fefe:fefe', '2001:0:4136:e378:8000:63bf:3fff:fdd2']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('zone ids and brackets are understood; a zone id never makes an address public', () => {
    for (const a of ['fe80::1%eth0', '[fe80::1%eth0]', 'fe80::1%25eth0', 'fe80::1%1', '::1%lo', '[::1]', '[::ffff:127.0.0.1]', 'FE80::1%ETH0',
      '2001:4860:4860::8888%eth0', '[2001:4860:4860::8888%eth0]']) {
      assert.equal(isPrivateAddress(a), a.startsWith('2001:4860') || a.startsWith('[2001:4860') ? false : true, a);
    }
    assert.equal(isPrivateAddress('[2001:4860:4860::8888]'), false);
    assert.equal(isPrivateAddress('[2606:4700:4700::1111]'), false);
    for (const a of ['[8.8.8.8]', '[2001:4860:4860::8888', '2001:4860:4860::8888]', '[[::1]]', '8.8.8.8%eth0', 'fe80::1%', '[]', '[ ::1]']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('public addresses and the forms that reach them are public', () => {
    for (const a of ['8.8.8.8', '::ffff:8.8.8.8', '::ffff:808:808', '::ffff:0:808:808', '::8.8.8.8', '64:ff9b::8.8.8.8', '64:ff9b::808:808',
      '2002:808:808::1', '2001:4860:4860::8888', '2606:4700:4700::1111', '2a00:1450:4001:81d::200e', '2001:67c:2e8:22::c100:68b']) {
      assert.equal(isPrivateAddress(a), false, a);
    }
  });

  it('property: for every IPv4 address in a non-public range, the address and every IPv6 form of it are private', () => {
    fc.assert(fc.property(fc.constantFrom(...NON_PUBLIC_V4).chain(inBlock), group, fc.constantFrom('', '%eth0'), fc.boolean(), (v4, g, zone, bracket) => {
      assert.equal(isPrivateAddress(v4), true, v4);
      for (const [form, v6] of Object.entries(embeddings(v4, g))) {
        const spelled = bracket ? `[${v6}${zone}]` : `${v6}${zone}`;
        assert.equal(isPrivateAddress(spelled), true, `${form} of ${v4}: ${spelled}`);
      }
    }), { numRuns: 1000 });
  });

  it('property: a public IPv4 address, its mapped, NAT64 and 6to4 forms are public; its Teredo forms are not', () => {
    fc.assert(fc.property(fc.constantFrom(...PUBLIC_V4).chain(inBlock), group, (v4, g) => {
      assert.equal(isPrivateAddress(v4), false, v4);
      const forms = embeddings(v4, g);
      for (const form of ['compatibleDotted', 'compatibleHex', 'mappedDotted', 'mappedHex', 'mappedUpper', 'siit', 'sixToFour', 'nat64', 'nat64Dotted'] as const) {
        assert.equal(isPrivateAddress(forms[form]), false, `${form} of ${v4}: ${forms[form]}`);
      }
      assert.equal(isPrivateAddress(forms.teredoServer), true, forms.teredoServer);
      assert.equal(isPrivateAddress(forms.nat64LocalUse), true, forms.nat64LocalUse);
    }), { numRuns: 500 });
  });

  it('property: IPv4 addresses are private exactly when an independent table of the ranges says so', () => {
    fc.assert(fc.property(fc.ipV4(), (v4) => {
      assert.equal(isPrivateAddress(v4), oracle.check(v4, 'ipv4'), v4);
      assert.equal(isPrivateAddress(`::ffff:${v4}`), oracle.check(v4, 'ipv4'), `::ffff:${v4}`);
    }), { numRuns: 2000 });
  });

  it('property: addresses in public IPv6 blocks are public, in any spelling', () => {
    fc.assert(fc.property(fc.constantFrom(...PUBLIC_V6), fc.array(group, { minLength: 6, maxLength: 6 }), (prefix, rest) => {
      const full = `${prefix}:${rest.map(hex).join(':')}`;
      for (const a of [full, full.toUpperCase(), `[${full}]`]) assert.equal(isPrivateAddress(a), false, a);
    }), { numRuns: 300 });
  });

  it('property: the verdict does not depend on how an IPv6 address is written', () => {
    const first = fc.oneof(group, fc.constantFrom(0, 0x64, 0x100, 0x2001, 0x2002, 0x3fff, 0x5f00, 0xfc00, 0xfe80, 0xfec0, 0xff02));
    const parts = fc.tuple(first, fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), group), { minLength: 7, maxLength: 7 }))
      .map(([a, rest]) => [a, ...rest]);
    fc.assert(fc.property(parts, (p) => {
      const full = p.map(hex).join(':');
      const padded = p.map((x) => hex(x).padStart(4, '0')).join(':');
      // The longest run of zero groups, compressed to "::".
      let best = [-1, 0], run = [-1, 0];
      p.forEach((x, i) => {
        if (x !== 0) { run = [-1, 0]; return; }
        run = run[0] < 0 ? [i, 1] : [run[0], run[1] + 1];
        if (run[1] > best[1]) best = run;
      });
      const short = best[1] < 2 ? full : `${p.slice(0, best[0]).map(hex).join(':')}::${p.slice(best[0] + best[1]).map(hex).join(':')}`;
      const verdict = isPrivateAddress(full);
      for (const a of [padded, short, short.toUpperCase(), `[${short}]`, `${short}%eth0`]) assert.equal(isPrivateAddress(a), verdict, `${a} vs ${full}`);
    }), { numRuns: 1000 });
  });

  it('property: never throws and always answers a boolean, for any string', () => {
    const spelling = fc.oneof(
      fc.string(),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.ipV6().map((a) => `[${a}]`),
      fc.tuple(fc.ipV6(), fc.string({ maxLength: 8 })).map(([a, z]) => `${a}%${z}`),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%[]'), maxLength: 45 }),
    );
    fc.assert(fc.property(spelling, (s) => { assert.equal(typeof isPrivateAddress(s), 'boolean'); }), { numRuns: 2000 });
  });
});

describe('the callback guards use the same check', () => {
  it('resolvesToPrivate refuses each IPv6 form of a private address at init, and lets public ones through', async () => {
    for (const url of ['https://[::127.0.0.1]/', 'https://[::7f00:1]/', 'https://[::ffff:0:7f00:1]/', 'https://[2002:7f00:1::]/', 'https://[100::1]/',
      'https://[::ffff:169.254.169.254]/latest', 'https://[64:ff9b::a00:1]/', 'https://[2001::1]/', 'https://10.0.0.1/']) {
      assert.ok(await resolvesToPrivate(url), url);
    }
    for (const url of ['https://[2001:4860:4860::8888]/mp', 'https://[::ffff:8.8.8.8]/mp', 'https://8.8.8.8/mp']) {
      assert.equal(await resolvesToPrivate(url), undefined, url);
    }
  });

  it('makePayment refuses to connect to a private address, as a literal or through a name that resolves to one', async () => {
    const client = new MakePaymentClient({ timeoutMs: 2000, allowPrivate: false });
    try {
      for (const url of ['https://[::127.0.0.1]:9/mp', 'https://[2002:7f00:1::]:9/mp', 'https://[::ffff:0:7f00:1]:9/mp']) {
        const result = await client.send(url, null, {});
        assert.equal(result.status, undefined, url);
        assert.match(result.error ?? '', /non-public address/, url);
      }
      const named = await client.send('https://localhost:9/mp', null, {});
      assert.equal(named.status, undefined);
      assert.match(named.error ?? '', /EPRIVATE.*resolves to the non-public address/);
    } finally {
      await client.close();
    }
  });
});
