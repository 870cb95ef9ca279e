import { isIPv4, isIPv6 } from 'node:net';
import { HangarError, type RunnerSsh } from '@hangar/api';
import { parseSshPublicKeyLine } from './key-format.js';

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

const hostnameLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function isHostname(host: string): boolean {
  return host.length <= 253 && host.split('.').every((label) => hostnameLabel.test(label));
}

/**
 * Checks the address SSH clients are told to dial: `host:port`, the host a DNS name, an IPv4
 * address or an IPv6 address in brackets, and not an unspecified address, which no client can
 * dial. Returns it unchanged.
 */
export function checkSshAddress(address: string, field: string): string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const [, v6, name, portText = ''] = match ?? [];
  const port = Number(portText);
  const hostOk =
    v6 !== undefined ? isIPv6(v6) : name !== undefined && (isIPv4(name) || isHostname(name));
  if (!match || !hostOk || port < 1 || port > 65535) {
    throw invalid(
      field,
      'must be host:port that SSH clients can dial, such as ssh.example.com:2222, ' +
        '10.0.0.5:2222 or [fd00::5]:2222',
    );
  }
  if (name === '0.0.0.0' || (v6 !== undefined && /^[0:]+$/.test(v6))) {
    throw invalid(field, 'is an unspecified address no client can dial; publish the real address');
  }
  return address;
}

/** Checks what a runner publishes about its SSH gateway; host keys come back normalized. */
export function checkRunnerSsh(ssh: RunnerSsh, field = 'ssh'): RunnerSsh {
  const address = checkSshAddress(ssh.address, `${field}.address`);
  const hostKeys = ssh.hostKeys.map(
    (line, index) => parseSshPublicKeyLine(line, `${field}.hostKeys.${index}`).line,
  );
  if (new Set(hostKeys).size !== hostKeys.length) {
    throw invalid(`${field}.hostKeys`, 'lists one key twice');
  }
  return { address, hostKeys };
}
