import { HangarError } from '@hangar/api';

/** The parts of an OpenID provider's discovery document that sign-in uses. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  deviceAuthorizationEndpoint?: string;
  /** The signature algorithms the provider signs ID tokens with, asymmetric ones only. */
  idTokenAlgorithms: string[];
}

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);
const asymmetric = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$|^ES256K$/;
const fetchTimeoutMs = 10_000;
const cacheMs = 5 * 60_000;

/** Which provider URLs the control plane's configuration allows beyond https. */
export interface ProviderUrlRules {
  /** http on 127.0.0.1, ::1 or localhost (`oidcAllowHttpLoopbackIssuers`): one-machine setups. */
  allowHttpLoopback: boolean;
}

/**
 * A provider URL Hangar will talk to: https, or, when the configuration allows it, http on the
 * loopback interface (a provider run on the same machine, as in tests and trials). No
 * credentials, query or fragment.
 */
export function providerUrlProblem(value: string, rules: ProviderUrlRules): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://login.example.com';
  }
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.search || url.hash) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && loopbackHosts.has(url.hostname)) {
    if (rules.allowHttpLoopback) return null;
    return (
      'must be https://; http:// on the loopback interface is allowed only when the control ' +
      'plane is configured with oidcAllowHttpLoopbackIssuers (as `hangar up` is)'
    );
  }
  return rules.allowHttpLoopback
    ? 'must be https://, or http:// on 127.0.0.1, ::1 or localhost only'
    : 'must be https://';
}

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** The document's field as a provider URL, or an error naming the field of the document. */
function endpoint(
  document: Record<string, unknown>,
  name: string,
  rules: ProviderUrlRules,
  required: true,
): string;
function endpoint(
  document: Record<string, unknown>,
  name: string,
  rules: ProviderUrlRules,
  required: false,
): string | undefined;
function endpoint(
  document: Record<string, unknown>,
  name: string,
  rules: ProviderUrlRules,
  required: boolean,
) {
  const value = document[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') {
    throw invalid('issuer', `has a discovery document without ${name}; check the issuer URL`);
  }
  const problem = providerUrlProblem(value, rules);
  if (problem) throw invalid('issuer', `has a discovery document whose ${name} ${problem}`);
  return value;
}

/**
 * Reads and checks `<issuer>/.well-known/openid-configuration`: its `issuer` must be the issuer
 * exactly, and it must name the authorization, token and JWKS endpoints. Errors name the field
 * `issuer` and what was wrong with the document.
 */
export async function fetchProviderMetadata(
  issuer: string,
  rules: ProviderUrlRules,
): Promise<ProviderMetadata> {
  const problem = providerUrlProblem(issuer, rules);
  if (problem) throw invalid('issuer', problem);
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let document: Record<string, unknown>;
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(fetchTimeoutMs),
    });
    if (!response.ok) {
      throw invalid('issuer', `answered HTTP ${response.status} for ${url}; check the issuer URL`);
    }
    const parsed: unknown = await response.json();
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalid('issuer', `served a discovery document that is not a JSON object (${url})`);
    }
    document = parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof HangarError) throw error;
    throw invalid(
      'issuer',
      `could not be reached for its discovery document ${url} (${reasonOf(error)}); check ` +
        'the issuer URL and that the provider is up',
    );
  }
  if (document.issuer !== issuer) {
    throw invalid(
      'issuer',
      `does not match the discovery document's issuer ${JSON.stringify(document.issuer)}; ` +
        'use exactly that value',
    );
  }
  const algorithms = document.id_token_signing_alg_values_supported;
  const idTokenAlgorithms = (Array.isArray(algorithms) ? algorithms : ['RS256']).filter(
    (alg): alg is string => typeof alg === 'string' && asymmetric.test(alg),
  );
  if (idTokenAlgorithms.length === 0) {
    throw invalid(
      'issuer',
      'signs ID tokens with no asymmetric algorithm (id_token_signing_alg_values_supported); ' +
        'Hangar accepts RS*, PS*, ES* and EdDSA only',
    );
  }
  const challenges = document.code_challenge_methods_supported;
  if (Array.isArray(challenges) && !challenges.includes('S256')) {
    throw invalid('issuer', 'does not support PKCE with S256 (code_challenge_methods_supported)');
  }
  const device = endpoint(document, 'device_authorization_endpoint', rules, false);
  return {
    issuer,
    authorizationEndpoint: endpoint(document, 'authorization_endpoint', rules, true),
    tokenEndpoint: endpoint(document, 'token_endpoint', rules, true),
    jwksUri: endpoint(document, 'jwks_uri', rules, true),
    ...(device ? { deviceAuthorizationEndpoint: device } : {}),
    idTokenAlgorithms,
  };
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}

const cache = new Map<string, { metadata: ProviderMetadata; until: number }>();

/** `fetchProviderMetadata`, kept for a few minutes per issuer: sign-ins need it at each step. */
export async function providerMetadata(
  issuer: string,
  rules: ProviderUrlRules,
): Promise<ProviderMetadata> {
  const cached = cache.get(issuer);
  if (cached && cached.until > Date.now()) return cached.metadata;
  const metadata = await fetchProviderMetadata(issuer, rules);
  cache.set(issuer, { metadata, until: Date.now() + cacheMs });
  return metadata;
}

/** Forgets what was read for an issuer, as when its configuration is saved again. */
export function forgetProviderMetadata(issuer: string): void {
  cache.delete(issuer);
}
