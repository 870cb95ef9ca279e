import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { ENVD_SECRET_BYTES } from './auth.js';
import type { EgressForwardConfig } from './egress-forward.js';

/** What the runner tells envd at start, as a JSON file mounted read-only into the sandbox. */
export interface EnvdConfig {
  socketPath: string;
  /** The environment this envd serves; every challenge proof names it (see `auth.ts`). */
  environmentId: string;
  /** The per-boot secret shared with the runner alone, as hex (see `auth.ts`). */
  authSecret: string;
  /** Default cwd of commands and base of relative file paths. */
  workspaceFolder: string;
  /** The only directories file operations may touch (the workspace folder, home, /tmp). */
  roots: string[];
  /** Variables every command gets (PATH, HOME, USER, containerEnv, ...). */
  env: Record<string, string>;
  /** After SIGTERM to a timed-out command's process group, SIGKILL follows this much later. */
  killGraceMs: number;
  /** After a command's main process exits, output still open is read until this quiet time. */
  outputQuietMs: number;
  /** Forward 127.0.0.1:listenPort to the runner's egress proxy socket; absent: no forwarder. */
  egress?: EgressForwardConfig;
}

export const defaultConfig = { killGraceMs: 1000, outputQuietMs: 500 } as const;

function fail(message: string): never {
  throw new Error(`envd configuration: ${message}`);
}

function absolutePath(value: unknown, field: string): string {
  if (typeof value !== 'string' || !posix.isAbsolute(value) || value.includes('\0')) {
    fail(`${field} must be an absolute path`);
  }
  return posix.normalize(value);
}

function environmentId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(value)) {
    fail('environmentId must be 1 to 200 letters, digits, "_" or "-"');
  }
  return value;
}

function secretHex(value: unknown): string {
  const length = ENVD_SECRET_BYTES * 2;
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${length}}$`).test(value)) {
    fail(`authSecret must be ${length} lowercase hex digits`);
  }
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${field} must be an object of strings`);
  }
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(`${field}.${key} must be a string`);
    result[key] = item;
  }
  return result;
}

function optionalMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail(`${field} must be a non-negative integer`);
  }
  return value;
}

function egressConfig(value: unknown): EgressForwardConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('egress must be an object {listenPort, socketPath}');
  }
  const raw = value as Record<string, unknown>;
  const port = raw.listenPort;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail('egress.listenPort must be a port number (1 to 65535)');
  }
  return { listenPort: port, socketPath: absolutePath(raw.socketPath, 'egress.socketPath') };
}

export function parseConfig(value: unknown): EnvdConfig {
  if (typeof value !== 'object' || value === null) fail('must be a JSON object');
  const raw = value as Record<string, unknown>;
  if (!Array.isArray(raw.roots) || raw.roots.length === 0) fail('roots must be a non-empty list');
  return {
    socketPath: absolutePath(raw.socketPath, 'socketPath'),
    environmentId: environmentId(raw.environmentId),
    authSecret: secretHex(raw.authSecret),
    workspaceFolder: absolutePath(raw.workspaceFolder, 'workspaceFolder'),
    roots: raw.roots.map((root: unknown, index) => absolutePath(root, `roots[${index}]`)),
    env: stringMap(raw.env ?? {}, 'env'),
    killGraceMs: optionalMs(raw.killGraceMs, 'killGraceMs', defaultConfig.killGraceMs),
    outputQuietMs: optionalMs(raw.outputQuietMs, 'outputQuietMs', defaultConfig.outputQuietMs),
    ...(raw.egress !== undefined ? { egress: egressConfig(raw.egress) } : {}),
  };
}

export function loadConfig(path: string): EnvdConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    fail(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseConfig(JSON.parse(text));
  } catch (error: unknown) {
    if (error instanceof SyntaxError) fail(`${path} is not valid JSON: ${error.message}`);
    throw error;
  }
}
