import { useMemo } from 'react';
import { useApp } from '../app-context.js';
import type { Client, Environment } from '../client.js';
import { ConnectHelp } from '../views/ConnectHelp.js';
import { EnvironmentHeader } from '../views/EnvironmentHeader.js';
import { EnvironmentTimeline, type SeenPhase } from '../views/EnvironmentTimeline.js';
import { GrantCache } from './environment/gateway-calls.js';
import { LogsSection } from './environment/LogsSection.js';
import { PortsSection } from './environment/PortsSection.js';
import { TerminalSection } from './environment/TerminalSection.js';
import { useEnvironmentActions } from './environment/use-environment-actions.js';
import { useEnvironmentWatch } from './environment/use-environment-watch.js';

/**
 * One environment: its live phase and actions, its timeline, and what its runner's gateway
 * serves to the browser directly (lifecycle logs, ports, a terminal), then how to connect.
 */
export function EnvironmentPage({ id }: { id: string }) {
  // Another environment is another page: nothing of this one's state carries over.
  return <EnvironmentDetails key={id} id={id} />;
}

function EnvironmentDetails({ id }: { id: string }) {
  const { client, session } = useApp();
  const watch = useEnvironmentWatch(client, id);
  const { actionError, ...actions } = useEnvironmentActions(client, id, watch.accept);
  return (
    <>
      <EnvironmentHeader
        environment={watch.state}
        userId={session.userId}
        actionError={actionError}
        watchProblem={watch.problem}
        {...actions}
      />
      {watch.state.kind === 'ready' ? (
        <Sections client={client} environment={watch.state.data} seen={watch.seen} />
      ) : null}
    </>
  );
}

function Sections({
  client,
  environment,
  seen,
}: {
  client: Client;
  environment: Environment;
  seen: readonly SeenPhase[];
}) {
  const { id } = environment;
  const grants = useMemo(() => new GrantCache(client, id, ['logs', 'ports:read']), [client, id]);
  return (
    <>
      <EnvironmentTimeline environment={environment} seen={seen} />
      <LogsSection environment={environment} grants={grants} />
      <PortsSection client={client} environment={environment} grants={grants} />
      <TerminalSection client={client} environment={environment} />
      {environment.spec.desiredPhase === 'deleted' ? null : (
        <ConnectHelp name={environment.name} workspaceFolder={environment.status.workspaceFolder} />
      )}
    </>
  );
}
