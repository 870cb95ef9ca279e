import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '../../client.js';
import type { Grant } from '../../gateway.js';
import { GrantCache, terminalTarget, withGateway } from './gateway-calls.js';
import { portLinkOf, withAccepted } from './PortsSection.js';

/** A control plane that hands out grants expiring `ttlMs` from now, and counts them. */
function grantingClient(ttlMs: number, status = 201) {
  const asked: unknown[] = [];
  const client = {
    POST: async (_path: string, init: { body: unknown }) => {
      asked.push(init.body);
      const grant: Grant = {
        token: `hat1.grant-${asked.length}`,
        expiresAt: new Date(Date.now() + ttlMs).toISOString(),
        gatewayUrl: 'http://127.0.0.1:7701',
        runnerId: 'run_aaaaaaaaaaaaaaaa',
        environmentId: 'env_aaaaaaaaaaaaaaaa',
      };
      const error = status === 201 ? undefined : { code: 'forbidden', message: 'not yours' };
      return {
        data: status === 201 ? grant : undefined,
        error,
        response: new Response(null, { status }),
      };
    },
  } as unknown as Client;
  return { client, asked };
}

test('a grant is reused until it nears its expiry, and asked for once however many wait', async () => {
  const fresh = grantingClient(300_000);
  const cache = new GrantCache(fresh.client, 'env_aaaaaaaaaaaaaaaa', ['logs', 'ports:read']);
  const [one, two] = await Promise.all([cache.get(), cache.get()]);
  assert.ok(one.ok && two.ok);
  assert.equal(one.data.token, two.data.token);
  assert.equal((await cache.get()).ok, true);
  assert.deepEqual(fresh.asked, [{ operations: ['logs', 'ports:read'] }]);
  cache.forget();
  const renewed = await cache.get();
  assert.equal(renewed.ok && renewed.data.token, 'hat1.grant-2');

  const expiring = grantingClient(10_000);
  const short = new GrantCache(expiring.client, 'env_aaaaaaaaaaaaaaaa', ['logs']);
  await short.get();
  await short.get();
  assert.equal(expiring.asked.length, 2, 'a grant with under 30 s left is not used');

  const refusing = grantingClient(300_000, 403);
  const refused = await new GrantCache(refusing.client, 'env_aaaaaaaaaaaaaaaa', ['logs']).get();
  assert.deepEqual(refused, { ok: false, message: 'not yours', status: 403 });
});

test('a gateway call refused for its grant is tried once more with a new grant', async () => {
  const { client, asked } = grantingClient(300_000);
  const cache = new GrantCache(client, 'env_aaaaaaaaaaaaaaaa', ['logs']);
  const statuses = [401, 200];
  const result = await withGateway(cache, async () => {
    const status = statuses.shift() ?? 500;
    const error = status === 401 ? { code: 'unauthenticated', message: 'expired' } : undefined;
    return {
      data: status === 200 ? 'text' : undefined,
      error,
      response: new Response(null, { status }),
    };
  });
  assert.deepEqual(result, { ok: true, data: 'text' });
  assert.equal(asked.length, 2);

  const twice = await withGateway(cache, async () => ({
    error: { code: 'unauthenticated', message: 'the access token has expired' },
    response: new Response(null, { status: 401 }),
  }));
  assert.deepEqual(twice, { ok: false, message: 'the access token has expired', status: 401 });

  const unreachable = await withGateway(cache, () => Promise.reject(new Error('Failed to fetch')));
  assert.deepEqual(unreachable, {
    ok: false,
    message: "the runner's gateway could not be reached (Failed to fetch)",
    status: 0,
  });
});

test('a terminal connects to the gateway as a WebSocket, its grant a subprotocol', async () => {
  const { client, asked } = grantingClient(300_000);
  const target = await terminalTarget(client, 'env_aaaaaaaaaaaaaaaa');
  assert.deepEqual(target, {
    ok: true,
    data: {
      url: 'ws://127.0.0.1:7701/v1/environments/env_aaaaaaaaaaaaaaaa/terminal',
      protocols: ['hangar.v1', 'hangar-grant.hat1.grant-1'],
    },
  });
  assert.deepEqual(asked, [{ operations: ['terminal'] }]);
});

test('a port link carries its grant once; accepted levels show until the runner has them', () => {
  assert.equal(
    portLinkOf({ url: 'http://127.0.0.1:7701/ports/env_a/8123/', token: 'hat1.a+b/c' }),
    'http://127.0.0.1:7701/ports/env_a/8123/?hangar_grant=hat1.a%2Bb%2Fc',
  );
  const entry = {
    port: 8123,
    listening: true,
    addresses: [],
    loopbackOnly: false,
    process: null,
    forwarded: false,
    share: 'private' as const,
    url: 'http://127.0.0.1:7701/ports/env_a/8123/',
  };
  const shown = withAccepted({ kind: 'ready', data: [entry] }, new Map([[8123, 'org' as const]]));
  assert.equal(shown.kind === 'ready' && shown.data[0]?.share, 'org');
  const loading = { kind: 'loading' as const };
  assert.equal(withAccepted(loading, new Map([[8123, 'org' as const]])), loading);
});
