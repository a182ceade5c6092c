// The manual's pieces: where a link between its files goes on the server, how a file is rendered
// (GitHub's heading ids, no raw HTML, no marker comments), and how the tests read its shell examples.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderGuide, servedHref } from '../../src/http/web/guide.ts';
import { commandsOf, expectationOf } from '../support/manual.ts';

describe('servedHref: links between the files of the manual', () => {
  it('maps the README, the guides, their headings and images to /guide', () => {
    assert.equal(servedHref('docs/epayment.md', 'README.md'), '/guide/epayment');
    assert.equal(servedHref('docs/epayment.md#what-it-implements', 'README.md'), '/guide/epayment#what-it-implements');
    assert.equal(servedHref('webhooks.md', 'docs/epayment.md'), '/guide/webhooks');
    assert.equal(servedHref('./webhooks.md#limits', 'docs/epayment.md'), '/guide/webhooks#limits');
    assert.equal(servedHref('../README.md#demo-credentials-test-environment', 'docs/operations.md'), '/guide#demo-credentials-test-environment');
    assert.equal(servedHref('landing-page.png', 'docs/users-side.md'), '/guide/landing-page.png');
    assert.equal(servedHref('docs/landing-page.png', 'README.md'), '/guide/landing-page.png');
  });

  it('leaves every other link as written', () => {
    for (const href of ['https://github.com/x', 'mailto:a@b.c', '/docs', '#here', '../openapi/README.md', 'docs/../../etc/passwd', 'docs/x.yaml', 'docs/sub/x.md']) {
      assert.equal(servedHref(href, 'docs/a.md'), undefined, href);
    }
    fc.assert(fc.property(fc.string(), (href) => {
      const served = servedHref(href, 'docs/a.md');
      assert.ok(served === undefined || /^\/guide(\/[a-z0-9-]+(\.png)?)?(#.*)?$/s.test(served), served);
    }));
  });
});

describe('renderGuide', () => {
  it('gives headings GitHub\'s ids, escapes raw HTML, drops marker comments and rewrites links', () => {
    const { title, html } = renderGuide([
      '# The `ePayment` API', '', '## Decisions where the published material is silent', '', '## Limits', '## Limits', '',
      '<!-- receiver -->', '<script>alert(1)</script>', '', 'See [webhooks](webhooks.md#limits) and [home](../README.md).',
      '', '![a picture](landing-page.png)',
    ].join('\n'), 'docs/epayment.md');
    assert.equal(title, 'The ePayment API');
    assert.match(html, /<h2 id="decisions-where-the-published-material-is-silent">/);
    assert.match(html, /<h2 id="limits">[\s\S]*<h2 id="limits-1">/);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('receiver'));
    assert.ok(html.includes('href="/guide/webhooks#limits"'));
    assert.ok(html.includes('href="/guide"'));
    assert.ok(html.includes('src="/guide/landing-page.png"'));
  });

  it('keeps a comment line that is code, in a fenced block', () => {
    const { html } = renderGuide(['# T', '', '```html', '<!-- keep me -->', '```', '', '<!-- receiver -->'].join('\n'), 'docs/t.md');
    assert.ok(html.includes('&lt;!-- keep me --&gt;'));
    assert.ok(!html.includes('receiver'));
  });
});

describe('the shell examples as the manual\'s test reads them', () => {
  it('cuts a block into its commands, each with the output shown after it', () => {
    const commands = commandsOf([
      'TOKEN=$(curl -s -X POST http://localhost:8080/accessToken/get \\',
      "  -H 'a: b' --data '' | sed -E 's/x/y/')",
      'H=(-H "Authorization: Bearer $TOKEN"',
      '   -H "Psp-Id: 1")',
      "curl -s http://localhost:8080/x \"${H[@]}\" -d '{",
      '  "a": "# not a comment",',
      "  \"b\": 1 }'",
      '# {"a":…}',
      '#  "b":1}',
      'npx vipps-psp fault list     # a trailing note, with an apostrophe: it\'s fine',
      '',
      '# prose about the next command',
      'curl -s -i -X DELETE http://localhost:8080/y',
      '# HTTP/1.1 204 No Content          (a note)',
    ].join('\n'));
    assert.equal(commands.length, 5);
    assert.match(commands[0].source, /^TOKEN=\$\(curl[\s\S]*sed -E 's\/x\/y\/'\)$/);
    assert.match(commands[1].source, /^H=\([\s\S]*"Psp-Id: 1"\)$/);
    assert.match(commands[2].source, /"# not a comment"/);
    assert.equal(commands[2].shown, '{"a":…}\n "b":1}');
    assert.equal(commands[3].shown, 'prose about the next command');
    assert.equal(commands[4].shown, 'HTTP/1.1 204 No Content          (a note)');
  });

  it('refuses what it cannot read in full, rather than check less than the manual shows', () => {
    assert.throws(() => commandsOf(`curl -s -d $'{"t":"it\\'s"}' http://localhost:8080/x\n# {"a":1}`), /still open/);
    assert.throws(() => commandsOf('# {"a":1}\ncurl -s http://localhost:8080/x'), /before any command/);
    const base = 'http://localhost:5555';
    assert.throws(() => expectationOf('HTTP/2 200', base), /HTTP\/1\.1/);
    assert.throws(() => expectationOf('204', base), /without the body/);
    assert.throws(() => expectationOf('{"a":1,…\n"b":2}', base), /does not end/);
  });

  it('reads what the output shown promises', () => {
    const base = 'http://localhost:5555';
    assert.deepEqual(expectationOf('prose about the next command', base), {});
    const created = expectationOf('201 {"id":"…","secret":"…"}   (the secret is shown only now)', base);
    assert.equal(created.status, 201);
    assert.ok(created.output!.test('{"id":"1","secret":"2"}'));
    assert.ok(!created.output!.test('{"id":"1"}'));
    const problem = expectationOf('{"type":"…","title":"Conflict","status":409,…}', base);
    assert.equal(problem.status, 409);
    const rule = expectationOf('{"id":1,…,"status":503,…}', base);
    assert.equal(rule.status, undefined, 'a status field of a body that is no problem');
    assert.equal(expectationOf('[{"errorCode":"idempotency_conflict",…}]', base).clientError, true);
    const line = expectationOf('HTTP/1.1 204 No Content', base);
    assert.equal(line.status, 204);
    assert.equal(line.firstLine, true);
    const url = expectationOf('{"redirectUrl":"http://localhost:8080/landing?token=…"}', base);
    assert.ok(url.output!.test('{"redirectUrl":"http://localhost:5555/landing?token=abc"}'));
    assert.ok(!url.output!.test('{"redirectUrl":"http://localhost:8080/landing?token=abc"}'));
  });
});
