/**
 * Checks a repository URL before it is stored in a spec. Every form git accepts for a clone is
 * allowed (http, https, ssh, git, file, scp-like `host:path`, an absolute path on the runner);
 * transport helpers that run programs (`ext::`, `fd::`) are not, and neither is a password in
 * the URL: the spec lives on the control plane, which must never hold a credential. Nothing that
 * lets git fetch another address than the one policy patterns see is allowed either: dot
 * segments (`..`, `%2e%2e`), a query, a fragment, backslashes or a host with other characters
 * than a host name has. Local paths may not hold `..`.
 * Returns a problem in words, or null when the URL is acceptable.
 */
export function repositoryUrlProblem(url: string): string | null {
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return 'must not contain spaces or control characters';
  if (url.startsWith('-')) return 'must not start with "-"';
  if (url.includes('\\')) return 'must not contain backslashes; write / between path segments';
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) {
    return 'must not use a git transport helper such as ext:: or fd::';
  }
  if (url.startsWith('/')) {
    if (url.split('/').includes('..'))
      return 'must not contain ".." segments; give the path itself';
    return null;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!['http', 'https', 'ssh', 'git', 'file'].includes(scheme)) {
      return `uses the scheme ${scheme}://; use https, http, ssh, git, file or a path`;
    }
    const addressProblem = remoteAddressProblem(url);
    if (addressProblem) return addressProblem;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'is not a valid URL';
    }
    const web = scheme === 'http' || scheme === 'https';
    if (parsed.password || (web && parsed.username)) {
      return (
        'must not carry a user name or password: the control plane never stores credentials; ' +
        'give the runner a git credential instead (see the runner configuration)'
      );
    }
    const { authority, path } = splitRepositoryUrl(url);
    if (scheme !== 'file' && !hostPattern.test(authority)) {
      return 'has a host that is not a host name, an IP address or [IPv6] with an optional :port';
    }
    if (scheme === 'file' && authority !== '' && authority.toLowerCase() !== 'localhost') {
      return 'names a host in a file URL; write file:///absolute/path';
    }
    return segmentProblem(path);
  }
  if (/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/]/.test(url) || /^[^:/]+@?[^:/]*:\//.test(url)) {
    return remoteAddressProblem(url) ?? segmentProblem(splitRepositoryUrl(url).path.slice(1));
  }
  return 'is not a URL or path git can clone; use https://…, ssh://…, host:path, file://… or /path';
}

/** `host`, `1.2.3.4` or `[v6]`, with an optional `:port`. */
const hostPattern = /^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/i;

function remoteAddressProblem(url: string): string | null {
  if (url.includes('?') || url.includes('#')) {
    return (
      'must not have a query (?) or fragment (#): git would fetch another address than the ' +
      'one the policy checks; remove them'
    );
  }
  return null;
}

/** Dot segments, written or percent-encoded, and encoded slashes or control characters. */
function segmentProblem(path: string): string | null {
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'has a malformed percent-escape; fix it and retry';
    }
    if (decoded === '.' || decoded === '..') {
      return 'must not contain "." or ".." segments (also not as %2e); give the path itself';
    }
    if (/[/\\\u0000-\u001f\u007f]/.test(decoded)) {
      return 'must not encode a slash, backslash or control character in a path segment';
    }
  }
  return null;
}

/**
 * A repository address cut into the parts a policy pattern matches one by one, so that a `*`
 * in one part cannot reach into the next. `prefix + authority + path` is the address.
 */
export interface RepositoryUrlParts {
  /** `https://`, `ssh://git@`, `git@` (scp-like), or '' for a local path. */
  prefix: string;
  /** `host[:port]`; '' for `file:///` and local paths. */
  authority: string;
  /** From the `/` after the authority; for scp-like addresses, from the `:`. */
  path: string;
}

/** Cuts an address, or a pattern of one, into its parts; it does not check them. */
export function splitRepositoryUrl(url: string): RepositoryUrlParts {
  if (url.startsWith('/')) return { prefix: '', authority: '', path: url };
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (scheme !== undefined) {
    const rest = url.slice(scheme.length);
    const end = rest.search(/[/?#]/);
    const userAndHost = end === -1 ? rest : rest.slice(0, end);
    const at = userAndHost.lastIndexOf('@') + 1;
    return {
      prefix: scheme + userAndHost.slice(0, at),
      authority: userAndHost.slice(at),
      path: end === -1 ? '' : rest.slice(end),
    };
  }
  const colon = url.indexOf(':');
  const userAndHost = colon === -1 ? url : url.slice(0, colon);
  const at = userAndHost.lastIndexOf('@') + 1;
  return {
    prefix: userAndHost.slice(0, at),
    authority: userAndHost.slice(at),
    path: colon === -1 ? '' : url.slice(colon),
  };
}

/**
 * The one form of an address that is checked against policies, stored in the spec and sent to
 * the runner: scheme and host lower-case; a local path without `.` segments, repeated or
 * trailing slashes. Call it on an address `repositoryUrlProblem` accepts; a pattern may be
 * given too (its `*` are left alone).
 */
export function canonicalRepositoryUrl(url: string): string {
  const { prefix, authority, path } = splitRepositoryUrl(url);
  if (prefix === '' && authority === '') {
    const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
    return `/${segments.join('/')}`;
  }
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(prefix)?.[0] ?? '';
  return `${scheme.toLowerCase()}${prefix.slice(scheme.length)}${authority.toLowerCase()}${path}`;
}

/** The last path segment without `.git`, used to name the workspace folder. */
export function repositoryBaseName(url: string): string {
  const trimmed = url.replace(/\/+$/, '').replace(/\.git$/, '');
  const segment = trimmed.split(/[/:]/).pop() ?? '';
  const cleaned = segment.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '');
  return cleaned || 'workspace';
}
