import type { OidcConfig } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

/** Every setting of the provider, one per line; the secret only as set or not. */
export function describeOidc(config: OidcConfig): string[] {
  const claim = config.requiredClaim;
  const rows: [string, string][] = [
    ['issuer', config.issuer],
    ['client id', config.clientId],
    ['redirect URI', `${config.redirectUri} (register it at the provider)`],
    ['client secret', config.clientSecretSet ? 'set (never shown)' : 'not set'],
    ['allowed domains', config.allowedDomains.length ? config.allowedDomains.join(', ') : 'any'],
    ['required claim', claim ? `${claim.name}=${claim.value}` : 'none'],
    ['store profile', config.storeProfile ? 'on (name and e-mail kept)' : 'off'],
    ['default role', config.defaultRole],
    ['token exchange', config.tokenExchange ? 'on (an ID token gives a 1 h session, once)' : 'off'],
    ['updated', `${config.updatedAt} by ${config.updatedBy}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${`${name}:`.padEnd(width + 2)}${value}`);
}

export const command = defineCommand({
  synopsis: '',
  description: "Shows the organization's OpenID provider settings (owners and admins).",
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const config = await api.get<OidcConfig>('/v1/org/oidc');
    out.result(config, () => describeOidc(config));
    return 0;
  },
});
