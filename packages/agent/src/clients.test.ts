import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelClient, ModelRequest, ToolSpec } from './conversation.js';
import { AnthropicClient } from './anthropic.js';
import { createModelClient } from './client.js';
import { ModelError } from './model-error.js';
import { OpenAiClient } from './openai.js';
import { ModelServer } from './testing/model-server.js';
import { toolSpecs } from './tools.js';

const tools: ToolSpec[] = [toolSpecs.read_file, toolSpecs.finish];

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    system: 'be brief',
    messages: [
      { role: 'user', content: 'fix it' },
      {
        role: 'assistant',
        content: 'looking',
        toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"a.js"}' }],
      },
      { role: 'tool', callId: 'c1', name: 'read_file', content: 'x = 1', isError: false },
    ],
    tools,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const longArguments = { path: `src/${'deep/'.repeat(30)}file.js` };

for (const api of ['openai', 'anthropic'] as const) {
  for (const stream of [true, false]) {
    describe(`${api} client, ${stream ? 'streaming' : 'not streaming'}`, () => {
      let server: ModelServer;
      let client: ModelClient;
      before(async () => {
        server = await ModelServer.start({ key: 'sk-test-key' });
        const baseUrl = api === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl;
        const options = { baseUrl, model: 'scripted-1', key: 'sk-test-key', stream, retries: 1 };
        client = api === 'openai' ? new OpenAiClient(options) : new AnthropicClient(options);
      });
      after(() => server.close());

      test('assembles text and several tool calls, and reads the usage', async () => {
        server.push({
          text: 'I will read two files and then finish up.',
          toolCalls: [
            { name: 'read_file', arguments: longArguments, id: 'call_a' },
            { name: 'read_file', arguments: { path: 'b.js' }, id: 'call_b' },
            { name: 'finish', arguments: { summary: 'done: "quoted" \\ and ünïcode' } },
          ],
          usage: { inputTokens: 120, outputTokens: 33 },
        });
        const turn = await client.complete(request());
        assert.equal(turn.text, 'I will read two files and then finish up.');
        assert.deepEqual(
          turn.toolCalls.map((call): unknown[] => [call.name, JSON.parse(call.arguments)]),
          [
            ['read_file', longArguments],
            ['read_file', { path: 'b.js' }],
            ['finish', { summary: 'done: "quoted" \\ and ünïcode' }],
          ],
        );
        assert.deepEqual(
          turn.toolCalls.slice(0, 2).map((call) => call.id),
          ['call_a', 'call_b'],
        );
        assert.deepEqual(turn.usage, { inputTokens: 120, outputTokens: 33 });
        assert.equal(server.requests.at(-1)?.stream, stream);
      });

      test('sends the conversation, the tools and the key in its wire format', async () => {
        server.push({ toolCalls: [{ name: 'finish', arguments: { summary: 'ok' } }] });
        await client.complete(request());
        const sent = server.requests.at(-1);
        assert.ok(sent);
        assert.equal(sent.body.model, 'scripted-1');
        const messages = sent.body.messages as Array<Record<string, unknown>>;
        const wireTools = sent.body.tools as Array<Record<string, unknown>>;
        if (api === 'openai') {
          assert.equal(sent.headers.authorization, 'Bearer sk-test-key');
          assert.deepEqual(messages[0], { role: 'system', content: 'be brief' });
          assert.deepEqual(messages[3], { role: 'tool', tool_call_id: 'c1', content: 'x = 1' });
          const call = (messages[2]?.tool_calls as Array<Record<string, unknown>>)[0];
          assert.deepEqual(call, {
            id: 'c1',
            type: 'function',
            function: { name: 'read_file', arguments: '{"path":"a.js"}' },
          });
          assert.equal((wireTools[0]?.function as { name: string }).name, 'read_file');
        } else {
          assert.equal(sent.headers['x-api-key'], 'sk-test-key');
          assert.equal(sent.headers['anthropic-version'], '2023-06-01');
          assert.equal(sent.body.system, 'be brief');
          assert.ok(typeof sent.body.max_tokens === 'number');
          assert.deepEqual(
            messages.map((message) => message.role),
            ['user', 'assistant', 'user'],
          );
          assert.deepEqual((messages[2]?.content as unknown[])[0], {
            type: 'tool_result',
            tool_use_id: 'c1',
            content: 'x = 1',
          });
          const use = (messages[1]?.content as Array<Record<string, unknown>>)[1];
          assert.deepEqual(use, {
            type: 'tool_use',
            id: 'c1',
            name: 'read_file',
            input: { path: 'a.js' },
          });
          assert.equal(wireTools[0]?.name, 'read_file');
          assert.ok(wireTools[0]?.input_schema);
        }
      });

      test('a reply without usage leaves the usage absent', async () => {
        server.push({ text: 'hm', noUsage: true });
        const turn = await client.complete(request());
        assert.equal(turn.usage, undefined);
        assert.equal(turn.text, 'hm');
      });

      test('a refusal rejects at once; an overloaded server is tried again', async () => {
        server.push({ status: 400, message: 'bad model name' });
        await assert.rejects(client.complete(request()), (error: unknown) => {
          assert.ok(error instanceof ModelError);
          assert.equal(error.code, 'refused');
          assert.equal(error.status, 400);
          assert.match(error.message, /bad model name/);
          return true;
        });
        const before = server.requests.length;
        server.push({ status: 503 }, { text: 'back again' });
        const turn = await client.complete(request());
        assert.equal(turn.text, 'back again');
        assert.equal(server.requests.length - before, 2);
      });

      test('a wrong key is refused', async () => {
        const baseUrl = api === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl;
        const wrong = createModelClient({ api, baseUrl, model: 'm' }, { key: 'other', stream });
        await assert.rejects(wrong.complete(request()), { code: 'refused', status: 401 });
      });

      test('garbage in place of a reply is a protocol error', async () => {
        server.push({ raw: stream ? 'data: {not json\n\n' : '<html>' });
        await assert.rejects(client.complete(request()), { code: 'protocol' });
        if (stream) {
          server.push({ raw: 'data: {"choices":[]}\n\n' });
          await assert.rejects(client.complete(request()), { code: 'protocol' });
        }
      });

      test('text that never ends is cut off', async () => {
        server.push({ endlessText: true });
        await assert.rejects(client.complete(request()), { code: 'output_too_large' });
      });

      test('an abort ends a request that gets no answer', async () => {
        server.push({ hang: true });
        const abort = new AbortController();
        const pending = client.complete(request({ signal: abort.signal }));
        while (server.remaining > 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        abort.abort();
        await assert.rejects(pending, { code: 'aborted' });
      });
    });
  }
}

test('a model base URL must be http or https', () => {
  assert.throws(
    () => createModelClient({ api: 'openai', baseUrl: 'file:///etc/passwd', model: 'm' }),
    /must be http or https/,
  );
  assert.throws(
    () => createModelClient({ api: 'openai', baseUrl: 'nope', model: 'm' }),
    /not a URL/,
  );
});

test('an unreachable model server is named in the error', async () => {
  const server = await ModelServer.start();
  const url = server.openaiBaseUrl;
  await server.close();
  const client = new OpenAiClient({ baseUrl: url, model: 'm', retries: 0 });
  await assert.rejects(client.complete(request()), (error: unknown) => {
    assert.ok(error instanceof ModelError);
    assert.equal(error.code, 'unreachable');
    assert.match(error.message, /cannot be reached/);
    return true;
  });
});
