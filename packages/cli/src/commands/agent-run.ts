import type { Readable } from 'node:stream';
import type { AgentTask, AgentTool, CreateAgentTaskBody, Environment } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { agentAccess, createTask, promptSha256, submitPrompt } from '../agent-client.js';
import { followTranscript } from '../agent-follow.js';
import { defineCommand } from '../command.js';
import { getEnvironment, resolveEnvironment } from '../environments.js';
import { finishWait } from '../env-report.js';
import { UsageError } from '../errors.js';
import type { HttpClient } from '../http-client.js';
import type { Output } from '../output.js';
import { apiFlags, openSession } from '../session.js';
import { watchEnvironment } from '../watch.js';
import { repositoryUrlFrom } from './env-create.js';

const commandPath = 'agent run';
const modelApis = ['openai', 'anthropic'] as const;
const promptModes = ['stdin', 'argument'] as const;
/** The same rule as the API's `command.keyVariable`. */
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

function usage(flag: string, message: string): UsageError {
  return new UsageError(`--${flag} ${message}`, {
    commandPath,
    fields: [{ field: flag, message }],
  });
}

/**
 * `--command "aider --yes"` as an argv: words split on blanks, a run in single or double quotes
 * kept whole (quotes removed). No other shell syntax: nothing is expanded.
 */
export function argvOf(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (const character of line) {
    if (quote) {
      if (character === quote) quote = undefined;
      else word = (word ?? '') + character;
    } else if (character === '"' || character === "'") {
      quote = character;
      word ??= '';
    } else if (/\s/.test(character)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + character;
    }
  }
  if (quote) throw usage('command', `has an unclosed ${quote}`);
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw usage('command', 'names no program');
  return words;
}

function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw usage(flag, `must be one of ${choices.join(', ')}, got "${value}"`);
}

interface ModelFlags {
  model: string | undefined;
  'model-api': string | undefined;
  'model-url': string | undefined;
  'model-key-secret': string | undefined;
}

/** The task's model from the flags: all of --model, --model-api, --model-url, or none. */
export function modelFrom(flags: ModelFlags): CreateAgentTaskBody['model'] {
  const given = (['model', 'model-api', 'model-url', 'model-key-secret'] as const).filter(
    (flag) => flags[flag] !== undefined,
  );
  if (given.length === 0) return undefined;
  const missing = (['model', 'model-api', 'model-url'] as const).filter(
    (flag) => flags[flag] === undefined,
  );
  if (missing.length > 0) {
    throw usage(
      missing[0] ?? 'model',
      `is needed with --${given[0] ?? 'model'}: give --model, --model-api and --model-url ` +
        "together, or none for the organization's model",
    );
  }
  return {
    api: oneOf('model-api', flags['model-api'] ?? '', modelApis),
    baseUrl: flags['model-url'] ?? '',
    model: flags.model ?? '',
    ...(flags['model-key-secret'] ? { keySecret: flags['model-key-secret'] } : {}),
  };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits until the task's environment runs; a fresh one is being created right now. */
async function runningEnvironment(api: HttpClient, out: Output, id: string): Promise<Environment> {
  const environment = await getEnvironment(api, id);
  if (environment.status.phase === 'running') return environment;
  out.info(`waiting for environment ${environment.name} to run`);
  const result = await watchEnvironment(api, environment, {
    target: 'running',
    sinceTime: environment.createdAt,
    report: (line) => out.info(line),
  });
  if (result.outcome !== 'reached') {
    await finishWait(api, out, result);
    throw new HangarError(
      'environment_not_running',
      `environment ${environment.name} did not reach running, so the task cannot start; ` +
        '`hangar agent stop` ends it',
    );
  }
  return result.environment;
}

export const command = defineCommand({
  synopsis:
    '(--env ENV | --repo URL [--class C]) [--model M --model-api openai|anthropic ' +
    '--model-url URL [--model-key-secret NAME]] [--tool T]... [--max-steps N] [--max-tokens N] ' +
    '[--max-time 30m] [--command-timeout 10m] [--command "ARGV" --prompt-on stdin|argument ' +
    '[--model-key-env VAR]] [--follow] <prompt | ->',
  description:
    'Starts an agent task in one of your environments (--env), or in a fresh one cloned from ' +
    '--repo. The prompt (the argument, or stdin with -) goes to the runner only; the control ' +
    'plane keeps its SHA-256. Without --model the organization policy agents.model is used. ' +
    'Prints the task id; with --follow, prints the transcript until the task ends and exits 0 ' +
    'when it succeeded, 1 otherwise. With --command, runs that agent program in the ' +
    'environment instead of the built-in loop; --model-key-env gives it the model key (the ' +
    'secret of --model-key-secret, or of the policy model) in that variable, masked in its output.',
  spec: {
    positionals: [{ name: 'prompt', required: true, describe: 'what to do, or - for stdin' }],
    flags: {
      ...apiFlags,
      env: { type: 'string', valueName: 'ENV', describe: 'environment id or name to work in' },
      repo: {
        type: 'string',
        valueName: 'URL',
        describe: 'a repository to clone into a fresh environment for the task',
      },
      class: { type: 'string', valueName: 'C', describe: 'class of the fresh environment' },
      name: { type: 'string', valueName: 'NAME', describe: 'name of the fresh environment' },
      model: { type: 'string', valueName: 'M', describe: 'model name, such as qwen2.5-coder' },
      'model-api': {
        type: 'string',
        valueName: 'API',
        describe: 'openai (Chat Completions, vLLM, Ollama...) or anthropic (Messages)',
      },
      'model-url': { type: 'string', valueName: 'URL', describe: 'base URL of the model server' },
      'model-key-secret': {
        type: 'string',
        valueName: 'NAME',
        describe: 'a secret with delivery model holding the API key',
      },
      tool: {
        type: 'string',
        valueName: 'T',
        multiple: true,
        describe: 'a tool the agent may use (default: all the policy allows)',
      },
      'max-steps': { type: 'integer', valueName: 'N', min: 1, max: 10000, describe: 'model turns' },
      'max-tokens': {
        type: 'integer',
        valueName: 'N',
        min: 100,
        max: 100000000,
        describe: 'input and output tokens, all turns together',
      },
      'max-time': {
        type: 'duration',
        valueName: 'DURATION',
        min: 10,
        max: 604800,
        describe: 'wall time of the whole task, such as 30m',
      },
      'command-timeout': {
        type: 'duration',
        valueName: 'DURATION',
        min: 1,
        max: 86400,
        describe: 'time each command the agent runs may take, such as 10m',
      },
      command: {
        type: 'string',
        valueName: 'ARGV',
        describe: 'an agent program in the environment to run instead, such as "aider --yes"',
      },
      'prompt-on': {
        type: 'string',
        valueName: 'stdin|argument',
        describe: 'how --command gets the prompt (default: stdin)',
      },
      'model-key-env': {
        type: 'string',
        valueName: 'VAR',
        describe: 'the variable --command gets the model key in, such as ANTHROPIC_API_KEY',
      },
      follow: { type: 'boolean', short: 'f', describe: 'print the transcript until the end' },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    if ((flags.env === undefined) === (flags.repo === undefined)) {
      throw new UsageError('give --env ENV or --repo URL (one of them)', { commandPath });
    }
    for (const flag of ['class', 'name'] as const) {
      if (flags[flag] !== undefined && flags.repo === undefined) {
        throw usage(flag, 'is for the fresh environment of --repo');
      }
    }
    for (const flag of ['prompt-on', 'model-key-env'] as const) {
      if (flags[flag] !== undefined && flags.command === undefined) {
        throw usage(flag, 'is for --command');
      }
    }
    const keyVariable = flags['model-key-env'];
    if (keyVariable !== undefined && !variableName.test(keyVariable)) {
      throw usage(
        'model-key-env',
        `must be a variable name (letters, digits, _), got "${keyVariable}"`,
      );
    }
    const body: CreateAgentTaskBody = { promptSha256: '' };
    const model = modelFrom(flags);
    if (model) body.model = model;
    if (flags.tool.length > 0) body.tools = flags.tool as AgentTool[];
    const limits: NonNullable<CreateAgentTaskBody['limits']> = {};
    if (flags['max-steps'] !== undefined) limits.maxSteps = flags['max-steps'];
    if (flags['max-tokens'] !== undefined) limits.maxTokens = flags['max-tokens'];
    if (flags['max-time'] !== undefined) limits.maxWallTimeS = Math.ceil(flags['max-time']);
    if (flags['command-timeout'] !== undefined) {
      limits.commandTimeoutS = Math.ceil(flags['command-timeout']);
    }
    if (Object.keys(limits).length > 0) body.limits = limits;
    if (flags.command !== undefined) {
      const prompt = oneOf('prompt-on', flags['prompt-on'] ?? 'stdin', promptModes);
      body.command = {
        argv: argvOf(flags.command),
        prompt,
        ...(keyVariable !== undefined ? { keyVariable } : {}),
      };
    }
    const prompt = positionals.prompt === '-' ? await readAll(io.stdin) : positionals.prompt;
    if (prompt.trim() === '') throw new UsageError('the prompt is empty', { commandPath });
    body.promptSha256 = promptSha256(prompt);

    const { api } = await openSession(io, flags);
    if (flags.env !== undefined) {
      body.environmentId = (await resolveEnvironment(api, flags.env)).id;
    } else {
      body.repository = { url: repositoryUrlFrom(flags.repo ?? '', io.cwd) };
      if (flags.class !== undefined) body.class = flags.class;
      if (flags.name !== undefined) body.name = flags.name;
    }
    const task = await createTask(api, body);
    out.info(`created agent task ${task.id} in environment ${task.environmentId}`);
    await runningEnvironment(api, out, task.environmentId);
    const access = await agentAccess(api, task);
    await submitPrompt(access, task.id, prompt);
    if (!flags.follow) {
      out.result(task, () => task.id);
      out.info(
        `the prompt is with the runner; \`hangar agent logs ${task.id} -f\` follows the ` +
          `transcript, \`hangar agent stop ${task.id}\` stops it`,
      );
      return 0;
    }
    return finishFollow(api, out, task, access);
  },
});

async function finishFollow(
  api: HttpClient,
  out: Output,
  task: AgentTask,
  access: Awaited<ReturnType<typeof agentAccess>>,
): Promise<number> {
  const ended = await followTranscript(api, out, task, { access, follow: true });
  return ended.state === 'succeeded' ? 0 : 1;
}
