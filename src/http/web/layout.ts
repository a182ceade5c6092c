// What the user-facing pages share besides their templates: Norwegian formatting of amounts, dates
// and cards, and sending a rendered page with the pages' security headers. The frame itself is the
// template src/http/views/layout.eta; the pages are src/http/views/pages/*.eta.
import { brandInfo } from '../../domain/cards.ts';
import type { FastifyReply } from 'fastify';
import { applyPageHeaders, type PageHeaderOptions } from './security.ts';
import { render } from './views.ts';

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

export function cardLabel(card: { brand: string; last4: string }): string {
  const brand = brandInfo(card.brand).label;
  return `${brand} •••• ${card.last4}`;
}

/** What the frame of a page (layout.eta) takes besides the title the page's template sets. */
export interface FrameData {
  /** The logged-in app user: shows the app's navigation (its log-out form needs the CSRF token). */
  appUser?: { csrf: string };
  /**
   * Reload the page when GET `url` answers {"v"} other than `value` (script); without script, every
   * 5 s unless the page holds a form the user fills in (`noscriptRefresh: false`).
   */
  watch?: { url: string; value: string; noscriptRefresh?: boolean };
}

/** Renders the template pages/`view` with `data` and sends it as an HTML page with the pages' headers. */
export function sendPage(reply: FastifyReply, status: number, view: string, data: object, headers: PageHeaderOptions = {}): FastifyReply {
  applyPageHeaders(reply, headers);
  return reply.code(status).type('text/html; charset=utf-8').send(render(`pages/${view}`, data));
}
