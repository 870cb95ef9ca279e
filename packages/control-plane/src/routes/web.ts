import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { HangarError } from '@hangar/api';
import type { FastifyReply } from 'fastify';
import { routes } from './plugin.js';

/** Where packages/web builds the dashboard, seen from this file in packages/control-plane/dist. */
const defaultAppDir = fileURLToPath(new URL('../../../web/dist/app/', import.meta.url));

/**
 * No inline script or style, nothing from another origin: the page may only load its own files
 * and talk to this control plane.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const AssetParams = Type.Object({ file: Type.String() }, { additionalProperties: false });

/** A file name Vite writes: no directory, no leading dot. */
const assetName = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

async function sendFile(reply: FastifyReply, path: string, contentType: string) {
  const body = await readFile(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (!body) {
    throw new HangarError('not_found', 'no such file in the dashboard; rebuild with npm run build');
  }
  return reply
    .header('content-security-policy', contentSecurityPolicy)
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .type(contentType)
    .send(body);
}

/** Serves the web dashboard that packages/web builds: index.html at `/`, its files at /assets. */
export function webRoutes(appDir = defaultAppDir) {
  return routes((app) => {
    const access = { kind: 'public' as const, why: 'the dashboard files hold no data' };

    app.get(
      '/',
      { config: { access }, schema: { summary: 'The web dashboard (HTML)', security: [] } },
      async (_request, reply) => sendFile(reply, `${appDir}index.html`, 'text/html; charset=utf-8'),
    );

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
