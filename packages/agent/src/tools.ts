import { agentTools, type AgentTool } from '@hangar/api';
import type { ParameterSpec, ToolSpec } from './conversation.js';

/** The most a tool call's arguments may be, as JSON text. */
export const maxArgumentBytes = 256 * 1024;

export interface ToolArguments {
  run_command: { command: string; cwd?: string; timeoutS?: number };
  read_file: { path: string };
  write_file: { path: string; content: string };
  replace_in_file: { path: string; old_text: string; new_text: string };
  list_directory: { path: string };
  search_files: { pattern: string; path?: string };
  finish: { summary: string };
}

/** A tool call whose name is known and whose arguments passed their schema. */
export type CheckedCall = {
  [Name in AgentTool]: { id: string; name: Name; args: ToolArguments[Name] };
}[AgentTool];

const text = (description: string, maxLength = 4096): ParameterSpec => ({
  type: 'string',
  description,
  maxLength,
});

function spec(
  name: AgentTool,
  description: string,
  properties: Record<string, ParameterSpec>,
  required: string[],
): ToolSpec {
  return {
    name,
    description,
    parameters: { type: 'object', properties, required, additionalProperties: false },
  };
}

const pathParameter = text('a path relative to the workspace folder, or absolute');

export const toolSpecs: Record<AgentTool, ToolSpec> = {
  run_command: spec(
    'run_command',
    'Runs a shell command line (/bin/sh -c) in the workspace folder and returns its exit code ' +
      'and output (at most 64 KiB of each stream).',
    {
      command: text('the command line', 65536),
      cwd: text('the working directory; the workspace folder when absent'),
      timeoutS: {
        type: 'integer',
        description: "seconds until the command is killed; at most the task's command timeout",
        minimum: 1,
        maximum: 86400,
      },
    },
    ['command'],
  ),
  read_file: spec('read_file', 'Returns the text of a file.', { path: pathParameter }, ['path']),
  write_file: spec(
    'write_file',
    'Writes a whole file, creating it or replacing what it held.',
    { path: pathParameter, content: text('the new content', maxArgumentBytes) },
    ['path', 'content'],
  ),
  replace_in_file: spec(
    'replace_in_file',
    'Replaces one exact occurrence of old_text in a file by new_text; fails when old_text ' +
      'occurs zero or several times (then quote more of the surrounding text).',
    {
      path: pathParameter,
      old_text: text('the text to replace, exactly as it is in the file', maxArgumentBytes),
      new_text: text('what replaces it', maxArgumentBytes),
    },
    ['path', 'old_text', 'new_text'],
  ),
  list_directory: spec(
    'list_directory',
    'Lists a directory: one entry a line, with its type and size.',
    { path: pathParameter },
    ['path'],
  ),
  search_files: spec(
    'search_files',
    'Searches file contents with grep (basic regular expression), recursively; returns matching ' +
      'lines as path:line:text.',
    {
      pattern: text('the pattern', 1000),
      path: text('the file or folder to search; the workspace folder when absent'),
    },
    ['pattern'],
  ),
  finish: spec(
    'finish',
    'Ends the task. Call it once the work is done, with a short summary of what you did.',
    { summary: text('what was done, for the person who asked', 20000) },
    ['summary'],
  ),
};

export function isAgentTool(name: string): name is AgentTool {
  return (agentTools as readonly string[]).includes(name);
}

export type ArgumentCheck<T> = { ok: true; value: T } | { ok: false; message: string };

function parameterProblem(name: string, value: unknown, parameter: ParameterSpec) {
  if (parameter.type === 'string') {
    if (typeof value !== 'string') return `${name} must be a string`;
    if (parameter.maxLength !== undefined && value.length > parameter.maxLength) {
      return `${name} is longer than ${parameter.maxLength} characters`;
    }
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) return `${name} must be an integer`;
  if (parameter.minimum !== undefined && value < parameter.minimum) {
    return `${name} must be at least ${parameter.minimum}`;
  }
  if (parameter.maximum !== undefined && value > parameter.maximum) {
    return `${name} must be at most ${parameter.maximum}`;
  }
  return undefined;
}

/** Checks parsed arguments against the tool's schema; the message says what to change. */
export function checkArguments<Name extends AgentTool>(
  name: Name,
  value: unknown,
): ArgumentCheck<ToolArguments[Name]> {
  const { properties, required } = toolSpecs[name].parameters;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `the arguments of ${name} must be a JSON object` };
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of required) {
    if (record[field] === undefined) problems.push(`${field} is required`);
  }
  for (const [field, item] of Object.entries(record)) {
    const parameter = properties[field];
    if (!parameter) {
      problems.push(`${field} is not an argument of ${name}; remove it`);
      continue;
    }
    if (item === undefined || (item === null && !required.includes(field))) continue;
    const problem = parameterProblem(field, item, parameter);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    return { ok: false, message: `bad arguments for ${name}: ${problems.slice(0, 5).join('; ')}` };
  }
  const cleaned = Object.fromEntries(Object.entries(record).filter(([, item]) => item !== null));
  return { ok: true, value: cleaned as ToolArguments[Name] };
}
