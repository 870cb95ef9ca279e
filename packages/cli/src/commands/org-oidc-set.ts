import { claimNamePattern, emailDomainPattern, type OidcConfig } from '@hangar/api';
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

/** The settings `--clear` removes. */
const clearable = ['required-claim', 'allowed-domains'] as const;

type Clearable = (typeof clearable)[number];

function usage(flag: string, message: string): UsageError {
  return new UsageError(`--${flag} ${message}`, {
    commandPath: path,
    fields: [{ field: flag, message }],
  });
}

function parseClaim(text: string): { name: string; value: string } {
  if (text === '')
    throw usage('required-claim', 'is empty: to remove it, pass --clear required-claim');
  const equals = text.indexOf('=');
  if (equals <= 0 || equals === text.length - 1) {
    throw usage('required-claim', `must be name=value, such as groups=dev, got "${text}"`);
  }
  const name = text.slice(0, equals);
  if (!new RegExp(claimNamePattern).test(name)) {
    throw usage(
      'required-claim',
      `has the claim name "${name}": a name is a letter or _, then up to 99 letters, digits ` +
        'and _ . : -',
    );
  }
  return { name, value: text.slice(equals + 1) };
}

function checkDomains(domains: readonly string[]): void {
  const pattern = new RegExp(emailDomainPattern);
  for (const domain of domains) {
    if (domain === '') {
      throw usage('allowed-domain', 'is empty: to allow any domain, pass --clear allowed-domains');
    }
    if (domain.length > 253 || !pattern.test(domain)) {
      throw usage(
        'allowed-domain',
        `must be a lower-case e-mail domain such as example.com, got "${domain}"`,
      );
    }
  }
}

function parseClear(values: readonly string[]): Set<Clearable> {
  const cleared = new Set<Clearable>();
  for (const value of values) {
    const known = clearable.find((name) => name === value);
    if (!known) throw usage('clear', `must be ${clearable.join(' or ')}, got "${value}"`);
    cleared.add(known);
  }
  return cleared;
}

function parseSwitch(flag: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'on' || text === 'off') return text === 'on';
  throw new UsageError(`--${flag} must be on or off, got "${text}"`, {
    commandPath: path,
    fields: [{ field: flag, message: 'must be on or off' }],
  });
}

export const command = defineCommand({
  synopsis:
    '--issuer URL --client-id ID [--client-secret-stdin] [--allowed-domain D]... ' +
    '[--required-claim name=value] [--clear required-claim|allowed-domains]... ' +
    '[--store-profile on|off] [--default-role member|auditor] [--token-exchange on|off]',
  description:
    "Sets the organization's OpenID provider (owners and admins). The control plane reads the " +
    "issuer's discovery document first. The client secret is read from stdin, never from an " +
    'argument; leave --client-secret-stdin out to keep the stored one, and any other setting ' +
    'out to keep it. It prints the redirect URI to register at the provider.',
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
      clear: {
        type: 'string',
        valueName: 'SETTING',
        multiple: true,
        describe: 'remove a setting: required-claim, or allowed-domains (then any domain)',
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
      'token-exchange': {
        type: 'string',
        valueName: 'on|off',
        describe: 'let automation trade a provider ID token for a 1 h session (default off)',
      },
    },
  },
  async run({ io, out }, { flags }) {
    const storeProfile = parseSwitch('store-profile', flags['store-profile']);
    const tokenExchange = parseSwitch('token-exchange', flags['token-exchange']);
    const cleared = parseClear(flags.clear);
    const claimText = flags['required-claim'];
    const claim = claimText === undefined ? undefined : parseClaim(claimText);
    const domains = flags['allowed-domain'];
    checkDomains(domains);
    if (claim && cleared.has('required-claim')) {
      throw usage('clear', 'required-claim cannot go with --required-claim: pass one of them');
    }
    if (domains.length > 0 && cleared.has('allowed-domains')) {
      throw usage('clear', 'allowed-domains cannot go with --allowed-domain: pass one of them');
    }
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
      ...(domains.length > 0 ? { allowedDomains: domains } : {}),
      ...(cleared.has('allowed-domains') ? { allowedDomains: [] } : {}),
      ...(claim ? { requiredClaim: claim } : {}),
      ...(cleared.has('required-claim') ? { requiredClaim: null } : {}),
      ...(storeProfile !== undefined ? { storeProfile } : {}),
      ...(role !== undefined ? { defaultRole: role } : {}),
      ...(tokenExchange !== undefined ? { tokenExchange } : {}),
    };
    const config = await api.json<OidcConfig>('PUT', '/v1/org/oidc', { body });
    out.result(config, () => describeOidc(config));
    return 0;
  },
});
