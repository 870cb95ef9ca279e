import { useEffect, useState } from 'react';
import { resultOf, type Client, type Environment } from '../../client.js';
import type { PortEntry } from '../../gateway.js';
import { useLoad, type LoadState } from '../../load.js';
import { PortsTable, type ShareLevel } from '../../views/PortsTable.js';
import { readPorts, type GrantCache } from './gateway-calls.js';

/** How often the list of ports is read while the environment runs. */
export const portsPollMs = 5000;

/** The link a port grant opens: the gateway's proxy path with the grant, once. */
export function portLinkOf(access: { url: string; token: string }): string {
  const link = new URL(access.url);
  link.searchParams.set('hangar_grant', access.token);
  return link.toString();
}

/** Ports from the gateway; share levels and links from the control plane. */
export function PortsSection({
  client,
  environment,
  grants,
}: {
  client: Client;
  environment: Environment;
  grants: GrantCache;
}) {
  const { id } = environment;
  const running = environment.status.phase === 'running';
  const { state, reload } = useLoad(
    () => (running ? readPorts(grants, id) : Promise.resolve({ ok: true as const, data: [] })),
    `${id}:${running}`,
    running ? portsPollMs : undefined,
  );
  const [portError, setPortError] = useState<string | null>(null);
  const [busyPort, setBusyPort] = useState<number | null>(null);
  const [blockedLink, setBlockedLink] = useState<{ port: number; url: string } | null>(null);
  // Levels the control plane accepted that the runner has not reported back yet.
  const [accepted, setAccepted] = useState<ReadonlyMap<number, ShareLevel>>(new Map());
  useEffect(() => {
    if (state.kind !== 'ready') return;
    setAccepted((map) => {
      const next = new Map(map);
      for (const entry of state.data)
        if (next.get(entry.port) === entry.share) next.delete(entry.port);
      return next.size === map.size ? map : next;
    });
  }, [state]);
  const portPath = (port: number) => ({ params: { path: { id, port } } });

  const onShare = async (port: number, level: ShareLevel) => {
    setBusyPort(port);
    setPortError(null);
    const result = await resultOf(
      client.PUT('/v1/environments/{id}/ports/{port}', { ...portPath(port), body: { level } }),
    );
    setBusyPort(null);
    if (!result.ok) {
      setPortError(`Port ${port} stays as it was: ${result.message}`);
      return;
    }
    const { effectiveLevel } = result.data;
    setAccepted((map) => new Map(map).set(port, effectiveLevel));
    if (effectiveLevel !== level) {
      setPortError(
        `Port ${port} is set to ${level}, but the organization policy holds it at ` +
          `${effectiveLevel}.`,
      );
    }
    await reload();
  };

  const onOpen = async (port: number) => {
    setPortError(null);
    setBlockedLink(null);
    // Opened now, while the click still counts, so the browser does not block it as a pop-up.
    const tab = window.open('', '_blank');
    setBusyPort(port);
    const result = await resultOf(
      client.POST('/v1/environments/{id}/ports/{port}/access', portPath(port)),
    );
    setBusyPort(null);
    if (!result.ok) {
      tab?.close();
      setPortError(`Port ${port} could not be opened: ${result.message}`);
      return;
    }
    const url = portLinkOf(result.data);
    if (!tab) {
      setBlockedLink({ port, url });
      return;
    }
    tab.opener = null;
    tab.location.href = url;
  };

  const ports = running
    ? withAccepted(state, accepted)
    : {
        kind: 'unavailable' as const,
        reason: `Ports are listed while the environment runs; it is ${environment.status.phase}.`,
      };
  return (
    <PortsTable
      ports={ports}
      portError={portError}
      busyPort={busyPort}
      blockedLink={blockedLink}
      onShare={(port, level) => void onShare(port, level)}
      onOpen={(port) => void onOpen(port)}
      onRefresh={() => void reload()}
    />
  );
}

/**
 * The ports with the levels just accepted shown in place of what the runner last reported, until
 * it reports them too, so a changed level does not flip back while the change travels.
 */
export function withAccepted(
  state: LoadState<PortEntry[]>,
  accepted: ReadonlyMap<number, ShareLevel>,
): LoadState<PortEntry[]> {
  if (state.kind !== 'ready' || accepted.size === 0) return state;
  const data = state.data.map((entry) => {
    const level = accepted.get(entry.port);
    return level === undefined ? entry : { ...entry, share: level };
  });
  return { kind: 'ready', data };
}
