import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Result } from './client.js';
import type { Grant } from './gateway.js';
import { transcriptFixture } from './testing/agent-fixtures.js';
import type { ReadLine } from './transcript.js';
import { followTranscript, LineSplitter, type FollowStatus } from './transcript-stream.js';

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

/** A stand-in runner gateway on 127.0.0.1 that answers each transcript read with `handle`. */
async function gateway(handle: Handler) {
  const seen: { url: string; authorization?: string }[] = [];
  const server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
    handle(request, response, seen.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const lines = transcriptFixture.map((line) => JSON.stringify(line));

function grants(url: string) {
  let issued = 0;
  return {
    count: () => issued,
    next: (): Promise<Result<Grant>> => {
      issued += 1;
      const grant = { token: `grant-${issued}`, gatewayUrl: url } as Grant;
      return Promise.resolve({ ok: true, data: grant });
    },
  };
}

async function follow(
  url: string,
  options: { running: () => boolean; grant?: () => Promise<Result<Grant>> },
) {
  const received: ReadLine[] = [];
  const statuses: FollowStatus[] = [];
  const issued = grants(url);
  await followTranscript({
    taskId: 'agt_aaaaaaaaaaaaaaaa',
    grant: options.grant ?? issued.next,
    isRunning: () => Promise.resolve(options.running()),
    onLines: (batch) => received.push(...batch),
    onStatus: (status) => statuses.push(status),
    signal: new AbortController().signal,
    batchMs: 5,
    retryDelayMs: 10,
  });
  return { received, statuses, grants: issued.count() };
}

test('line splitter: lines across chunks, blank lines skipped, the rest at the end', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(splitter.push(':2}\n\n'), ['{"b":2}']);
  assert.deepEqual(splitter.push('tail'), []);
  assert.deepEqual(splitter.end(), ['tail']);
  assert.deepEqual(splitter.end(), []);
});

test('follow: a dropped stream is read again with a fresh grant, from where it was', async (t) => {
  const server = await gateway((_request, response, attempt) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (attempt === 1) {
      // Three lines and half of the fourth, then the connection breaks.
      response.write(`${lines.slice(0, 3).join('\n')}\n${lines[3]?.slice(0, 20)}`);
      setTimeout(() => response.destroy(), 20);
      return;
    }
    response.end(`${lines.join('\n')}\n`);
  });
  t.after(server.close);
  const { received, statuses, grants: issued } = await follow(server.url, { running: () => true });
  assert.equal(issued, 2, 'a fresh grant for the second connection');
  assert.deepEqual(
    server.seen.map((request) => request.authorization),
    ['Bearer grant-1', 'Bearer grant-2'],
  );
  assert.match(server.seen[0]?.url ?? '', /^\/v1\/agent-tasks\/agt_a+\/transcript\?follow=1$/);
  assert.deepEqual(received, transcriptFixture, 'every line once, in order');
  assert.ok(statuses.some((status) => status.kind === 'reconnecting'));
  assert.deepEqual(statuses.at(-1), { kind: 'done' });
});

test('follow: an ended task is read once, without following', async (t) => {
  const server = await gateway((_request, response) => {
    response.writeHead(200);
    response.end(`${lines.slice(0, 2).join('\n')}\n`);
  });
  t.after(server.close);
  const { received, statuses } = await follow(server.url, { running: () => false });
  assert.equal(received.length, 2);
  assert.equal(server.seen[0]?.url.includes('follow'), false);
  assert.deepEqual(statuses.at(-1), { kind: 'done' });
});

test("follow: a refusal ends it at once, in the runner's words", async (t) => {
  const server = await gateway((_request, response) => {
    response.writeHead(403, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ code: 'forbidden', message: 'only the owner may read it' }));
  });
  t.after(server.close);
  const { statuses } = await follow(server.url, { running: () => true });
  assert.deepEqual(statuses.at(-1), { kind: 'failed', message: 'only the owner may read it' });
  assert.equal(server.seen.length, 1);
});

test('follow: a task the runner does not know yet is asked for again', async (t) => {
  const server = await gateway((_request, response, attempt) => {
    if (attempt < 3) {
      response.writeHead(404, { 'content-type': 'application/json' });
      return void response.end(JSON.stringify({ code: 'not_found', message: 'not here yet' }));
    }
    response.writeHead(200);
    response.end(`${lines.join('\n')}\n`);
  });
  t.after(server.close);
  const { received, statuses } = await follow(server.url, { running: () => true });
  assert.equal(server.seen.length, 3);
  assert.equal(received.length, lines.length);
  assert.deepEqual(statuses.at(-1), { kind: 'done' });
});

test('follow: no grant for the runner is a failure, not a retry', async () => {
  const { statuses } = await follow('http://127.0.0.1:9', {
    running: () => true,
    grant: () => Promise.resolve({ ok: false, message: 'you do not own it', status: 403 }),
  });
  assert.deepEqual(statuses.at(-1), {
    kind: 'failed',
    message: 'no grant for the runner: you do not own it',
  });
});

test('follow: stopping it ends the read at once', async (t) => {
  const server = await gateway((_request, response) => {
    response.writeHead(200);
    response.write(`${lines[0]}\n`);
  });
  t.after(server.close);
  const stop = new AbortController();
  const received: ReadLine[] = [];
  const issued = grants(server.url);
  const done = followTranscript({
    taskId: 'agt_aaaaaaaaaaaaaaaa',
    grant: issued.next,
    isRunning: () => Promise.resolve(true),
    onLines: (batch) => received.push(...batch),
    onStatus: () => undefined,
    signal: stop.signal,
    batchMs: 5,
  });
  while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  stop.abort();
  await done;
  assert.equal(issued.count(), 1);
});
