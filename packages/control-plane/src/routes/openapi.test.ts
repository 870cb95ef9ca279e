import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane } from '../testing/harness.js';

const [sqlite] = testBackends();

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> } }
    >
  >;
}

test('the OpenAPI 3.1 document describes every route from the schemas that validate it', async () => {
  assert.ok(sqlite);
  const t = await startTestControlPlane(sqlite);
  try {
    const { body } = await t.request<OpenApiDocument>('GET', '/v1/openapi.json', { token: null });
    assert.equal(body.openapi, '3.1.0');
    for (const route of t.cp.routes) {
      if (route.url === '/v1/openapi.json' || route.url === '/v1/runners/connect') continue;
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      assert.ok(
        body.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} is not documented`,
      );
    }
    const create = body.paths['/v1/environments']?.post?.requestBody?.content['application/json'];
    assert.equal(
      create?.schema.additionalProperties,
      false,
      'unknown fields are refused, and documented so',
    );
  } finally {
    await t.close();
  }
});
