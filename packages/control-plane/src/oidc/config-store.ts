import {
  HangarError,
  type OidcConfig,
  type PutOidcConfigBody,
  type RequiredClaim,
  type SignInRole,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import type { DataKey } from './data-key.js';
import { forgetProviderMetadata, providerMetadata, providerUrlProblem } from './discovery.js';

/** An organization's OpenID provider, with its client secret opened. */
export interface OrgOidcConfig {
  orgId: string;
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  allowedDomains: string[];
  requiredClaim: RequiredClaim | undefined;
  storeProfile: boolean;
  defaultRole: SignInRole;
  /** Whether an ID token from the provider may be traded for a session (`token-exchange`). */
  tokenExchange: boolean;
  updatedBy: string;
  updatedAt: number;
}

interface ConfigRow {
  org_id: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string | null;
  allowed_domains: string;
  required_claim: string | null;
  store_profile: number;
  default_role: string;
  token_exchange: number;
  updated_by: string;
  updated_at: number;
  [key: string]: string | number | null;
}

/** What the client secret is sealed for: its organization, so it cannot move to another. */
export function secretAssociatedData(orgId: string): string {
  return `hangar oidc client secret ${orgId}`;
}

function fromRow(row: ConfigRow, dataKey: DataKey): OrgOidcConfig {
  const claim: unknown = row.required_claim === null ? undefined : JSON.parse(row.required_claim);
  return {
    orgId: row.org_id,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecret:
      row.client_secret_sealed === null
        ? undefined
        : dataKey.open(row.client_secret_sealed, secretAssociatedData(row.org_id)),
    allowedDomains: JSON.parse(row.allowed_domains) as string[],
    requiredClaim: claim as RequiredClaim | undefined,
    storeProfile: Number(row.store_profile) === 1,
    defaultRole: row.default_role === 'auditor' ? 'auditor' : 'member',
    tokenExchange: Number(row.token_exchange) === 1,
    updatedBy: row.updated_by,
    updatedAt: Number(row.updated_at),
  };
}

export async function oidcConfigOf(
  db: Queryable,
  dataKey: DataKey,
  orgId: string,
): Promise<OrgOidcConfig | undefined> {
  const rows = await db.query<ConfigRow>('SELECT * FROM oidc_configs WHERE org_id = ?', [orgId]);
  return rows[0] ? fromRow(rows[0], dataKey) : undefined;
}

/**
 * The public view: never the secret, only whether there is one; `redirectUri` is the callback
 * of this control plane, to register at the provider.
 */
export function toOidcConfig(config: OrgOidcConfig, redirectUri: string): OidcConfig {
  return {
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecretSet: config.clientSecret !== undefined,
    allowedDomains: config.allowedDomains,
    ...(config.requiredClaim ? { requiredClaim: config.requiredClaim } : {}),
    storeProfile: config.storeProfile,
    defaultRole: config.defaultRole,
    tokenExchange: config.tokenExchange,
    redirectUri,
    updatedBy: config.updatedBy,
    updatedAt: new Date(config.updatedAt).toISOString(),
  };
}

export const notConfiguredMessage =
  'the organization has no OpenID provider configured; an owner or admin sets one with ' +
  '`hangar org oidc set`';

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** The one answer to any discovery failure, so the issuer cannot probe what the host reaches. */
function discoveryRefusal(): HangarError {
  return invalid(
    'issuer',
    'could not be used: its discovery document could not be read, or does not describe this ' +
      'issuer with the endpoints and algorithms sign-in needs; check the URL and that the ' +
      "provider is up (the control plane's log has the detail)",
  );
}

/**
 * Reads the issuer's discovery document afresh. Every failure, unreachable or wrong, gets the
 * same answer; what went wrong goes to the log only.
 */
async function checkDiscovery(context: Context, orgId: string, issuer: string): Promise<void> {
  forgetProviderMetadata(issuer);
  try {
    await providerMetadata(issuer, {
      allowHttpLoopback: context.config.oidcAllowHttpLoopbackIssuers,
    });
  } catch (error) {
    context.logger.warn(
      { component: 'oidc', orgId, issuer, reason: error instanceof Error ? error.message : '' },
      'the OpenID provider discovery document was refused',
    );
    throw discoveryRefusal();
  }
}

/**
 * Saves the organization's provider after reading its discovery document, which must name this
 * issuer exactly and the endpoints sign-in needs. A client secret left out keeps the stored one,
 * and so does a setting left out; a `requiredClaim` of null removes it. Audited as `org.oidc.update` with old and new values, never the secret.
 */
export async function putOidcConfig(
  context: Context,
  principal: UserPrincipal,
  body: PutOidcConfigBody,
  meta: RequestMeta,
): Promise<OrgOidcConfig> {
  const problem = providerUrlProblem(body.issuer, {
    allowHttpLoopback: context.config.oidcAllowHttpLoopbackIssuers,
  });
  if (problem) throw invalid('issuer', problem);
  await checkDiscovery(context, principal.orgId, body.issuer);
  return context.db.transaction(async (tx) => {
    const old = await oidcConfigOf(tx, context.dataKey, principal.orgId);
    const clientSecret = body.clientSecret ?? old?.clientSecret;
    if (clientSecret === undefined) {
      throw invalid('clientSecret', 'is required: no client secret is stored yet');
    }
    const next: OrgOidcConfig = {
      orgId: principal.orgId,
      issuer: body.issuer,
      clientId: body.clientId,
      clientSecret,
      allowedDomains: body.allowedDomains ?? old?.allowedDomains ?? [],
      requiredClaim:
        body.requiredClaim === null ? undefined : (body.requiredClaim ?? old?.requiredClaim),
      storeProfile: body.storeProfile ?? old?.storeProfile ?? false,
      defaultRole: body.defaultRole ?? old?.defaultRole ?? 'member',
      tokenExchange: body.tokenExchange ?? old?.tokenExchange ?? false,
      updatedBy: principal.userId,
      updatedAt: Date.now(),
    };
    const values = [
      next.issuer,
      next.clientId,
      context.dataKey.seal(clientSecret, secretAssociatedData(principal.orgId)),
      JSON.stringify(next.allowedDomains),
      next.requiredClaim ? JSON.stringify(next.requiredClaim) : null,
      next.storeProfile ? 1 : 0,
      next.defaultRole,
      next.tokenExchange ? 1 : 0,
      next.updatedBy,
      next.updatedAt,
    ];
    if (old) {
      await tx.execute(
        `UPDATE oidc_configs SET issuer = ?, client_id = ?, client_secret_sealed = ?,
           allowed_domains = ?, required_claim = ?, store_profile = ?, default_role = ?,
           token_exchange = ?, updated_by = ?, updated_at = ?
         WHERE org_id = ?`,
        [...values, principal.orgId],
      );
    } else {
      await tx.execute(
        `INSERT INTO oidc_configs (issuer, client_id, client_secret_sealed, allowed_domains,
           required_claim, store_profile, default_role, token_exchange, updated_by, updated_at,
           org_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [...values, principal.orgId],
      );
    }
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'org.oidc.update',
      target: { kind: 'org', id: principal.orgId },
      outcome: 'success',
      ...meta,
      details: {
        ...changes(old, next),
        clientSecretChanged: old === undefined || old.clientSecret !== clientSecret,
      },
    });
    return next;
  });
}

/** Removes the organization's provider: nobody can sign in through it after this. */
export async function deleteOidcConfig(
  context: Context,
  principal: UserPrincipal,
  meta: RequestMeta,
): Promise<void> {
  await context.db.transaction(async (tx) => {
    const old = await oidcConfigOf(tx, context.dataKey, principal.orgId);
    if (!old) throw new HangarError('not_found', notConfiguredMessage);
    await tx.execute('DELETE FROM oidc_configs WHERE org_id = ?', [principal.orgId]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'org.oidc.update',
      target: { kind: 'org', id: principal.orgId },
      outcome: 'success',
      ...meta,
      details: { ...changes(old, undefined), removed: true },
    });
  });
}

type Shown = Record<string, string | boolean | null>;

function shown(config: OrgOidcConfig | undefined): Shown {
  if (!config) {
    const none = { issuer: null, clientId: null, allowedDomains: null, requiredClaim: null };
    return { ...none, storeProfile: null, defaultRole: null, tokenExchange: null };
  }
  const claim = config.requiredClaim;
  return {
    issuer: config.issuer,
    clientId: config.clientId.slice(0, 500),
    allowedDomains: config.allowedDomains.join(',').slice(0, 1000),
    requiredClaim: claim ? `${claim.name}=${claim.value}`.slice(0, 1000) : null,
    storeProfile: config.storeProfile,
    defaultRole: config.defaultRole,
    tokenExchange: config.tokenExchange,
  };
}

/** `oldX`/`newX` for every setting that differs, and `changed` listing them. */
function changes(old: OrgOidcConfig | undefined, next: OrgOidcConfig | undefined) {
  const before = shown(old);
  const after = shown(next);
  const details: Shown = {};
  const changed: string[] = [];
  for (const name of Object.keys(before)) {
    if (before[name] === after[name]) continue;
    changed.push(name);
    const title = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    details[`old${title}`] = before[name] ?? null;
    details[`new${title}`] = after[name] ?? null;
  }
  return { changed: changed.join(','), ...details };
}
