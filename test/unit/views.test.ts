import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../../src/http/web/views.ts';

test('templates escape every interpolated value by default', () => {
  const html = render('_escape-check', { value: `<script>alert("x")</script>&'` });
  assert.equal(html.trim(), '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
});
