// The manual, served: GET /guide is the README (the front page) and GET /guide/{name} the guide
// docs/{name}.md, rendered from the Markdown files the package ships; GET /guide/{name}.png their images.
//
// - Rendered with markdown-it, raw HTML off: every character of the files is escaped or made into
//   Markdown's own elements, so the HTML is safe to put into the page as it is. The HTML comments
//   the files hold for their tests (`<!-- receiver -->`, `<!-- example: … -->`) are left out.
// - Headings get GitHub's ids (github-slugger), so a link `epayment.md#decisions-…` works both on a
//   repository host and here.
// - Links between the files are rewritten to the served pages: `docs/x.md#a` → `/guide/x#a`,
//   `../README.md` → `/guide`, images to `/guide/x.png`. Other links are left as written.
// - Each page is rendered once, on its first request, and kept: the files do not change while the
//   server runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import MarkdownIt, { type Token } from 'markdown-it';
import anchor from 'markdown-it-anchor';
import { slug } from 'github-slugger';
import { sendPage } from './layout.ts';
import { applyPageHeaders, WebError } from './security.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = path.join(ROOT, 'docs');

/** A page of the manual: its name in /guide/{name} ('' for the front page) and its file. */
export interface GuidePage {
  name: string;
  file: string;
}

/** The pages the package holds: the README and every docs/*.md; and the images beside them. */
export function guideFiles(): { pages: GuidePage[]; images: string[] } {
  const entries = existsSync(DOCS) ? readdirSync(DOCS).sort() : [];
  const pages: GuidePage[] = [{ name: '', file: path.join(ROOT, 'README.md') }];
  for (const entry of entries) {
    if (entry.endsWith('.md') && entry !== 'README.md') pages.push({ name: entry.slice(0, -3), file: path.join(DOCS, entry) });
  }
  return { pages, images: entries.filter((e) => /^[a-z0-9-]+\.png$/.test(e)) };
}

/**
 * Where a link in the file `from` (relative to the repository's root, e.g. `docs/epayment.md`) goes on
 * the server, or undefined when it is not a link between the manual's files (left as written).
 */
export function servedHref(href: string, from: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.startsWith('#')) return undefined;
  const hashAt = href.indexOf('#');
  const target = hashAt < 0 ? href : href.slice(0, hashAt);
  const hash = hashAt < 0 ? '' : href.slice(hashAt);
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(from), target));
  if (resolved === 'README.md') return `/guide${hash}`;
  const doc = /^docs\/([a-z0-9-]+)\.md$/.exec(resolved);
  if (doc) return `/guide/${doc[1]}${hash}`;
  const image = /^docs\/([a-z0-9-]+\.png)$/.exec(resolved);
  if (image) return `/guide/${image[1]}`;
  return undefined;
}

/** The Markdown renderer of the manual for the file `from` (its path from the repository's root). */
function rendererFor(from: string): InstanceType<typeof MarkdownIt> {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.use(anchor, { slugify: (s: string) => slug(s), tabIndex: false, permalink: anchor.permalink.headerLink({ safariReaderFix: true }) });
  const rewrite = (attr: 'href' | 'src') => (tokens: Token[], idx: number): void => {
    const value = tokens[idx].attrGet(attr);
    const served = typeof value === 'string' ? servedHref(value, from) : undefined;
    if (served !== undefined) tokens[idx].attrSet(attr, served);
  };
  const linkOpen = md.renderer.rules.link_open;
  const rewriteHref = rewrite('href');
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    rewriteHref(tokens, idx);
    return linkOpen ? linkOpen(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
  const image = md.renderer.rules.image;
  const rewriteSrc = rewrite('src');
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    rewriteSrc(tokens, idx);
    return image ? image(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
  return md;
}

/**
 * The manual's contents: the front page, then the guides in the order the README's list of them
 * (its section "The manual") names them, with those links' text as titles; a guide the README does not link comes last, under its heading.
 */
function contentsOf(pages: GuidePage[]): { name: string; href: string; title?: string }[] {
  const readme = readFileSync(pages[0].file, 'utf8');
  // The README's own list of the guides, under "## The manual"; its other links do not set the order.
  const list = readme.split(/^## The manual$/m)[1]?.split(/^## /m)[0] ?? readme;
  const named = new Map<string, string>();
  for (const m of list.matchAll(/\[([^\]]+)\]\(docs\/([a-z0-9-]+)\.md\)/g)) if (!named.has(m[2])) named.set(m[2], m[1]);
  const order = [...named.keys()];
  const guides = pages.slice(1).sort((a, b) => {
    const ia = order.indexOf(a.name), ib = order.indexOf(b.name);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.name.localeCompare(b.name);
  });
  return [
    { name: '', href: '/guide', title: 'Start here' },
    ...guides.map((p) => ({ name: p.name, href: `/guide/${p.name}`, ...(named.has(p.name) ? { title: named.get(p.name) } : {}) })),
  ];
}

/**
 * The file's Markdown without the lines that are only an HTML comment (markers for the tests);
 * inside a fenced code block such a line is code, and stays.
 */
export function withoutCommentLines(markdown: string): string {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    return fenced || !/^\s*<!--.*-->\s*$/.test(line);
  }).join('\n');
}

export interface RenderedGuide {
  title: string;
  html: string;
}

/** Renders one file of the manual. `from` is its path from the repository's root. */
export function renderGuide(markdown: string, from: string): RenderedGuide {
  const source = withoutCommentLines(markdown);
  const title = /^#\s+(.+)$/m.exec(source)?.[1].replace(/[`*]/g, '').trim() ?? 'vipps-psp';
  return { title, html: rendererFor(from).render(source) };
}

/** The routes, registered in a scope with the prefix /guide. */
export function registerGuideRoutes(app: FastifyInstance, hsts: boolean): void {
  const { pages, images } = guideFiles();
  const byName = new Map(pages.map((p) => [p.name, p]));
  const rendered = new Map<string, RenderedGuide>();
  const contents = contentsOf(pages);
  const imageBodies = new Map<string, Buffer>();

  const page = (name: string): RenderedGuide => {
    let done = rendered.get(name);
    if (!done) {
      const found = byName.get(name);
      if (!found) throw new WebError(404, 'Page not found', 'The manual has no page at this address. Its contents are at /guide.');
      done = renderGuide(readFileSync(found.file, 'utf8'), path.relative(ROOT, found.file).split(path.sep).join('/'));
      rendered.set(name, done);
    }
    return done;
  };
  // Made once, on the first page shown (a guide the README does not list takes its title from its heading).
  let titledContents: Array<{ name: string; href: string; title: string }> | undefined;
  const titled = () => (titledContents ??= contents.map((c) => ({ ...c, title: c.title ?? page(c.name).title })));

  const show = (name: string, reply: FastifyReply) => {
    const guide = page(name);
    return sendPage(reply, 200, 'guide', { title: guide.title, html: guide.html, contents: titled(), current: name }, { hsts });
  };

  app.get('/', async (_request, reply) => show('', reply));
  app.get('/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (name.endsWith('.png')) {
      if (!images.includes(name)) throw new WebError(404, 'Page not found', 'The manual has no image at this address.');
      let body = imageBodies.get(name);
      if (!body) imageBodies.set(name, (body = readFileSync(path.join(DOCS, name))));
      applyPageHeaders(reply, { hsts });
      reply.header('cache-control', 'public, max-age=3600');
      return reply.type('image/png').send(body);
    }
    return show(name.toLowerCase(), reply);
  });
}
