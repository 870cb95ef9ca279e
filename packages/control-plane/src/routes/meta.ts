import { Type } from 'typebox';
import type { Context } from '../context.js';
import { routes } from './plugin.js';

export function metaRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/openapi.json',
      {
        config: { access: { kind: 'public', why: 'the API description holds no data' } },
        schema: { hide: true },
      },
      async () => app.swagger(),
    );

    app.get(
      '/v1/health',
      {
        config: { access: { kind: 'public', why: 'liveness probes carry no credentials' } },
        schema: {
          summary: 'Liveness and the control plane public key',
          security: [],
          response: {
            200: Type.Object({ ok: Type.Boolean(), publicKey: Type.String() }),
          },
        },
      },
      async () => ({ ok: true, publicKey: context.signingKey.publicKeyRaw }),
    );
  });
}
