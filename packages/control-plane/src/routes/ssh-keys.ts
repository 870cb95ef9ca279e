import { Type } from 'typebox';
import { AddSshKeyBody, Id, SshKeyList, SshKeySchema } from '@hangar/api';
import type { Context } from '../context.js';
import { builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { addSshKey, listSshKeys, removeSshKey } from '../services/ssh-keys.js';
import { metaOf, routes } from './plugin.js';

export function sshKeyRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/ssh-keys',
      {
        // A key opens shells, so adding one needs what running a command needs.
        config: { access: userRule('environments:exec', builders) },
        schema: {
          summary: 'Register an SSH public key; it opens your environments over SSH',
          body: AddSshKeyBody,
          response: { 201: SshKeySchema },
        },
      },
      async (request, reply) => {
        const key = await addSshKey(context, principalOf(request), request.body, metaOf(request));
        reply.status(201);
        return key;
      },
    );

    app.get(
      '/v1/ssh-keys',
      {
        config: { access: userRule('environments:read', builders) },
        schema: {
          summary: 'Your SSH keys; an admin may name another member with userId',
          querystring: Type.Object({ userId: Type.Optional(Id) }, { additionalProperties: false }),
          response: { 200: SshKeyList },
        },
      },
      async (request) => ({
        sshKeys: await listSshKeys(context, principalOf(request), request.query.userId),
      }),
    );

    app.delete(
      '/v1/ssh-keys/:id',
      {
        config: { access: userRule('environments:exec', builders) },
        schema: {
          summary: 'Remove an SSH key; live SSH sessions of its owner are ended',
          params: Type.Object({ id: Id }, { additionalProperties: false }),
          response: { 200: SshKeySchema },
        },
      },
      async (request) =>
        removeSshKey(context, principalOf(request), request.params.id, metaOf(request)),
    );
  });
}
