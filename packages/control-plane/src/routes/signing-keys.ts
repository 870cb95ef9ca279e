import { Type } from 'typebox';
import { AddSigningKeyBody, Id, SigningKeyList, SigningKeySchema } from '@hangar/api';
import type { Context } from '../context.js';
import { builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { addSigningKey, listSigningKeys, revokeSigningKey } from '../services/signing-keys.js';
import { metaOf, routes } from './plugin.js';

export function signingKeyRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/signing-keys',
      {
        config: { access: userRule('secrets:write', builders) },
        schema: {
          summary: 'Register the Ed25519 key you sign sealed secrets with',
          body: AddSigningKeyBody,
          response: { 201: SigningKeySchema },
        },
      },
      async (request, reply) => {
        const key = await addSigningKey(
          context,
          principalOf(request),
          request.body.publicKey,
          metaOf(request),
        );
        reply.status(201);
        return key;
      },
    );

    app.get(
      '/v1/signing-keys',
      {
        config: { access: userRule('secrets:read', builders) },
        schema: {
          summary: 'Your signing keys, revoked ones included',
          response: { 200: SigningKeyList },
        },
      },
      async (request) => ({ signingKeys: await listSigningKeys(context, principalOf(request)) }),
    );

    app.delete(
      '/v1/signing-keys/:id',
      {
        config: { access: userRule('secrets:write', builders) },
        schema: {
          summary: 'Revoke one of your signing keys; secrets it signed are no longer delivered',
          params: Type.Object({ id: Id }, { additionalProperties: false }),
          response: { 200: SigningKeySchema },
        },
      },
      async (request) =>
        revokeSigningKey(context, principalOf(request), request.params.id, metaOf(request)),
    );
  });
}
