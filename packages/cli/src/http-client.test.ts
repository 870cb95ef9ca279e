import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import { HttpClient, errorFromResponse } from './http-client.js';

describe('errorFromResponse', () => {
  it('keeps the code, message, fields and request id of an error body', () => {
    const error = errorFromResponse({
      status: 400,
      service: 'control plane',
      text: JSON.stringify({
        code: 'invalid_request',
        message: 'the body is not valid',
        requestId: 'req_1',
        fields: [{ field: 'body.name', message: 'is required' }, { bogus: true }],
      }),
    });
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.message, 'the body is not valid');
    assert.deepEqual(error.fields, [{ field: 'body.name', message: 'is required' }]);
    assert.equal(error.details?.requestId, 'req_1');
  });

  it('keeps the policy that refused a request', () => {
    const error = errorFromResponse({
      status: 403,
      service: 'control plane',
      text: JSON.stringify({
        code: 'forbidden',
        message: 'the organization policy allowedClasses does not allow the class large',
        requestId: 'req_2',
        policy: 'allowedClasses',
      }),
    });
    assert.equal(error.details?.policy, 'allowedClasses');
  });

  it('maps a body without a known code by its status, quoting the body', () => {
    const error = errorFromResponse({
      status: 502,
      service: 'control plane',
      text: '<h1>Bad Gateway</h1>',
    });
    assert.equal(error.code, 'internal');
    assert.match(error.message, /the control plane answered HTTP 502: <h1>Bad Gateway<\/h1>/);
    assert.equal(errorFromResponse({ status: 404, service: 'x', text: '' }).code, 'not_found');
    const unknownCode = errorFromResponse({
      status: 409,
      service: 'x',
      text: JSON.stringify({ code: 'made_up', message: 'm' }),
    });
    assert.equal(unknownCode.code, 'conflict');
  });

  it('adds the hint about credentials to authentication failures only', () => {
    const text = (code: string) =>
      JSON.stringify({ code, message: 'the API token has expired', requestId: 'r' });
    const expired = errorFromResponse({
      status: 401,
      service: 'cp',
      text: text('token_expired'),
      authHint: 'from X',
    });
    assert.equal(expired.message, 'the API token has expired (from X)');
    const forbidden = errorFromResponse({
      status: 403,
      service: 'cp',
      text: text('forbidden'),
      authHint: 'from X',
    });
    assert.equal(forbidden.message, 'the API token has expired');
  });
});

describe('HttpClient', () => {
  let server: Server;
  let baseUrl: string;
  const seen: { method: string; url: string; authorization?: string; body: string }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          ...(request.headers.authorization
            ? { authorization: request.headers.authorization }
            : {}),
          body,
        });
        if (request.url?.startsWith('/ok')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ echoed: body ? (JSON.parse(body) as unknown) : null }));
        } else if (request.url === '/bytes') {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          response.end(Buffer.from([0, 255, 1]));
        } else if (request.url === '/empty') {
          response.writeHead(204);
          response.end();
        } else if (request.url === '/not-json') {
          response.writeHead(200);
          response.end('hello');
        } else {
          response.writeHead(409, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ code: 'operation_in_progress', message: 'busy', requestId: 'req_9' }),
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends the bearer token, the query and a JSON body, and parses the answer', async () => {
    const client = new HttpClient({ baseUrl: `${baseUrl}/`, token: 'tok', service: 'test' });
    const answer = await client.json<{ echoed: unknown }>('POST', '/ok', {
      query: { a: 1, b: true, skip: undefined },
      body: { x: 'y' },
    });
    assert.deepEqual(answer, { echoed: { x: 'y' } });
    const last = seen.at(-1);
    assert.equal(last?.url, '/ok?a=1&b=true');
    assert.equal(last?.authorization, 'Bearer tok');
  });

  it('returns bytes untouched and undefined for an empty answer', async () => {
    const client = new HttpClient({ baseUrl, service: 'test' });
    assert.deepEqual(await client.bytes('GET', '/bytes'), Buffer.from([0, 255, 1]));
    assert.equal(await client.get('/empty'), undefined);
    assert.equal(seen.at(-1)?.authorization, undefined);
  });

  it('turns an error body into a HangarError', async () => {
    const client = new HttpClient({ baseUrl, service: 'test' });
    await assert.rejects(client.post('/busy'), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.equal(error.code, 'operation_in_progress');
      assert.equal(error.details?.requestId, 'req_9');
      return true;
    });
    await assert.rejects(
      client.get('/not-json'),
      /answered GET \/not-json with a body that is not JSON/,
    );
  });

  it('says which service cannot be reached, and marks it unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new HttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      service: 'control plane',
      unreachableHint: 'start it',
    });
    await assert.rejects(client.get('/v1/health'), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.equal(error.code, 'unreachable');
      assert.match(
        error.message,
        /cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); start it/,
      );
      assert.equal(error.details?.unreachable, true);
      return true;
    });
  });
});
