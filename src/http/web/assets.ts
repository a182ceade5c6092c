// The pages' only script, stylesheet and icon, served by the server itself (no build step, no CDN,
// nothing inline, so the CSP can forbid inline script and style).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Progressive enhancement only; every form works without it.
 * - A form marked data-progress disables the page's buttons and says "Processing…" once submitted
 *   (the answer comes when makePayment is over, which can take seconds).
 * - An element with data-watch-url polls that URL; when its {"v"} differs from data-watch-value the
 *   page reloads (new payment requests, a payment that expired or finished elsewhere), unless the
 *   page is being left by then.
 * - A hidden button with data-copy="<id>" appears where the clipboard can be written, and copies the
 *   text of the element <id> (the front door's curl).
 */
const SCRIPT = `(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-progress')) return;
    if (form.getAttribute('data-submitted') === '1') { event.preventDefault(); return; }
    form.setAttribute('data-submitted', '1');
    var submitter = event.submitter;
    var text = form.getAttribute('data-progress') || 'Processing\\u2026';
    // After the event, so that the form data is taken before anything is disabled.
    setTimeout(function () {
      document.querySelectorAll('form[data-progress] button').forEach(function (b) { b.disabled = true; });
      if (submitter) { submitter.textContent = text; submitter.setAttribute('aria-busy', 'true'); }
      var status = document.getElementById('progress');
      if (status) { status.textContent = text; status.hidden = false; }
    }, 0);
  });

  if (navigator.clipboard) {
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener('click', function () {
        navigator.clipboard.writeText(source.textContent).then(
          function () { button.textContent = 'Copied'; },
          function () { button.textContent = 'Select the text to copy it'; }
        ).then(function () { setTimeout(function () { button.textContent = label; }, 2000); });
      });
    });
  }

  var watched = document.querySelector('[data-watch-url]');
  if (watched) {
    var url = watched.getAttribute('data-watch-url');
    var value = watched.getAttribute('data-watch-value');
    var busy = false;
    // Once the page is left (a form sent, a link followed), its answer decides what comes next: a
    // reload then would abandon it. A check sent before may still be answered, so this is asked again
    // when its answer arrives.
    var leaving = false;
    // On the window, the submit event's last stop: whether another handler stopped it is known here.
    window.addEventListener('submit', function (event) { if (!event.defaultPrevented) leaving = true; });
    window.addEventListener('beforeunload', function () { leaving = true; });
    window.addEventListener('pageshow', function (event) { if (event.persisted) leaving = false; });
    setInterval(function () {
      if (busy || leaving) return;
      busy = true;
      fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.json(); })
        .then(function (body) { if (body && body.v !== value && !leaving) location.reload(); })
        .catch(function () {})
        .then(function () { busy = false; });
    }, 1000);
  }
})();
`;

const STYLE = `:root{--bg:#f3f3f6;--card:#fff;--text:#1d1d27;--muted:#5c5c6b;--brand:#ff5b24;--action:#c2410c;--action-hover:#9a3412;--purple:#3e2a82;--ok:#17663a;--ok-bg:#e3f4e9;--bad:#a11d1d;--bad-bg:#fbe7e7;--line:#e2e2e8;--focus:#1d4ed8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.top{display:flex;align-items:center;justify-content:space-between;flex-wrap:wrap;gap:.25rem .75rem;max-width:28rem;margin:0 auto;padding:.75rem 1rem}
.logo{font-weight:800;font-size:1.6rem;letter-spacing:-.02em;color:var(--brand);text-decoration:none}
.sim{font-size:.75rem;color:var(--muted);border:1px solid var(--line);border-radius:1rem;padding:.1rem .5rem;margin-left:.4rem;vertical-align:middle}
nav ul{list-style:none;margin:0;padding:0;display:flex;gap:.75rem;align-items:center;font-size:.9rem}
nav a,nav .link-button{color:var(--purple);font-weight:600;font-size:.9rem}
nav form{margin:0}
main{max-width:28rem;margin:0 auto 2rem;padding:1.5rem 1.25rem;background:var(--card);border-radius:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
@media (max-width:30rem){body{background:var(--card)}.top{max-width:none;background:var(--bg)}main{border-radius:0;box-shadow:none}}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .5rem;text-align:center}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
p{margin:.5rem 0}
.center{text-align:center}
.muted{color:var(--muted)}
.eyebrow{color:var(--muted);text-align:center;margin:.5rem 0 0;font-size:.9rem}
.merchant{text-align:center;margin:.1rem 0}
h2.merchant{font-size:1.25rem}
.org{color:var(--muted);text-align:center;text-transform:uppercase;font-size:.8rem;letter-spacing:.04em;margin:0 0 1rem}
.summary{background:var(--purple);color:#fff;border-radius:1rem;padding:1.25rem;text-align:center;margin:1rem 0}
.summary .amount{font-size:2.25rem;font-weight:700;margin:.25rem 0}
.summary .text{font-weight:600}
.summary .order{opacity:.85;font-size:.9rem}
.amount-line{text-align:center;color:var(--muted)}
.big-amount{font-size:2.25rem;font-weight:700;text-align:center;margin:.25rem 0}
label{display:block;font-weight:600;margin:1rem 0 .35rem}
.phone{display:flex;align-items:center;background:var(--bg);border:2px solid var(--line);border-radius:.6rem}
.phone:focus-within{border-color:var(--focus)}
.phone .prefix{padding:0 .25rem 0 .9rem;color:var(--muted);font-size:1.25rem}
.phone input{flex:1;min-width:0;border:0;background:transparent;font-size:1.25rem;padding:.75rem .75rem .75rem .4rem}
.phone input:focus{outline:none}
.pin{box-sizing:border-box;width:100%;font:inherit;font-size:1.25rem;letter-spacing:.2em;padding:.75rem .9rem;background:var(--bg);border:2px solid var(--line);border-radius:.6rem}
.pin:focus{outline:none;border-color:var(--focus)}
input[aria-invalid=true]{color:var(--bad)}
.error{color:var(--bad);background:var(--bad-bg);border-radius:.5rem;padding:.5rem .75rem;font-weight:600}
.hint{color:var(--muted);font-size:.9rem}
button,.button{display:inline-block;font:inherit;font-weight:700;border-radius:2rem;padding:.75rem 1.75rem;border:2px solid var(--action);cursor:pointer;text-decoration:none;text-align:center;min-height:44px}
.primary{background:var(--action);color:#fff}
.primary:hover{background:var(--action-hover);border-color:var(--action-hover)}
.secondary{background:#fff;color:var(--action)}
.link-button{background:none;border:0;color:var(--purple);padding:.25rem;font-weight:600;text-decoration:underline;min-height:0}
button:disabled{opacity:.6;cursor:progress}
a:focus-visible,button:focus-visible,input:focus-visible,iframe:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.actions{display:flex;flex-direction:column;gap:.75rem;align-items:stretch;margin-top:1.25rem}
.actions form{margin:0;display:flex;flex-direction:column}
fieldset{border:1px solid var(--line);border-radius:.75rem;padding:.5rem 1rem;margin:1rem 0}
legend{font-weight:600;padding:0 .25rem}
.card-option{display:flex;align-items:center;gap:.6rem;font-weight:500;margin:.5rem 0}
.card-option input{width:1.2rem;height:1.2rem}
.brand{display:inline-block;font-size:.7rem;font-weight:800;color:#fff;background:#1a1f71;border-radius:.25rem;padding:.05rem .35rem;letter-spacing:.03em}
.brand.MASTERCARD{background:#3a3a3a}
.brand.DANKORT{background:#c8102e}
body.mobilepay{--brand:#5a78ff;--action:#3f5bd9;--action-hover:#2f46b3;--purple:#1f2f7a}
.card-line{display:flex;gap:.6rem;align-items:center;margin:1rem 0}
.badge{display:inline-block;border-radius:1rem;padding:.1rem .7rem;font-weight:700;font-size:.9rem}
.badge.ok{color:var(--ok);background:var(--ok-bg)}
.badge.bad{color:var(--bad);background:var(--bad-bg)}
.badge.neutral{color:var(--muted);background:var(--bg)}
.status-line{text-align:center;margin:.5rem 0}
dl.details{display:grid;grid-template-columns:auto 1fr;gap:.5rem 1rem;margin:1.25rem 0}
dl.details dt{font-weight:600}
dl.details dd{margin:0;text-align:right;overflow-wrap:anywhere}
ul.list{list-style:none;margin:0;padding:0}
ul.list li{border-bottom:1px solid var(--line)}
ul.list a{display:flex;justify-content:space-between;gap:1rem;padding:.85rem .25rem;color:inherit;text-decoration:none}
ul.list a:hover .title{text-decoration:underline}
ul.list .title{font-weight:600;display:block}
ul.list .sub{color:var(--muted);font-size:.9rem;display:block}
ul.list .right{text-align:right;white-space:nowrap}
.phone-art{width:4.5rem;height:7.5rem;margin:1rem auto;border-radius:.6rem;background:#6f6a8c;padding:.6rem .35rem;display:flex}
.phone-art span{flex:1;background:#fff;border-radius:.2rem;display:flex;align-items:center;justify-content:center;color:var(--brand);font-weight:800}
.threeds{width:100%;height:22rem;border:1px solid var(--line);border-radius:.75rem;background:#fff}
.progress{text-align:center;font-weight:600}
.footer-links{text-align:center;margin-top:1.25rem}
.wide .top,.wide main{max-width:44rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.9em;overflow-wrap:anywhere}
pre.code{background:var(--bg);border:1px solid var(--line);border-radius:.6rem;padding:.75rem 1rem;margin:.75rem 0;overflow-x:auto;font-size:.85rem;line-height:1.5}
pre.code code{font-size:inherit;overflow-wrap:normal}
.manual .top,.manual main{max-width:64rem}
.guide-nav ul{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.25rem .9rem;font-size:.9rem}
.guide-nav a[aria-current]{font-weight:700;color:inherit;text-decoration:none}
.guide h1{text-align:left}
.guide h1 a,.guide h2 a,.guide h3 a,.guide h4 a{color:inherit;text-decoration:none}
.guide pre{background:var(--bg);border:1px solid var(--line);border-radius:.6rem;padding:.75rem 1rem;margin:.75rem 0;overflow-x:auto;font-size:.8rem;line-height:1.45}
.guide pre code{font-size:inherit;overflow-wrap:normal}
.guide table{border-collapse:collapse;margin:.75rem 0;font-size:.9rem;display:block;overflow-x:auto}
.guide th,.guide td{border:1px solid var(--line);padding:.35rem .55rem;text-align:left;vertical-align:top}
.guide img{max-width:100%;height:auto}
@media (max-width:36rem){dl.credentials{grid-template-columns:1fr;gap:0}dl.credentials dd{text-align:left;margin-bottom:.6rem}}
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#ff5b24"/><path d="M9 15a7 7 0 0 0 14 0" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/><circle cx="20" cy="9.5" r="2.3" fill="#fff"/></svg>`;

export interface Asset {
  body: string;
  type: string;
  etag: string;
}

/** A static asset with its content-hash ETag. */
export function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

export const ASSETS: Record<string, Asset> = {
  'app.js': asset(SCRIPT, 'text/javascript; charset=utf-8'),
  'app.css': asset(STYLE, 'text/css; charset=utf-8'),
  'icon.svg': asset(ICON, 'image/svg+xml'),
};

/** GET /assets/:name (under the scope's prefix) from `assets`, with ETag revalidation. */
export function registerAssetRoutes(app: FastifyInstance, assets: Record<string, Asset> = ASSETS): void {
  app.get('/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const found = Object.hasOwn(assets, name) ? assets[name] : undefined;
    reply.header('x-content-type-options', 'nosniff').header('cross-origin-resource-policy', 'same-origin');
    if (!found) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    reply.header('etag', found.etag).header('cache-control', 'public, max-age=300, must-revalidate');
    if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
    return reply.type(found.type).send(found.body);
  });
}
