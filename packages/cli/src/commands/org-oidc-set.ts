import type { OidcConfig } from '@hangar/api';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { apiFlags, openSession } from '../session.js';
import { describeOidc } from './org-oidc-get.js';

const path = 'org oidc set';

async function readStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function parseClaim(text: string): { name: string; value: string } {
  const equals = text.indexOf('=');
  if (equals <= 0 || equals === text.length - 1) {
    throw new UsageError(`--required-claim must be name=value, got "${text}"`, {
      commandPath: path,
      fields: [{ field: 'required-claim', message: 'must be name=value, such as groups=dev' }],
    });
  }
  return { name: text.slice(0, equals), value: text.slice(equals + 1) };
}

function parseSwitch(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'on' || text === 'off') return text === 'on';
  throw new UsageError(`--store-profile must be on or off, got "${text}"`, {
    commandPath: path,
    fields: [{ field: 'store-profile', message: 'must be on or off' }],
  });
}

export const command = defineCommand({
  synopsis:
    '--issuer URL --client-id ID [--client-secret-stdin] [--allowed-domain D]... ' +
    '[--required-claim name=value] [--store-profile on|off] [--default-role member|auditor]',
  description:
    "Sets the organization's OpenID provider (owners and admins). The control plane reads the " +
    "issuer's discovery document first. The client secret is read from stdin, never from an " +
    'argument; leave --client-secret-stdin out to keep the stored one.',
  spec: {
    flags: {
      ...apiFlags,
      issuer: { type: 'string', valueName: 'URL', required: true, describe: 'the issuer URL' },
      'client-id': {
        type: 'string',
        valueName: 'ID',
        required: true,
        describe: 'the client id registered at the provider',
      },
      'client-secret-stdin': { type: 'boolean', describe: 'read the client secret from stdin' },
      'allowed-domain': {
        type: 'string',
        valueName: 'DOMAIN',
        multiple: true,
        describe: 'an e-mail domain allowed to sign in (verified e-mail); none: any',
      },
      'required-claim': {
        type: 'string',
        valueName: 'NAME=VALUE',
        describe: 'a claim every ID token must hold',
      },
      'store-profile': {
        type: 'string',
        valueName: 'on|off',
        describe: 'keep the name and e-mail of users (default off)',
      },
      'default-role': {
        type: 'string',
        valueName: 'ROLE',
        describe: 'the role of users made at first sign-in: member (default) or auditor',
      },
    },
  },
  async run({ io, out }, { flags }) {
    const storeProfile = parseSwitch(flags['store-profile']);
    const claim = flags['required-claim'] ? parseClaim(flags['required-claim']) : undefined;
    const role = flags['default-role'];
    if (role !== undefined && role !== 'member' && role !== 'auditor') {
      throw new UsageError(`--default-role must be member or auditor, got "${role}"`, {
        commandPath: path,
        fields: [{ field: 'default-role', message: 'must be member or auditor' }],
      });
    }
    const secret = flags['client-secret-stdin'] ? await readStdin(io) : undefined;
    if (secret === '') {
      throw new UsageError('--client-secret-stdin read nothing: pipe the secret in', {
        commandPath: path,
        fields: [{ field: 'client-secret-stdin', message: 'stdin was empty' }],
      });
    }
    const { api } = await openSession(io, flags);
    const body = {
      issuer: flags.issuer,
      clientId: flags['client-id'],
      ...(secret !== undefined ? { clientSecret: secret } : {}),
      ...(flags['allowed-domain'].length > 0 ? { allowedDomains: flags['allowed-domain'] } : {}),
      ...(claim ? { requiredClaim: claim } : {}),
      ...(storeProfile !== undefined ? { storeProfile } : {}),
      ...(role !== undefined ? { defaultRole: role } : {}),
    };
    const config = await api.json<OidcConfig>('PUT', '/v1/org/oidc', { body });
    out.result(config, () => describeOidc(config));
    return 0;
  },
});
