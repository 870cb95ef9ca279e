import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  CompleteLoginBody,
  DevicePendingResponse,
  LogoutResponse,
  PollDeviceBody,
  SessionTokenResponse,
  StartDeviceBody,
  StartDeviceResponse,
  StartLoginBody,
  StartLoginResponse,
  TokenExchangeBody,
} from '@hangar/api';
import type { Context } from '../context.js';
import type { AccessRule } from '../http/access-rules.js';
import { allRoles, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { completeBrowserLogin, handleCallback, startBrowserLogin } from '../oidc/browser-flow.js';
import { pollDeviceLogin, startDeviceLogin } from '../oidc/device-flow.js';
import { logout } from '../oidc/logout.js';
import { errorPage } from '../oidc/pages.js';
import { exchangeIdToken } from '../oidc/token-exchange.js';
import { metaOf, routes } from './plugin.js';

const signIn: AccessRule = {
  kind: 'public',
  why: 'signing in is how a caller without a token gets one',
};

const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 2000 })),
    state: Type.Optional(Type.String({ maxLength: 200 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
    error_description: Type.Optional(Type.String({ maxLength: 2000 })),
    iss: Type.Optional(Type.String({ maxLength: 500 })),
  },
  // Providers add parameters of their own to the redirect (session_state, scope, hd...).
  { additionalProperties: true },
);

function baseUrlOf(context: Context, request: FastifyRequest): string {
  const base = context.config.publicUrl ?? `${request.protocol}://${request.host}`;
  return base.replace(/\/+$/, '');
}

/** This control plane's callback, as the browser reaches it. */
export function callbackUrlOf(context: Context, request: FastifyRequest): string {
  return `${baseUrlOf(context, request)}/v1/auth/callback`;
}

/** Where a sign-in the dashboard started brings the browser back: the dashboard itself. */
export function dashboardRedirectOf(context: Context, request: FastifyRequest): string {
  return `${baseUrlOf(context, request)}/sign-in/callback`;
}

export function authRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/auth/login',
      {
        config: { access: signIn },
        schema: {
          summary: 'Start a browser sign-in at the organization’s OpenID provider',
          description:
            'The CLI sends its own PKCE challenge and the loopback address it listens on; the ' +
            'browser comes back there with a one-time code for POST /v1/auth/login/complete.',
          security: [],
          body: StartLoginBody,
          response: { 200: StartLoginResponse },
        },
      },
      async (request) =>
        startBrowserLogin(
          context,
          request.body,
          {
            callbackUrl: callbackUrlOf(context, request),
            dashboardRedirect: dashboardRedirectOf(context, request),
          },
          metaOf(request),
        ),
    );

    app.get(
      '/v1/auth/callback',
      {
        config: { access: signIn },
        schema: {
          summary: 'Where the OpenID provider sends the browser back (not for API clients)',
          security: [],
          querystring: CallbackQuery,
        },
      },
      async (request, reply) => {
        const outcome = await handleCallback(context, request.query, metaOf(request));
        if (outcome.kind === 'redirect') return reply.redirect(outcome.location, 302);
        return reply
          .status(outcome.status)
          .header('content-type', 'text/html; charset=utf-8')
          .header('content-security-policy', "default-src 'none'")
          .send(errorPage(outcome.title, outcome.message));
      },
    );

    app.post(
      '/v1/auth/login/complete',
      {
        config: { access: signIn },
        schema: {
          summary: 'Trade the one-time code and the PKCE verifier for a session token',
          security: [],
          body: CompleteLoginBody,
          response: { 200: SessionTokenResponse },
        },
      },
      async (request) => completeBrowserLogin(context, request.body, metaOf(request)),
    );

    app.post(
      '/v1/auth/device',
      {
        config: { access: signIn },
        schema: {
          summary: 'Start a device sign-in: a code to enter at the provider on any device',
          security: [],
          body: StartDeviceBody,
          response: { 200: StartDeviceResponse },
        },
      },
      async (request) => startDeviceLogin(context, request.body, metaOf(request)),
    );

    app.post(
      '/v1/auth/device/poll',
      {
        config: { access: signIn },
        schema: {
          summary: 'Ask whether a device sign-in was approved: 202 while pending, else a session',
          security: [],
          body: PollDeviceBody,
          response: { 200: SessionTokenResponse, 202: DevicePendingResponse },
        },
      },
      async (request, reply) => {
        const poll = await pollDeviceLogin(context, request.body, metaOf(request));
        if (!poll.done) return reply.status(202).send(poll.pending);
        return poll.session;
      },
    );

    app.post(
      '/v1/auth/token-exchange',
      {
        config: { access: signIn },
        schema: {
          summary: "Trade an ID token from the organization's provider for a session token",
          description:
            'Only when the organization turned token exchange on (PUT /v1/org/oidc ' +
            '{tokenExchange: true}). Each ID token is accepted once; the session lasts at most ' +
            'an hour.',
          security: [],
          body: TokenExchangeBody,
          response: { 200: SessionTokenResponse },
        },
      },
      async (request) => exchangeIdToken(context, request.body, metaOf(request)),
    );

    app.post(
      '/v1/auth/logout',
      {
        // Ending a session only takes access away, so any token may end itself.
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: 'End the session (or revoke the token) this request comes with',
          response: { 200: LogoutResponse },
        },
      },
      async (request) => logout(context, principalOf(request), metaOf(request)),
    );
  });
}
