import { HangarError, OidcConfigSchema, PutOidcConfigBody } from '@hangar/api';
import { Type } from 'typebox';
import type { Context } from '../context.js';
import { admins, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import {
  deleteOidcConfig,
  notConfiguredMessage,
  oidcConfigOf,
  putOidcConfig,
  toOidcConfig,
} from '../oidc/config-store.js';
import { callbackUrlOf } from './auth.js';
import { metaOf, routes } from './plugin.js';

const rule = userRule('org:admin', admins);

export function oidcConfigRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/org/oidc',
      {
        config: { access: rule },
        schema: {
          summary: "The organization's OpenID provider (owners and admins); never its secret",
          response: { 200: OidcConfigSchema },
        },
      },
      async (request) => {
        const orgId = principalOf(request).orgId;
        const config = await oidcConfigOf(context.db, context.dataKey, orgId);
        if (!config) throw new HangarError('not_found', notConfiguredMessage);
        return toOidcConfig(config, callbackUrlOf(context, request));
      },
    );

    app.put(
      '/v1/org/oidc',
      {
        config: { access: rule },
        schema: {
          summary: 'Set the OpenID provider people sign in with (owners and admins)',
          description:
            "The issuer's discovery document is read first: its issuer must match exactly and " +
            'it must name the authorization, token and JWKS endpoints. The client secret is ' +
            'sealed with the data key, never returned; leave it out to keep the stored one.',
          body: PutOidcConfigBody,
          response: { 200: OidcConfigSchema },
        },
      },
      async (request) => {
        const saved = await putOidcConfig(
          context,
          principalOf(request),
          request.body,
          metaOf(request),
        );
        return toOidcConfig(saved, callbackUrlOf(context, request));
      },
    );

    app.delete(
      '/v1/org/oidc',
      {
        config: { access: rule },
        schema: {
          summary: 'Remove the OpenID provider: no one can sign in through it any more',
          response: { 200: Type.Object({ removed: Type.Boolean() }) },
        },
      },
      async (request) => {
        await deleteOidcConfig(context, principalOf(request), metaOf(request));
        return { removed: true };
      },
    );
  });
}
