import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentLimits } from '@hangar/api';
import { createModelClient } from './client.js';
import { maxReplyToolCalls } from './http.js';
import {
  maxToolCallsPerTurn,
  runAgentLoop,
  type LoopEvent,
  type LoopOptions,
  type Toolbox,
} from './loop.js';
import { refusedRepeatLimit, sameCallRunLimit } from './repeats.js';
import { ModelServer, type ScriptedTurn } from './testing/model-server.js';
import type { CheckedCall } from './tools.js';

const limits: AgentLimits = {
  maxSteps: 20,
  maxTokens: 100000,
  maxWallTimeS: 30,
  commandTimeoutS: 7,
};

/** A workspace in memory: files, and commands that pass once the bug is fixed. */
class MemoryToolbox implements Toolbox {
  readonly files = new Map<string, string>([['add.js', 'const add = (a, b) => a - b;\n']]);
  readonly calls: CheckedCall[] = [];
  timeouts: number[] = [];
  /** Characters of output each command prints. */
  outputChars = 0;
  block = false;
  sawAbort = false;

  async run(call: CheckedCall, context: { signal: AbortSignal; commandTimeoutS: number }) {
    this.calls.push(call);
    if (this.block) {
      await new Promise<void>((resolve) =>
        context.signal.addEventListener('abort', () => resolve()),
      );
      this.sawAbort = true;
      return { content: 'killed', isError: true };
    }
    if (call.name === 'read_file') {
      const text = this.files.get(call.args.path);
      return text === undefined
        ? { content: `no such file ${call.args.path}`, isError: true }
        : { content: text, isError: false };
    }
    if (call.name === 'replace_in_file') {
      const text = this.files.get(call.args.path) ?? '';
      this.files.set(call.args.path, text.replace(call.args.old_text, call.args.new_text));
      return { content: 'replaced 1 occurrence', isError: false };
    }
    if (call.name === 'run_command') {
      this.timeouts.push(context.commandTimeoutS);
      const fixed = this.files.get('add.js')?.includes('a + b') ?? false;
      const output = 'x'.repeat(this.outputChars);
      return { content: `exit code ${fixed ? 0 : 1}${output}`, isError: false, commandMs: 3 };
    }
    return { content: 'ok', isError: false };
  }
}

const finish: ScriptedTurn = {
  toolCalls: [{ name: 'finish', arguments: { summary: 'fixed add' } }],
};
const readAdd: ScriptedTurn = { toolCalls: [{ name: 'read_file', arguments: { path: 'add.js' } }] };

/** One reply of `count` different commands. */
const commands = (count: number): ScriptedTurn => ({
  toolCalls: Array.from({ length: count }, (_, index) => ({
    name: 'run_command',
    arguments: { command: `echo ${index}` },
  })),
});

for (const api of ['openai', 'anthropic'] as const) {
  for (const stream of [true, false]) {
    describe(`the loop over ${api}, ${stream ? 'streaming' : 'not streaming'}`, () => {
      let server: ModelServer;
      before(async () => {
        server = await ModelServer.start();
      });
      after(() => server.close());

      const loop = async (
        turns: ScriptedTurn[],
        options: Partial<LoopOptions> & { whenEmpty?: ScriptedTurn } = {},
      ) => {
        const scripted = await ModelServer.start({
          turns,
          ...(options.whenEmpty ? { whenEmpty: options.whenEmpty } : {}),
        });
        const toolbox = (options.toolbox as MemoryToolbox | undefined) ?? new MemoryToolbox();
        const events: LoopEvent[] = [];
        try {
          const baseUrl = api === 'openai' ? scripted.openaiBaseUrl : scripted.anthropicBaseUrl;
          const result = await runAgentLoop({
            client: createModelClient({ api, baseUrl, model: 'scripted' }, { stream, retries: 0 }),
            toolbox,
            tools: ['read_file', 'replace_in_file', 'run_command', 'write_file'],
            prompt: 'the add test fails; fix it',
            system: 'you are a test',
            limits,
            onEvent: (event) => events.push(event),
            ...options,
          });
          return { result, toolbox, events, requests: scripted.requests };
        } finally {
          await scripted.close();
        }
      };
      const lastMessages = (requests: Array<{ body: Record<string, unknown> }>) =>
        JSON.stringify(requests.at(-1)?.body.messages);

      test('reads, edits, runs the tests and finishes', async () => {
        const { result, toolbox, events, requests } = await loop([
          { text: 'Let me look.', ...readAdd },
          {
            toolCalls: [
              {
                name: 'replace_in_file',
                arguments: { path: 'add.js', old_text: 'a - b', new_text: 'a + b' },
              },
            ],
          },
          { toolCalls: [{ name: 'run_command', arguments: { command: 'node test.js' } }] },
          finish,
        ]);
        assert.equal(result.state, 'succeeded');
        assert.equal(result.summary, 'fixed add');
        assert.equal(result.steps, 4);
        assert.equal(result.toolCalls, 3);
        assert.equal(result.malformed, 0);
        assert.ok(result.inputTokens > 0 && result.outputTokens > 0);
        assert.equal(toolbox.files.get('add.js'), 'const add = (a, b) => a + b;\n');
        assert.deepEqual(toolbox.timeouts, [7]);
        assert.match(JSON.stringify(requests[1]?.body.messages), /a - b/);
        assert.match(lastMessages(requests), /exit code 0/);
        assert.deepEqual(
          events.map((event) => event.type),
          ['turn', 'tool', 'turn', 'tool', 'turn', 'tool', 'turn', 'end'],
        );
      });

      test('bad JSON arguments are answered and counted', async () => {
        const { result, requests, toolbox } = await loop([
          { toolCalls: [{ name: 'read_file', arguments: '{"path": "add.js' }] },
          finish,
        ]);
        assert.equal(result.state, 'succeeded');
        assert.equal(result.malformed, 1);
        assert.equal(toolbox.calls.length, 0);
        // The Messages API without streaming carries input as JSON, so bad JSON arrives as a
        // string where an object belongs.
        const expected =
          api === 'anthropic' && !stream ? /must be a JSON object/ : /not valid JSON/;
        assert.match(lastMessages(requests), expected);
      });

      test('an unknown tool and wrong arguments are answered and counted', async () => {
        const { result, requests } = await loop([
          {
            toolCalls: [
              { name: 'rm_everything', arguments: {} },
              { name: 'read_file', arguments: { file: 'add.js' } },
            ],
          },
          finish,
        ]);
        assert.equal(result.malformed, 2);
        const sent = lastMessages(requests);
        assert.match(sent, /there is no tool/);
        assert.match(sent, /path is required/);
        assert.match(sent, /file is not an argument/);
      });

      test('huge arguments are refused without running', async () => {
        const { result, requests, toolbox } = await loop([
          {
            toolCalls: [
              { name: 'write_file', arguments: { path: 'big', content: 'x'.repeat(300 * 1024) } },
            ],
          },
          finish,
        ]);
        assert.equal(result.state, 'succeeded');
        assert.equal(result.malformed, 1);
        assert.equal(toolbox.calls.length, 0);
        const sent = lastMessages(requests);
        assert.match(sent, /at most 262144/);
        assert.ok(sent.length < 100 * 1024, 'the huge arguments are not sent back');
      });

      test('a turn with text and no call is answered and counted', async () => {
        const { result, requests } = await loop([{ text: 'I would fix it like this...' }, finish]);
        assert.equal(result.state, 'succeeded');
        assert.equal(result.malformed, 1);
        assert.match(lastMessages(requests), /reply with a tool call/);
      });

      test('endless text and a garbled stream are answered and counted', async () => {
        const { result, requests } = await loop([
          { endlessText: true },
          { raw: stream ? 'data: {"choices": [garbage\n\n' : 'not json at all' },
          finish,
        ]);
        assert.equal(result.state, 'succeeded');
        assert.equal(result.malformed, 2);
        assert.equal(result.steps, 3);
        assert.match(lastMessages(requests), /could not be used/);
      });

      test('the same failing call is run three times, then refused', async () => {
        const missing: ScriptedTurn = {
          toolCalls: [{ name: 'read_file', arguments: { path: 'missing.js' } }],
        };
        const { result, toolbox, requests } = await loop([], {
          whenEmpty: missing,
          limits: { ...limits, maxSteps: 5 },
        });
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxSteps');
        assert.equal(toolbox.calls.length, 3);
        assert.equal(result.malformed, 2);
        assert.match(lastMessages(requests), /failed 3 times in a row/);
      });

      test('the same succeeding call in a row is refused, and the task ends if it goes on', async () => {
        const { result, toolbox, requests } = await loop([], { whenEmpty: readAdd });
        assert.equal(toolbox.calls.length, sameCallRunLimit, 'the repetitions did not run');
        assert.equal(result.malformed, refusedRepeatLimit);
        assert.equal(result.steps, sameCallRunLimit + refusedRepeatLimit);
        assert.equal(result.state, 'failed');
        assert.equal(result.errorCode, 'repeated_call');
        assert.match(
          lastMessages(requests),
          new RegExp(`read_file call was made ${sameCallRunLimit} times in a row`),
        );
      });

      test('a different call in between starts the count of repetitions again', async () => {
        const listing: ScriptedTurn = {
          toolCalls: [{ name: 'list_directory', arguments: { path: '.' } }],
        };
        const reads = Array.from({ length: sameCallRunLimit }, () => readAdd);
        const { result, toolbox } = await loop([...reads, listing, ...reads, finish], {
          tools: ['read_file', 'list_directory'],
        });
        assert.equal(result.state, 'succeeded');
        assert.equal(result.malformed, 0);
        assert.equal(toolbox.calls.length, 2 * sameCallRunLimit + 1);
      });

      test(`one reply runs at most ${maxToolCallsPerTurn} calls; the others are answered`, async () => {
        const { result, toolbox, requests } = await loop([commands(40), finish]);
        assert.equal(result.state, 'succeeded');
        assert.equal(toolbox.calls.length, maxToolCallsPerTurn);
        assert.equal(result.toolCalls, maxToolCallsPerTurn);
        assert.equal(result.malformed, 40 - maxToolCallsPerTurn);
        assert.match(
          lastMessages(requests),
          new RegExp(
            `at most ${maxToolCallsPerTurn} tool calls of one reply are run and this reply made 40`,
          ),
        );
      });

      test('a reply of 5000 calls with maxSteps 1 runs none of them', async () => {
        const { result, toolbox, events } = await loop([commands(5000)], {
          limits: { ...limits, maxSteps: 1 },
        });
        assert.equal(toolbox.calls.length, 0);
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxSteps');
        assert.equal(result.malformed, 1);
        const told = events.find((event) => event.type === 'malformed');
        assert.match(
          told?.type === 'malformed' ? told.message : '',
          new RegExp(`more than ${maxReplyToolCalls} tool calls`),
        );
      });

      test('the results of one reply count against maxTokens as they come', async () => {
        const toolbox = new MemoryToolbox();
        toolbox.outputChars = 20_000;
        const { result, requests } = await loop(
          [{ ...commands(maxToolCallsPerTurn), usage: { inputTokens: 100, outputTokens: 100 } }],
          { toolbox, limits: { ...limits, maxTokens: 20_000 } },
        );
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxTokens');
        // Four results of 20000 characters are about 20000 tokens: the fifth call does not run.
        assert.equal(toolbox.calls.length, 4);
        assert.equal(requests.length, 1, 'no model turn after the budget is spent');
      });

      test('maxSteps ends the task with limit_reached naming it', async () => {
        const { result, requests } = await loop([], {
          whenEmpty: readAdd,
          limits: { ...limits, maxSteps: 3 },
        });
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxSteps');
        assert.equal(result.steps, 3);
        assert.equal(requests.length, 3);
      });

      test('maxTokens ends the task with limit_reached naming it', async () => {
        const { result, toolbox } = await loop([], {
          whenEmpty: { ...readAdd, usage: { inputTokens: 500, outputTokens: 100 } },
          limits: { ...limits, maxTokens: 1000 },
        });
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxTokens');
        assert.equal(result.steps, 2);
        assert.equal(result.inputTokens + result.outputTokens, 1200);
        assert.equal(toolbox.calls.length, 1, 'the calls of the turn past the budget do not run');
      });

      test('maxTokens counts an estimate when the server reports no usage', async () => {
        const { result } = await loop([], {
          whenEmpty: { text: 'x'.repeat(4000), noUsage: true },
          limits: { ...limits, maxTokens: 2500 },
        });
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxTokens');
      });

      test('maxTokens is not dodged by a server that reports zero usage', async () => {
        const { result } = await loop([], {
          whenEmpty: { text: 'x'.repeat(40000), usage: { inputTokens: 0, outputTokens: 0 } },
          limits: { ...limits, maxTokens: 2500 },
        });
        assert.equal(result.state, 'limit_reached');
        assert.equal(result.reason, 'maxTokens');
      });

      test('maxWallTimeS ends a task waiting on the model or on a tool', async () => {
        const waiting = await loop([{ hang: true }], { limits: { ...limits, maxWallTimeS: 0.2 } });
        assert.equal(waiting.result.state, 'limit_reached');
        assert.equal(waiting.result.reason, 'maxWallTimeS');
        const toolbox = new MemoryToolbox();
        toolbox.block = true;
        const running = await loop([readAdd], {
          toolbox,
          limits: { ...limits, maxWallTimeS: 0.2 },
        });
        assert.equal(running.result.reason, 'maxWallTimeS');
        assert.ok(toolbox.sawAbort, 'the running tool call was told to stop');
      });

      test('the signal stops the task at once, mid request and mid tool', async () => {
        const abort = new AbortController();
        const pending = loop([{ hang: true }], { signal: abort.signal });
        await new Promise((resolve) => setTimeout(resolve, 50));
        abort.abort();
        const { result } = await pending;
        assert.equal(result.state, 'cancelled');
        assert.equal(result.reason, 'stopped');
        const toolbox = new MemoryToolbox();
        toolbox.block = true;
        const again = new AbortController();
        const blocked = loop([readAdd], { toolbox, signal: again.signal });
        while (toolbox.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        again.abort();
        assert.equal((await blocked).result.state, 'cancelled');
        assert.ok(toolbox.sawAbort);
      });

      test('a model server that refuses the request fails the task with why', async () => {
        const { result } = await loop([{ status: 404, message: 'no such model' }]);
        assert.equal(result.state, 'failed');
        assert.match(result.reason ?? '', /HTTP 404: .*no such model/);
      });
    });
  }
}

test('a toolbox that throws is answered as a tool error', async () => {
  const server = await ModelServer.start({ turns: [readAdd, finish] });
  try {
    const result = await runAgentLoop({
      client: createModelClient({ api: 'openai', baseUrl: server.openaiBaseUrl, model: 'm' }),
      toolbox: {
        run: () => Promise.reject(new Error('the gateway is gone')),
      },
      tools: ['read_file'],
      prompt: 'p',
      system: 's',
      limits,
    });
    assert.equal(result.state, 'succeeded');
    assert.match(JSON.stringify(server.requests[1]?.body.messages), /the gateway is gone/);
  } finally {
    await server.close();
  }
});
