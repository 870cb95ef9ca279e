import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane } from '../testing/harness.js';

const [sqlite] = testBackends();

test('every route declares an access rule, and every user route refuses a missing token', async () => {
  assert.ok(sqlite);
  const t = await startTestControlPlane(sqlite);
  try {
    assert.ok(t.cp.routes.length >= 12);
    for (const route of t.cp.routes) {
      assert.ok(route.access, `${route.method} ${route.url} has no access rule`);
    }
    const userRoutes = t.cp.routes.filter((route) => route.access?.kind === 'user');
    assert.ok(userRoutes.length >= 10);
    for (const route of userRoutes) {
      const path = route.url.replace(':id', 'env_aaaaaaaaaaaaaaaa').replace(':port', '3000');
      const response = await t.request(route.method, path, {
        token: null,
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
      });
      assert.equal(
        response.status,
        401,
        `${route.method} ${route.url} answered ${response.status}`,
      );
      assert.equal(response.body.code, 'unauthenticated');
    }
    const publicRoutes = t.cp.routes.filter((route) => route.access?.kind === 'public');
    assert.deepEqual(publicRoutes.map((route) => route.url).sort(), [
      '/',
      '/agents',
      '/agents/:id',
      '/assets/:file',
      '/audit',
      '/environments/:id',
      '/org',
      '/runners',
      '/sign-in/callback',
      '/v1/auth/callback',
      '/v1/auth/device',
      '/v1/auth/device/poll',
      '/v1/auth/login',
      '/v1/auth/login/complete',
      '/v1/auth/token-exchange',
      '/v1/auth/web-session',
      '/v1/health',
      '/v1/openapi.json',
    ]);
  } finally {
    await t.close();
  }
});

test('a route without an access rule stops the app from being built', async () => {
  assert.ok(sqlite);
  const t = await startTestControlPlane(sqlite);
  try {
    const { enforceAccessRules } = await import('../app.js');
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    enforceAccessRules(app, t.cp.context, []);
    assert.throws(() => app.get('/v1/unruled', async () => ({})), /declares no access rule/);
    app.get('/v1/ruled', { config: { access: { kind: 'public', why: 'test' } } }, async () => ({}));
    await app.close();
  } finally {
    await t.close();
  }
});
