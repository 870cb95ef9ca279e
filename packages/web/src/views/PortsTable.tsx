import type { paths } from '../api-types.js';
import type { PortEntry } from '../gateway.js';
import { ErrorNote, Loaded } from './common.js';
import type { GatewayState } from './gateway-state.js';
import { ScrollRegion } from './ScrollRegion.js';

export type ShareLevel =
  paths['/v1/environments/{id}/ports/{port}']['put']['requestBody']['content']['application/json']['level'];

export const shareLevels: readonly ShareLevel[] = ['private', 'org', 'public'];

const levelMeaning: Record<ShareLevel, string> = {
  private: 'only the owner',
  org: 'members of the organization',
  public: 'anyone with the link, where the organization policy allows it',
};

export interface PortsTableProps {
  ports: GatewayState<PortEntry[]>;
  /** The control plane's refusal of the last share change, or of an open. */
  portError: string | null;
  /** A port whose share change or link is on its way. */
  busyPort: number | null;
  /** The link of a port the browser would not open in a new tab by itself. */
  blockedLink: { port: number; url: string } | null;
  onShare: (port: number, level: ShareLevel) => void;
  onOpen: (port: number) => void;
  onRefresh: () => void;
}

/** What listens in the environment, how far each port is shared, and a way to open it. */
export function PortsTable({ ports, onRefresh, ...rest }: PortsTableProps) {
  return (
    <section aria-labelledby="ports-title">
      <h2 id="ports-title">Ports</h2>
      {ports.kind === 'unavailable' ? (
        <p>{ports.reason}</p>
      ) : (
        <>
          <button type="button" onClick={onRefresh}>
            Refresh ports
          </button>
          {rest.portError ? <ErrorNote>{rest.portError}</ErrorNote> : null}
          {rest.blockedLink ? <BlockedLink {...rest.blockedLink} /> : null}
          <Loaded
            state={ports}
            what="the ports"
            ready={(list) => <Table ports={list} {...rest} />}
          />
        </>
      )}
    </section>
  );
}

function BlockedLink({ port, url }: { port: number; url: string }) {
  return (
    <p role="status">
      The browser did not open a new tab.{' '}
      <a href={url} target="_blank" rel="noopener noreferrer">
        Open port {port} in a new tab
      </a>{' '}
      (the link works for a few minutes).
    </p>
  );
}

type RowProps = Omit<PortsTableProps, 'ports' | 'onRefresh' | 'portError' | 'blockedLink'>;

function Table({ ports, ...rest }: RowProps & { ports: PortEntry[] }) {
  if (ports.length === 0) {
    return <p>Nothing listens in the environment, and devcontainer.json forwards no port.</p>;
  }
  return (
    <>
      <ScrollRegion label="Ports">
        <table className="ports">
          <caption>Ports listening or forwarded</caption>
          <thead>
            <tr>
              <th scope="col">Port</th>
              <th scope="col">Bound to</th>
              <th scope="col">Process</th>
              <th scope="col">Label</th>
              <th scope="col">Shared with</th>
              <th scope="col">Open</th>
            </tr>
          </thead>
          <tbody>
            {ports.map((entry) => (
              <PortRow key={entry.port} entry={entry} {...rest} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <ul className="note">
        {shareLevels.map((level) => (
          <li key={level}>
            <strong>{level}</strong>: {levelMeaning[level]}
          </li>
        ))}
      </ul>
    </>
  );
}

function PortRow({ entry, busyPort, onShare, onOpen }: RowProps & { entry: PortEntry }) {
  const { port } = entry;
  const selectId = `share-${port}`;
  const busy = busyPort === port;
  return (
    <tr data-port={port}>
      <th scope="row">{port}</th>
      <td>
        <Binding entry={entry} />
      </td>
      <td>
        {entry.process ? (
          <>
            <code>{entry.process.command}</code> (pid {entry.process.pid})
          </>
        ) : (
          '—'
        )}
      </td>
      <td>{entry.label ?? '—'}</td>
      <td>
        <label htmlFor={selectId} className="visually-hidden">
          Share port {port} with
        </label>
        <select
          id={selectId}
          value={entry.share}
          disabled={busy}
          onChange={(event) => onShare(port, event.currentTarget.value as ShareLevel)}
        >
          {shareLevels.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
      </td>
      <td>
        <button type="button" disabled={busy || !entry.listening} onClick={() => onOpen(port)}>
          Open <span className="visually-hidden">port {port} in a new tab</span>
        </button>
      </td>
    </tr>
  );
}

/** Each address the port listens on, and whether only the environment itself can reach it. */
function Binding({ entry }: { entry: PortEntry }) {
  if (!entry.listening) return <>not listening (forwarded by devcontainer.json)</>;
  return (
    <ul className="plain">
      {entry.addresses.map(({ address, family, loopbackOnly }) => (
        <li key={`${family}-${address}`} data-loopback={String(loopbackOnly)}>
          <code>{address}</code> ({loopbackOnly ? 'loopback only' : 'all interfaces'})
        </li>
      ))}
    </ul>
  );
}
