import type { PortShare, PortShareLevel } from '@hangar/api';
import type { PositionalSpec } from './args.js';
import { UsageError } from './errors.js';
import type { HttpClient } from './http-client.js';

export const shareLevels: readonly PortShareLevel[] = ['private', 'org', 'public'];

const levelWords: Record<PortShareLevel, string> = {
  private: 'private (only you)',
  org: 'shared with the organization',
  public: 'public (anyone with the link)',
};

/** The `<env> <port>` positionals of the commands that act on one port of an environment. */
export const portPositionals = [
  { name: 'env', required: true, describe: 'environment id or name' },
  { name: 'port', required: true, describe: 'the port inside the environment' },
] as const satisfies readonly PositionalSpec[];

/** A port number from the command line, 1 to 65535. */
export function parsePort(text: string, commandPath: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(`<port> must be a port number from 1 to 65535, got "${text}"`, {
      commandPath,
      fields: [{ field: 'port', message: 'must be a number from 1 to 65535' }],
    });
  }
  return port;
}

export function parseLevel(text: string, commandPath: string, flag: string): PortShareLevel {
  const level = shareLevels.find((candidate) => candidate === text);
  if (!level) {
    throw new UsageError(`--${flag} must be one of ${shareLevels.join(', ')}, got "${text}"`, {
      commandPath,
      fields: [{ field: flag, message: `must be one of ${shareLevels.join(', ')}` }],
    });
  }
  return level;
}

export async function setShare(
  api: HttpClient,
  environmentId: string,
  port: number,
  level: PortShareLevel,
): Promise<PortShare> {
  return api.json<PortShare>(
    'PUT',
    `/v1/environments/${encodeURIComponent(environmentId)}/ports/${port}`,
    { body: { level } },
  );
}

export function describeShare(share: PortShare, name: string): string[] {
  const lines = [`port ${share.port} of ${name} is ${levelWords[share.effectiveLevel]}`];
  if (share.effectiveLevel !== share.level) {
    lines.push(`(asked ${share.level}; the organization policy allows ${share.effectiveLevel})`);
  }
  return lines;
}
