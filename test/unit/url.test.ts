import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPrivateAddress, isValidHttpUrl } from '../../src/domain/url.ts';

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
      'https://xn--bcher-kva.example',
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
      tld: fc.stringMatching(/^[a-z]{2,6}$/),
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
