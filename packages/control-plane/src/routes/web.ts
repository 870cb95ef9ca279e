import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { HangarError } from '@hangar/api';
import type { FastifyReply } from 'fastify';
import type { Context } from '../context.js';
import { routes } from './plugin.js';

/** Where packages/web builds the dashboard, seen from this file in packages/control-plane/dist. */
const defaultAppDir = fileURLToPath(new URL('../../../web/dist/app/', import.meta.url));

/**
 * No inline script or style, nothing from another origin: the page may only load its own files,
 * talk to this control plane, and reach the runners' gateways (`gatewayOrigins`, with their
 * WebSocket forms), which serve terminals, logs, ports and transcripts straight to the browser.
 */
export function contentSecurityPolicy(gatewayOrigins: readonly string[] = []): string {
  const connect = ["'self'", ...gatewayOrigins.flatMap((origin) => [origin, webSocketOf(origin)])];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function webSocketOf(origin: string): string {
  return origin.replace(/^http/, 'ws');
}

/** The distinct http(s) origins of the gateways of runners that are not disabled. */
async function gatewayOriginsOf(context: Context): Promise<string[]> {
  const rows = await context.db.query<{ gateway_url: string | null }>(
    'SELECT gateway_url FROM runners WHERE gateway_url IS NOT NULL AND disabled_at IS NULL',
  );
  const origins = new Set<string>();
  for (const { gateway_url: url } of rows) {
    const origin = originOf(url ?? '');
    if (origin) origins.add(origin);
  }
  return [...origins].sort();
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The dashboard's own pages: each is index.html, and the app shows the page the path names. */
export const appPaths = [
  '/',
  '/sign-in/callback',
  '/environments/:id',
  '/agents',
  '/agents/:id',
  '/audit',
  '/runners',
  '/org',
] as const;

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const PageParams = Type.Object(
  { id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) },
  { additionalProperties: false },
);

const AssetParams = Type.Object({ file: Type.String() }, { additionalProperties: false });

/** A file name Vite writes: no directory, no leading dot. */
const assetName = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

async function sendFile(
  reply: FastifyReply,
  path: string,
  contentType: string,
  csp = contentSecurityPolicy(),
) {
  const body = await readFile(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (!body) {
    throw new HangarError('not_found', 'no such file in the dashboard; rebuild with npm run build');
  }
  return reply
    .header('content-security-policy', csp)
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .type(contentType)
    .send(body);
}

/**
 * Serves the web dashboard that packages/web builds: index.html at each of its pages' paths, its
 * files at /assets.
 */
export function webRoutes(context: Context, appDir = defaultAppDir) {
  return routes((app) => {
    const access = { kind: 'public' as const, why: 'the dashboard files hold no data' };

    for (const path of appPaths) {
      app.get(
        path,
        {
          config: { access },
          schema: {
            summary: 'The web dashboard (HTML)',
            security: [],
            ...(path.includes(':id') ? { params: PageParams } : {}),
          },
        },
        async (_request, reply) =>
          sendFile(
            reply,
            `${appDir}index.html`,
            'text/html; charset=utf-8',
            contentSecurityPolicy(await gatewayOriginsOf(context)),
          ),
      );
    }

    app.get(
      '/assets/:file',
      {
        config: { access },
        schema: {
          summary: 'A script, style sheet or image of the web dashboard',
          security: [],
          params: AssetParams,
        },
      },
      async (request, reply) => {
        const { file } = request.params;
        const contentType = assetName.test(file) ? contentTypes[extname(file)] : undefined;
        if (!contentType) throw new HangarError('not_found', 'no such file in the dashboard');
        return sendFile(reply, `${appDir}assets/${file}`, contentType);
      },
    );
  });
}
