// The console's own stylesheet and script, served from /console/assets/ (nothing inline, nothing from
// elsewhere, so the CSP can stay `script-src 'self'; style-src 'self'`). Pages work without the script.
import type { FastifyInstance } from 'fastify';
import { asset, registerAssetRoutes, type Asset } from '../web/assets.ts';

/**
 * Progressive enhancement only:
 * - [data-copy="ID"] buttons copy the text of the element ID (and are hidden without script);
 * - a table body with data-events-url listens to that server-sent event stream and puts each new
 *   payment it announces at the top of the list (cells built with textContent, never as HTML).
 */
const SCRIPT = `(function () {
  'use strict';
  document.querySelectorAll('[data-copy]').forEach(function (button) {
    var target = document.getElementById(button.getAttribute('data-copy'));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(target.value !== undefined ? target.value : target.textContent).then(function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 2000);
      }, function () {
        if (target.select) target.select();
      });
    });
  });

  // [data-poll-url]: every 2 s its JSON fills the [data-field=NAME] inside it; when "running" turns
  // false the page reloads to show the result. A page drawn while a run was running (data-running)
  // counts as running: a run that ends before the first poll still brings the reload.
  var polled = document.querySelector('[data-poll-url]');
  if (polled) {
    var pollUrl = polled.getAttribute('data-poll-url');
    var wasRunning = polled.getAttribute('data-running') === 'true' ? true : null;
    var pollTimer = setInterval(function () {
      fetch(pollUrl, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) {
          polled.querySelectorAll('[data-field]').forEach(function (el) {
            var name = el.getAttribute('data-field');
            if (Object.prototype.hasOwnProperty.call(data, name)) el.textContent = String(data[name]);
          });
          if (wasRunning === null) wasRunning = data.running === true;
          else if (wasRunning && data.running === false) { clearInterval(pollTimer); location.reload(); }
        })
        .catch(function () { clearInterval(pollTimer); });
    }, 2000);
  }

  var body = document.querySelector('tbody[data-events-url]');
  if (body && window.EventSource) {
    var status = document.getElementById('live-status');
    var source = new EventSource(body.getAttribute('data-events-url'));
    source.addEventListener('open', function () { if (status) status.textContent = 'Live: new payments appear at the top.'; });
    source.addEventListener('error', function () { if (status) status.textContent = 'Live updates paused; reload to see new payments.'; });
    source.addEventListener('payment', function (event) {
      var p;
      try { p = JSON.parse(event.data); } catch (e) { return; }
      if (document.getElementById('payment-' + p.paymentId)) return;
      var row = document.createElement('tr');
      row.id = 'payment-' + p.paymentId;
      row.className = 'fresh';
      var cells = [p.created, null, p.pspId, p.msn, p.amount, p.state, p.merchantOrderId];
      cells.forEach(function (value, i) {
        var cell = document.createElement('td');
        if (i === 1) {
          var link = document.createElement('a');
          link.href = p.href;
          link.textContent = p.pspTransactionId;
          cell.appendChild(link);
        } else {
          cell.textContent = value;
        }
        if (i === 5) cell.className = 'state state-' + String(p.state).toLowerCase();
        if (i === 4) cell.className = 'num';
        row.appendChild(cell);
      });
      body.insertBefore(row, body.firstChild);
      var empty = document.getElementById('no-payments');
      if (empty) empty.hidden = true;
    });
  }
})();
`;

const STYLE = `:root{--bg:#f4f4f7;--card:#fff;--text:#1d1d27;--muted:#5c5c6b;--brand:#ff5b24;--purple:#3e2a82;--line:#dedee6;--ok:#17663a;--ok-bg:#e3f4e9;--bad:#a11d1d;--bad-bg:#fbe7e7;--warn:#7a4b00;--warn-bg:#fff3d6;--focus:#1d4ed8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
a{color:var(--purple)}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem;z-index:2}
header.bar{background:var(--purple);color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
header.bar .name{font-weight:800;font-size:1.1rem;color:#fff;text-decoration:none;margin-right:auto}
header.bar form{margin:0}
header.bar .link-button{color:#fff}
header.bar .bar-link{color:#fff}
header.bar .bar-who{color:#fff;opacity:.85;font-size:.9em}
form.inline{display:inline}
ul.plain{list-style:none;padding-left:0}
nav.main{background:#fff;border-bottom:1px solid var(--line);overflow-x:auto}
nav.main ul{list-style:none;margin:0 auto;padding:0 .5rem;display:flex;gap:.25rem;max-width:80rem}
nav.main a{display:block;padding:.7rem .6rem;text-decoration:none;color:var(--muted);font-weight:600;white-space:nowrap;border-bottom:3px solid transparent}
nav.main a[aria-current=page]{color:var(--purple);border-bottom-color:var(--brand)}
main{max-width:80rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1rem;margin:0 0 1rem}
.card>h2:first-child,.card>h1:first-child{margin-top:0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
.muted,.hint{color:var(--muted)}
.hint{font-size:.9rem}
.error{color:var(--bad);background:var(--bad-bg);border-radius:.4rem;padding:.5rem .75rem;font-weight:600}
.notice{color:var(--ok);background:var(--ok-bg);border-radius:.4rem;padding:.5rem .75rem;font-weight:600}
.warning{color:var(--warn);background:var(--warn-bg);border-radius:.4rem;padding:.5rem .75rem}
.table-wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:.6rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.fresh{background:#f0fff4}
.state{font-weight:700;white-space:nowrap}
.state-reserved{color:var(--ok)}.state-failed,.state-timeout,.state-user_cancel{color:var(--bad)}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.3rem 1rem;margin:0}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600;color:var(--muted);gap:.2rem;max-width:100%;min-width:0}
form.filters select{max-width:18rem;width:100%}
label{font-weight:600}
input,select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid #b9b9c6;border-radius:.4rem;background:#fff;max-width:100%}
textarea{width:100%;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
button,.button{display:inline-block;font:inherit;font-weight:700;border-radius:.4rem;padding:.5rem 1rem;border:1px solid var(--purple);background:var(--purple);color:#fff;cursor:pointer;text-decoration:none;min-height:40px}
.button.secondary,button.secondary{background:#fff;color:var(--purple)}
button.danger{background:var(--bad);border-color:var(--bad)}
.link-button{background:none;border:0;padding:.25rem;text-decoration:underline;font-weight:600;min-height:0;color:var(--purple)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
.actions form{margin:0}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
ol.timeline{list-style:none;margin:0;padding:0;border-left:3px solid var(--line)}
ol.timeline li{margin:0 0 .75rem;padding:.1rem 0 .1rem 1rem;position:relative}
ol.timeline li::before{content:"";position:absolute;left:-.5rem;top:.5rem;width:.7rem;height:.7rem;border-radius:50%;background:var(--purple)}
ol.timeline li.bad::before{background:var(--bad)}
ol.timeline li.ok::before{background:var(--ok)}
ol.timeline .when{color:var(--muted);font-size:.85rem;font-variant-numeric:tabular-nums}
ol.timeline .what{font-weight:700}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7fa;border:1px solid var(--line);border-radius:.4rem;padding:.5rem;margin:.3rem 0;font-size:.85rem}
.met{color:var(--ok);font-weight:700}.unmet{color:var(--bad);font-weight:700}
details summary{cursor:pointer;color:var(--purple);font-weight:600}
.pager{display:flex;gap:1rem;justify-content:space-between;align-items:center;margin:.75rem 0}
.signin{max-width:24rem;margin:3rem auto}
.signin input{width:100%}
@media (max-width:40rem){main{padding:.6rem}dl.facts{grid-template-columns:1fr}dl.facts dt{margin-top:.3rem}th,td{padding:.4rem}}
`;


const ASSETS: Record<string, Asset> = {
  'console.js': asset(SCRIPT, 'text/javascript; charset=utf-8'),
  'console.css': asset(STYLE, 'text/css; charset=utf-8'),
};

/** Asset URLs carry their hash so a changed file is never taken from a cache. */
export const ASSET_URLS = {
  script: `/console/assets/console.js?v=${ASSETS['console.js'].etag.slice(1, 9)}`,
  style: `/console/assets/console.css?v=${ASSETS['console.css'].etag.slice(1, 9)}`,
};

export function registerConsoleAssets(scope: FastifyInstance): void {
  registerAssetRoutes(scope, ASSETS);
}
