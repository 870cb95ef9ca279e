import type { DevcontainerConfig, PortAttributes } from './types.js';

/** What Hangar shows of a port's `portsAttributes` entry. */
export interface PortLook {
  label?: string;
  protocol?: string;
  onAutoForward?: string;
}

/** Which ports a `portsAttributes` key names: one port, a range, or a command-line pattern. */
export type PortMatch =
  | { kind: 'port'; port: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'command'; pattern: string };

/**
 * devcontainer.json `forwardPorts`, `portsAttributes` and `otherPortsAttributes`, reduced to
 * what the gateway lists. Plain JSON, so the runner keeps it across its own restarts.
 */
export interface PortsConfig {
  /** Ports in this environment to list even while nothing listens on them. */
  forwardPorts: number[];
  attributes: Array<{ match: PortMatch; look: PortLook }>;
  other?: PortLook;
}

export const noPortsConfig: PortsConfig = { forwardPorts: [], attributes: [] };

/** `3000`, `"localhost:3000"` or `"127.0.0.1:3000"`; another host is another container. */
function localPort(entry: number | string): number | undefined {
  if (typeof entry === 'number') return entry >= 1 && entry <= 65535 ? entry : undefined;
  const match = /^(localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[2]);
  return match && port >= 1 && port <= 65535 ? port : undefined;
}

function matchOf(key: string): PortMatch {
  const single = localPort(/^\d+$/.test(key) ? Number(key) : key);
  if (single !== undefined) return { kind: 'port', port: single };
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(key);
  if (range) return { kind: 'range', from: Number(range[1]), to: Number(range[2]) };
  return { kind: 'command', pattern: key };
}

function lookOf(attributes: PortAttributes): PortLook {
  const look: PortLook = {};
  if (typeof attributes.label === 'string') look.label = attributes.label;
  if (typeof attributes.protocol === 'string') look.protocol = attributes.protocol;
  if (typeof attributes.onAutoForward === 'string') look.onAutoForward = attributes.onAutoForward;
  return look;
}

/** Reads the port fields of a validated devcontainer.json; none at all when there is no file. */
export function portsConfigOf(config: DevcontainerConfig | undefined): PortsConfig {
  if (!config) return noPortsConfig;
  const forwardPorts = [
    ...new Set((config.forwardPorts ?? []).flatMap((entry) => localPort(entry) ?? [])),
  ];
  const attributes = Object.entries(config.portsAttributes ?? {}).map(([key, value]) => ({
    match: matchOf(key),
    look: lookOf(value),
  }));
  return {
    forwardPorts,
    attributes,
    ...(config.otherPortsAttributes ? { other: lookOf(config.otherPortsAttributes) } : {}),
  };
}

// Known gap: a pattern key (a regular expression over the listening process's command line)
// is kept but never matched, because running a repository's regular expression in the runner
// could stall it for every environment; such ports get `otherPortsAttributes`. A matcher with
// a time bound (a worker, or a linear-time engine) would close it.
function matches(match: PortMatch, port: number): boolean {
  if (match.kind === 'port') return match.port === port;
  if (match.kind === 'range') return port >= match.from && port <= match.to;
  return false;
}

/**
 * The attributes of one port, as the reference tools pick them: an exact port first, then a
 * range, then `otherPortsAttributes`.
 */
export function portLook(config: PortsConfig, port: number): PortLook {
  for (const kind of ['port', 'range'] as const) {
    const found = config.attributes.find(
      (entry) => entry.match.kind === kind && matches(entry.match, port),
    );
    if (found) return found.look;
  }
  return config.other ?? {};
}
