import { ErrorCode, HangarError } from '@hangar/api';

/** How git reaches a repository. `local` is an absolute path on the runner's host. */
export type GitTransport = 'http' | 'https' | 'ssh' | 'git' | 'file' | 'local';

/** The transports git may use, as `GIT_ALLOW_PROTOCOL` names them. */
export const allowedProtocols = ['http', 'https', 'ssh', 'git', 'file'] as const;

/** A repository address checked for safety, with any password taken out of it. */
export interface RepositoryUrl {
  transport: GitTransport;
  /**
   * The address without a password: what git is given, what `.git/config` keeps, and what logs
   * and messages show. A user name, when present, stays (ssh needs it).
   */
  url: string;
  /** User info found in an http(s) address, percent-decoded. */
  embedded?: { username: string; password?: string };
  /** For http(s): `protocol` and `host[:port]` as git's credential protocol names them. */
  credentialTarget?: { protocol: string; host: string };
  /** For `file://` and local paths: the path on this host. */
  localPath?: string;
}

const schemeTransports: Record<string, GitTransport> = {
  http: 'http',
  https: 'https',
  ssh: 'ssh',
  'git+ssh': 'ssh',
  'ssh+git': 'ssh',
  git: 'git',
  file: 'file',
};

const schemePattern = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const transportHelperPattern = /^[A-Za-z0-9+.-]+::/;
const controlCharacterPattern = /[\u0000-\u001f\u007f]/;

function invalid(message: string, field = 'url'): HangarError {
  return new HangarError(ErrorCode.invalidRequest, message, {
    fields: [{ field, message }],
    details: { reason: 'invalid_url' },
  });
}

/**
 * Checks a repository address the way git will read it and removes any password from it.
 * Refuses transport helpers (`ext::`, `fd::`, any `name::address`), schemes outside
 * {@link allowedProtocols}, relative paths, control characters and option-like addresses.
 * The message of a refusal never contains the password.
 */
export function parseRepositoryUrl(input: string): RepositoryUrl {
  if (input.length === 0) throw invalid('the repository URL is empty; give a URL or a path');
  if (controlCharacterPattern.test(input)) {
    throw invalid('the repository URL contains a control character; remove it and retry');
  }
  if (input.startsWith('-')) {
    throw invalid('a repository URL cannot start with "-"; give a URL or an absolute path');
  }
  if (transportHelperPattern.test(input)) {
    const helper = input.slice(0, input.indexOf('::'));
    throw new HangarError(
      ErrorCode.invalidRequest,
      `the transport "${helper}::" is refused because git transport helpers can run commands; ` +
        `use an http, https, ssh, git or file URL, or an absolute path`,
      { details: { reason: 'protocol_refused' } },
    );
  }
  const scheme = schemePattern.exec(input);
  if (scheme) return parseSchemeUrl(input, scheme[1] ?? '');
  return parseScpOrPath(input);
}

function parseSchemeUrl(input: string, rawScheme: string): RepositoryUrl {
  const scheme = rawScheme.toLowerCase();
  const transport = schemeTransports[scheme];
  if (!transport) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `the URL scheme "${rawScheme}" is not allowed; use one of ${allowedProtocols.join(', ')}`,
      { details: { reason: 'protocol_refused' } },
    );
  }
  const afterScheme = input.slice(rawScheme.length + 3);
  const authorityEnd = afterScheme.search(/[/?#]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userInfo = at === -1 ? undefined : authority.slice(0, at);
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const colon = userInfo === undefined ? -1 : userInfo.indexOf(':');
  const rawUser =
    userInfo === undefined ? undefined : colon === -1 ? userInfo : userInfo.slice(0, colon);
  const rawPassword =
    colon === -1 || userInfo === undefined ? undefined : userInfo.slice(colon + 1);
  const url = `${scheme}://${rawUser !== undefined ? `${rawUser}@` : ''}${hostPort}${rest}`;
  const result: RepositoryUrl = { transport, url };

  if (transport === 'file') {
    if (hostPort !== '' && hostPort.toLowerCase() !== 'localhost') {
      throw invalid(`the file URL ${url} names a host; write file:///absolute/path`);
    }
    if (!rest.startsWith('/')) throw invalid(`the file URL ${url} has no absolute path`);
    result.localPath = decodeOrThrow(rest, url);
    return result;
  }

  if (hostPort === '') throw invalid(`the URL ${url} has no host; add one and retry`);
  if (hostPort.startsWith('-')) throw invalid(`the host of ${url} cannot start with "-"`);
  if (transport === 'http' || transport === 'https') {
    checkWhatwg(url);
    result.credentialTarget = { protocol: scheme, host: decodeOrThrow(hostPort, url) };
    if (rawUser !== undefined) {
      result.embedded = { username: decodeOrThrow(rawUser, url) };
      if (rawPassword !== undefined) result.embedded.password = decodeOrThrow(rawPassword, url);
    }
  }
  return result;
}

function parseScpOrPath(input: string): RepositoryUrl {
  const colon = input.indexOf(':');
  const slash = input.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) {
    const userHost = input.slice(0, colon);
    const host = userHost.slice(userHost.lastIndexOf('@') + 1);
    if (host === '' || host.startsWith('-')) {
      throw invalid(`the ssh address ${input} has no usable host; write user@host:path`);
    }
    return { transport: 'ssh', url: input };
  }
  if (!input.startsWith('/')) {
    throw invalid(
      `the repository "${input}" is neither a URL nor an absolute path; ` +
        'give https://…, ssh://…, git://…, file:///… or /absolute/path',
    );
  }
  return { transport: 'local', url: input, localPath: input };
}

function decodeOrThrow(value: string, url: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw invalid(`the URL ${url} has a malformed percent-escape; fix it and retry`);
  }
  if (controlCharacterPattern.test(decoded)) {
    throw invalid(`the URL ${url} encodes a control character; remove it and retry`);
  }
  return decoded;
}

function checkWhatwg(url: string): void {
  try {
    new URL(url);
  } catch {
    throw invalid(`the URL ${url} is malformed; check the host and port`);
  }
}

const urlPasswordPattern = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/@:]*):[^\s/@]*@/g;

/**
 * Replaces every secret, raw or percent-encoded, and any `scheme://user:password@` user info in
 * free text (git's stderr, an error message) with `***`. Over-masking is accepted: a secret's
 * text is hidden wherever it appears.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text.replace(urlPasswordPattern, '$1:***@');
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    variants.add(secret);
    variants.add(encodeURIComponent(secret));
  }
  const longestFirst = [...variants].sort((a, b) => b.length - a.length);
  for (const variant of longestFirst) masked = masked.split(variant).join('***');
  return masked;
}
