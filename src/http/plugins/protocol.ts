// The HTTP letter of the published specs, for the four APIs (PSP API /psp/*, Signup API
// /merchant-management/*, token endpoint /accessToken/*, operator API /admin/*):
//   - 405 "Request method not supported", with an Allow header, for a method a known path does not
//     support (unknown paths stay 404). The known paths and their methods are the registered routes,
//     collected as they are registered; matched like the router does: any case, an optional trailing
//     slash, `:name` segments;
//   - 415 "Unsupported media type" for a request body that is not JSON (application/json or
//     application/*+json, any parameters) on the PSP, Signup and operator APIs. The token endpoint
//     takes its credentials in headers and ignores its body, so any body or none is fine there;
//   - the media type of the answers as the OpenAPI files declare it: application/json;charset=UTF-8 for
//     the Signup API and the PSP API, except the PSP operations that declare plain application/json
//     (a route says so with `config: { mediaType }`). The token endpoint and the operator API keep
//     Fastify's media types (application/json; charset=utf-8, application/problem+json).
// The errors are rendered by plugins/errors.ts in the shape of each API.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ApiError } from '../../domain/errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The media type the spec declares for this operation's answers (PSP and Signup APIs). */
    mediaType?: string;
  }
}

/** The media type psp-api.openapi.yaml and psp-signup-api.openapi.yaml declare for most answers. */
export const SPEC_JSON = 'application/json;charset=UTF-8';

export type Api = 'psp' | 'signup' | 'token' | 'operator' | 'epayment' | 'webhooks';

/** The API a request path belongs to; undefined for the pages, assets, health and JWKS. */
export function apiOf(path: string): Api | undefined {
  const p = path.toLowerCase();
  if (p.startsWith('/psp/')) return 'psp';
  if (p.startsWith('/merchant-management/')) return 'signup';
  if (p.startsWith('/epayment/')) return 'epayment';
  if (p.startsWith('/webhooks/')) return 'webhooks';
  if (p === '/accesstoken' || p.startsWith('/accesstoken/')) return 'token';
  if (p === '/admin' || p.startsWith('/admin/')) return 'operator';
  return undefined;
}

/** Whether a Content-Type names JSON: application/json or application/<anything>+json, any parameters. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const essence = contentType.split(';')[0].trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(essence);
}

function pathOf(url: string): string {
  return url.split('?')[0];
}

interface KnownPath {
  pattern: string;
  matcher: RegExp;
  methods: Set<string>;
  mediaType?: string;
}

/** A route pattern as the router matches it: any case, an optional trailing slash, `:name` = one segment. */
function compile(pattern: string): RegExp {
  const segments = pattern.split('/').map((segment) => {
    if (segment.startsWith(':')) return '[^/]+';
    if (segment === '*') return '.*';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  const body = segments.join('/').replace(/\/$/, '');
  return new RegExp(`^${body}/?$`, 'i');
}

/** The registered routes of the four APIs: for a path, the methods it supports. */
export class RouteInventory {
  private readonly paths = new Map<string, KnownPath>();

  add(route: Pick<RouteOptions, 'url' | 'method' | 'config'>): void {
    if (apiOf(route.url) === undefined) return;
    let known = this.paths.get(route.url);
    if (!known) {
      known = { pattern: route.url, matcher: compile(route.url), methods: new Set() };
      this.paths.set(route.url, known);
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) known.methods.add(method.toUpperCase());
    const mediaType = (route.config as { mediaType?: string } | undefined)?.mediaType;
    if (mediaType !== undefined) known.mediaType = mediaType;
  }

  /** The methods of every route whose pattern matches `path` (undefined when none does), and its media type. */
  match(path: string): { methods: string[]; mediaType?: string } | undefined {
    let decoded = path;
    try { decoded = decodeURI(path); } catch { /* malformed escapes: match the path as sent */ }
    const methods = new Set<string>();
    let mediaType: string | undefined;
    for (const known of this.paths.values()) {
      if (!known.matcher.test(decoded)) continue;
      for (const m of known.methods) methods.add(m);
      mediaType ??= known.mediaType;
    }
    return methods.size === 0 ? undefined : { methods: [...methods].sort(), mediaType };
  }
}

function hasBody(request: FastifyRequest): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}

/** The media type of an answer of the PSP or Signup API, as its spec declares it. */
function specMediaType(request: FastifyRequest, inventory: RouteInventory): string {
  const declared = request.is404 ? inventory.match(pathOf(request.url))?.mediaType : request.routeOptions.config.mediaType;
  return declared ?? SPEC_JSON;
}

/** Must be called before the API routes are registered: it collects them as they are. */
export function registerProtocolRules(app: FastifyInstance): RouteInventory {
  const inventory = new RouteInventory();
  app.addHook('onRoute', (route) => inventory.add(route));

  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = pathOf(request.url);
    if (apiOf(path) === undefined) return;
    const known = inventory.match(path);
    if (!known) return;
    const allow = known.methods.join(', ');
    reply.header('allow', allow);
    throw new ApiError(405, '405', `Request method not supported: ${request.method} ${path}. Allowed: ${allow}.`, {
      title: 'Request method not supported',
    });
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.is404 || request.method === 'GET' || request.method === 'HEAD') return payload;
    const api = apiOf(request.routeOptions.url ?? pathOf(request.url));
    if (api === undefined || api === 'token' || !hasBody(request)) return payload;
    const contentType = request.headers['content-type'];
    if (isJsonMediaType(contentType)) return payload;
    throw new ApiError(415, 'unsupported_media_type',
      `Unsupported media type: ${contentType === undefined ? 'no Content-Type' : `Content-Type ${contentType.slice(0, 100)}`}. Send the body as application/json.`,
      { title: 'Unsupported media type' });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const api = apiOf(pathOf(request.url));
    if (api !== 'psp' && api !== 'signup') return payload;
    const current = reply.getHeader('content-type');
    if (typeof current === 'string' && /^application\/(problem\+)?json\b/i.test(current)) {
      reply.header('content-type', specMediaType(request, inventory));
    }
    return payload;
  });

  return inventory;
}
