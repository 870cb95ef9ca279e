import { Type } from 'typebox';
import {
  ApiTokenSchema,
  CreateTokenBody,
  CreateTokenResponse,
  HangarError,
  Id,
  ListTokensQuery,
  TokenList,
  WhoAmIResponse,
} from '@hangar/api';
import type { Context } from '../context.js';
import { userRule, allRoles } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { actorOf } from '../http/principal.js';
import { issueApiToken, listApiTokens, revokeApiToken } from '../services/api-tokens.js';
import { lockParentToken } from '../services/token-lineage.js';
import { metaOf, routes } from './plugin.js';

export function tokenRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/whoami',
      {
        config: { access: userRule('any', allRoles) },
        schema: { summary: 'Who the token belongs to', response: { 200: WhoAmIResponse } },
      },
      async (request) => {
        const principal = principalOf(request);
        const orgs = await context.db.query<{ name: string }>(
          'SELECT name FROM orgs WHERE id = ?',
          [principal.orgId],
        );
        return {
          userId: principal.userId,
          orgId: principal.orgId,
          orgName: orgs[0]?.name ?? '',
          role: principal.role,
          scopes: principal.scopes,
          tokenId: principal.tokenId,
        };
      },
    );

    app.post(
      '/v1/tokens',
      {
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: 'Create an API token for yourself; its scopes are at most your own',
          body: CreateTokenBody,
          response: { 201: CreateTokenResponse },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const extra = request.body.scopes.filter((scope) => !principal.scopes.includes(scope));
        if (extra.length > 0) {
          throw new HangarError(
            'forbidden',
            `a token cannot widen your scopes: ${extra.join(', ')}`,
            {
              fields: [{ field: 'scopes', message: 'must be a subset of your own scopes' }],
            },
          );
        }
        const remainingS = Math.floor((principal.tokenExpiresAt - Date.now()) / 1000);
        if (request.body.expiresInS > remainingS) {
          throw new HangarError(
            'forbidden',
            `a token cannot outlive the token that creates it (${remainingS} s left)`,
            { fields: [{ field: 'expiresInS', message: `must be at most ${remainingS}` }] },
          );
        }
        const issued = await context.db.transaction(async (tx) => {
          await lockParentToken(tx, context.db.forUpdate, principal.tokenId);
          const token = await issueApiToken(tx, {
            userId: principal.userId,
            orgId: principal.orgId,
            scopes: request.body.scopes,
            expiresInS: request.body.expiresInS,
            parentId: principal.tokenId,
          });
          await context.audit.append(tx, {
            orgId: principal.orgId,
            actor: actorOf(principal),
            action: 'token.create',
            target: { kind: 'token', id: token.id },
            outcome: 'success',
            ...metaOf(request),
            details: {
              scopes: request.body.scopes.join(' '),
              expiresInS: request.body.expiresInS,
              parent: principal.tokenId,
            },
          });
          return token;
        });
        reply.status(201);
        return {
          token: issued.token,
          apiToken: {
            id: issued.id,
            userId: principal.userId,
            orgId: principal.orgId,
            scopes: request.body.scopes,
            expiresAt: new Date(issued.expiresAt).toISOString(),
            createdAt: new Date(issued.createdAt).toISOString(),
            kind: 'token' as const,
          },
        };
      },
    );

    app.get(
      '/v1/tokens',
      {
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: 'Your API tokens, revoked and expired ones too; an admin may name a member',
          querystring: ListTokensQuery,
          response: { 200: TokenList },
        },
      },
      async (request) => ({
        tokens: await listApiTokens(context, principalOf(request), request.query.userId),
      }),
    );

    app.delete(
      '/v1/tokens/:id',
      {
        // Revoking only takes access away, so any token of the user may do it, even its own.
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: 'Revoke an API token: yours, or any in the organization for owners and admins',
          description:
            'Also revokes every token made with it (POST /v1/tokens records the token in use as ' +
            'the parent), and theirs in turn, in one transaction; one token.revoke record each.',
          params: Type.Object({ id: Id }, { additionalProperties: false }),
          response: { 200: ApiTokenSchema },
        },
      },
      async (request) =>
        revokeApiToken(context, principalOf(request), request.params.id, metaOf(request)),
    );
  });
}
