// The frame of the user-facing pages and the formatting they share. Everything interpolated into
// HTML goes through escapeHtml; the pages load only /assets/app.css and /assets/app.js.
import { escapeHtml } from './html.ts';
import { CSRF_FIELD } from './security.ts';

export { escapeHtml };

const NBSP = '\u00a0';

/** Øre as Norwegian kroner: 49900 → "499,00 kr", 123456700 → "1 234 567,00 kr" (non-breaking spaces). */
export function formatNok(ore: number): string {
  const negative = ore < 0;
  const abs = Math.abs(Math.trunc(ore));
  const kroner = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  const cents = (abs % 100).toString().padStart(2, '0');
  return `${negative ? '−' : ''}${kroner},${cents}${NBSP}kr`;
}

const OSLO = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Oslo', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

/** "20.12.2017, 14:43" in Oslo time, as the app shows dates. */
export function formatDateTime(date: Date): string {
  const parts = Object.fromEntries(OSLO.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.day}.${parts.month}.${parts.year}, ${parts.hour}:${parts.minute}`;
}

export function csrfField(token: string): string {
  return `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(token)}">`;
}

export function cardLabel(card: { brand: string; last4: string }): string {
  const brand = card.brand === 'MASTERCARD' ? 'Mastercard' : card.brand === 'VISA' ? 'Visa' : card.brand;
  return `${brand} •••• ${card.last4}`;
}

export function brandMark(brand: string): string {
  const cls = brand === 'MASTERCARD' ? 'MASTERCARD' : 'VISA';
  return `<span class="brand ${cls}" aria-hidden="true">${brand === 'MASTERCARD' ? 'MC' : 'VISA'}</span>`;
}

export interface LayoutOptions {
  title: string;
  body: string;
  /** The logged-in app user: shows the app's navigation. */
  appUser?: { phone: string; name: string; csrf: string };
  /**
   * Reload the page when GET `url` answers {"v"} other than `value` (script); without script, every
   * 5 s unless the page holds a form the user fills in (`noscriptRefresh: false`).
   */
  watch?: { url: string; value: string; noscriptRefresh?: boolean };
}

export function layout(opts: LayoutOptions): string {
  const nav = opts.appUser
    ? `<nav aria-label="App"><ul>
<li><a href="/app">Requests</a></li>
<li><a href="/app/receipts">Receipts</a></li>
<li><form method="post" action="/app/logout">${csrfField(opts.appUser.csrf)}<button type="submit" class="link-button">Log out</button></form></li>
</ul></nav>`
    : '';
  const watchAttrs = opts.watch
    ? ` data-watch-url="${escapeHtml(opts.watch.url)}" data-watch-value="${escapeHtml(opts.watch.value)}"`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(opts.title)} · Vipps simulator</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
${opts.watch && opts.watch.noscriptRefresh !== false ? '<noscript><meta http-equiv="refresh" content="5"></noscript>' : ''}
</head>
<body>
<header class="top"><div><span class="logo">vipps</span><span class="sim">simulator</span></div>${nav}</header>
<main id="main"${watchAttrs}>
${opts.body}
</main>
</body>
</html>`;
}

export function errorPage(title: string, message: string, extra = ''): string {
  return layout({ title, body: `<h1>${escapeHtml(title)}</h1><p class="center">${escapeHtml(message)}</p>${extra}` });
}
