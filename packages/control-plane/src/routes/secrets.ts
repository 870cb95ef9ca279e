import { Type } from 'typebox';
import {
  Id,
  SecretList,
  SecretRecipientList,
  SecretRecipientsQuery,
  SecretSchema,
  SetSecretBody,
} from '@hangar/api';
import type { Context } from '../context.js';
import { builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { deleteSecret, listSecrets, recipientsFor, setSecret } from '../services/secrets.js';
import { metaOf, routes } from './plugin.js';

export function secretRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/secrets/recipients',
      {
        // Runner public keys only, for sealing a new value: part of writing a secret.
        config: { access: userRule('secrets:write', builders) },
        schema: {
          summary: 'The runners a secret of this scope must be sealed to, with their keys',
          querystring: SecretRecipientsQuery,
          response: { 200: SecretRecipientList },
        },
      },
      async (request) => ({
        recipients: await recipientsFor(context, principalOf(request), request.query),
      }),
    );

    app.put(
      '/v1/secrets',
      {
        // One envelope per runner: a 64 KiB value seals to about 120 KB per runner, so the
        // default 1 MiB would hold only eight. Known gap: past about 70 runners a value that
        // large is refused as too large; sealing to a shared key per project would close it.
        bodyLimit: 8 * 1024 * 1024,
        config: { access: userRule('secrets:write', builders) },
        schema: {
          summary:
            'Create a secret or give it a new version: ciphertexts sealed to every recipient ' +
            'runner, never the value',
          body: SetSecretBody,
          response: { 200: SecretSchema },
        },
      },
      async (request) => setSecret(context, principalOf(request), request.body, metaOf(request)),
    );

    app.get(
      '/v1/secrets',
      {
        config: { access: userRule('secrets:read', builders) },
        schema: {
          summary: "Secrets' metadata: the organization's, its projects', and your own",
          response: { 200: SecretList },
        },
      },
      async (request) => ({ secrets: await listSecrets(context, principalOf(request)) }),
    );

    app.delete(
      '/v1/secrets/:id',
      {
        config: { access: userRule('secrets:write', builders) },
        schema: {
          summary: 'Delete a secret; environments stop receiving it',
          params: Type.Object({ id: Id }, { additionalProperties: false }),
          response: { 200: SecretSchema },
        },
      },
      async (request) =>
        deleteSecret(context, principalOf(request), request.params.id, metaOf(request)),
    );
  });
}
