// The template layer of every server-rendered page: Eta templates under src/http/views/, escaped by
// default (`<%= %>` escapes; only `<%~ %>` writes raw HTML, and only for HTML another template made).
// Templates are compiled once and cached; a page is a function of the data it is given.
//
// A template file's final newline is not part of its output, so partials and layouts compose without
// stray blank lines.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

export const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));

const eta = new Eta({
  views: VIEWS_DIR, cache: true, autoEscape: true, autoTrim: false, useWith: false,
  plugins: [{ processTemplate: (text: string) => text.replace(/\r?\n$/, '') }],
});

/** Renders the template `name` (a path under src/http/views/, without `.eta`) with `data` as `it`. */
export function render(name: string, data: object = {}): string {
  return eta.render(name.startsWith('./') || name.startsWith('/') ? name : `./${name}`, data);
}
