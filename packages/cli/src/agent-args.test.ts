import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from './args.js';
import { endState, transcriptText } from './agent-transcript.js';
import { argvOf, modelFrom } from './commands/agent-run.js';
import { runMain } from './testing/capture-io.js';

const noModel = {
  model: undefined,
  'model-api': undefined,
  'model-url': undefined,
  'model-key-secret': undefined,
};

describe('agent run arguments', () => {
  it('splits --command on blanks, keeping quoted runs whole', () => {
    assert.deepEqual(argvOf('aider --yes  --message-file -'), [
      'aider',
      '--yes',
      '--message-file',
      '-',
    ]);
    assert.deepEqual(argvOf(`sh -c 'sleep 600; echo "done"'`), [
      'sh',
      '-c',
      'sleep 600; echo "done"',
    ]);
    assert.deepEqual(argvOf('run ""'), ['run', '']);
    assert.throws(() => argvOf("sh -c 'open"), /unclosed '/);
    assert.throws(() => argvOf('   '), /names no program/);
  });

  it('takes the model from all three flags, or none', () => {
    assert.equal(modelFrom(noModel), undefined);
    assert.deepEqual(
      modelFrom({
        ...noModel,
        model: 'qwen',
        'model-api': 'openai',
        'model-url': 'http://127.0.0.1:8000/v1',
        'model-key-secret': 'MODEL_KEY',
      }),
      {
        api: 'openai',
        baseUrl: 'http://127.0.0.1:8000/v1',
        model: 'qwen',
        keySecret: 'MODEL_KEY',
      },
    );
    assert.throws(() => modelFrom({ ...noModel, model: 'qwen' }), /--model-api is needed/);
    assert.throws(
      () => modelFrom({ ...noModel, model: 'q', 'model-api': 'gemini', 'model-url': 'http://x' }),
      /--model-api must be one of openai, anthropic/,
    );
  });

  it('-f is --follow, where a command gives it that alias', () => {
    const spec = {
      positionals: [{ name: 'id', required: true, describe: 'id' }],
      flags: { follow: { type: 'boolean', short: 'f', describe: 'follow' } },
    } as const;
    assert.equal(parseArgs(spec, ['agt_x', '-f'], 'agent logs').flags.follow, true);
    assert.equal(parseArgs(spec, ['agt_x'], 'agent logs').flags.follow, false);
    assert.throws(() => parseArgs(spec, ['agt_x', '-g'], 'agent logs'), /unknown flag -g/);
  });

  it('refuses contradictions before it talks to anyone', async () => {
    const cases: [string[], RegExp][] = [
      [['agent', 'run', 'do it'], /--env ENV or --repo URL/],
      [['agent', 'run', '--env', 'e', '--repo', 'r', 'do it'], /--env ENV or --repo URL/],
      [['agent', 'run', '--env', 'e', '--class', 'small', 'do it'], /--class is for/],
      [['agent', 'run', '--env', 'e', '--prompt-on', 'stdin', 'x'], /--prompt-on is for/],
      [['agent', 'run', '--env', 'e', '--model-key-env', 'KEY', 'x'], /--model-key-env is for/],
      [
        ['agent', 'run', '--env', 'e', '--command', 'aider', '--model-key-env', 'A-B', 'x'],
        /--model-key-env must be a variable name/,
      ],
      [['agent', 'run', '--env', 'e', '--model', 'm', 'x'], /--model-api is needed/],
      [['agent', 'run', '--env', 'e', '--max-steps', '0', 'x'], /--max-steps must be/],
      [['agent', 'run', '--env', 'e', '--max-time', '5', 'x'], /--max-time must be/],
      [['agent', 'run', '--env', 'e', '   '], /the prompt is empty/],
      [['agent', 'run', '--env', 'e', '-'], /the prompt is empty/],
      [['agent', 'logs'], /missing <id>/],
    ];
    for (const [argv, expected] of cases) {
      const result = await runMain(argv, { env: {} });
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected, argv.join(' '));
    }
  });
});

describe('transcript text', () => {
  it('shows what the model said, each call with a short result, and the end', () => {
    const printed = [
      { type: 'prompt', text: 'fix the test\nplease' },
      {
        type: 'model',
        step: 1,
        text: 'Let me look.\nThen fix it.',
        toolCalls: [{ id: 'c1', name: 'run_command', arguments: '{"command": "npm test"}' }],
      },
      {
        type: 'tool',
        step: 1,
        name: 'run_command',
        isError: true,
        result: ['1', '2', '3', '4', '5', '6'].join('\n'),
        elapsedMs: 812.4,
      },
      { type: 'malformed', step: 2, message: 'unknown tool curl' },
      { type: 'error', message: 'the model server answered 500' },
      { type: 'command', argv: ['aider', '--yes'] },
      { type: 'output', text: 'partial ' },
      { type: 'output', text: 'line\n' },
      {
        type: 'end',
        state: 'succeeded',
        steps: 3,
        inputTokens: 900,
        outputTokens: 40,
        summary: 'Fixed the off-by-one.',
      },
      { type: 'something-new', value: 1 },
    ]
      .map(transcriptText)
      .join('');
    assert.equal(
      printed,
      [
        'prompt: fix the test',
        '[1] model: Let me look.',
        '  Then fix it.',
        '> run_command {"command":"npm test"}',
        '  < run_command error (812 ms)',
        '    1',
        '    2',
        '    3',
        '    4',
        '    … 2 more lines',
        "! the model's reply was unusable: unknown tool curl",
        '! the model server answered 500',
        '$ aider --yes',
        'partial line',
        '= succeeded (3 steps, 900 tokens in, 40 out)',
        '  Fixed the off-by-one.',
        '{"type":"something-new","value":1}',
        '',
      ].join('\n'),
    );
    assert.equal(endState({ type: 'end', state: 'cancelled' }), 'cancelled');
    assert.equal(endState({ type: 'tool' }), undefined);
  });
});
