/**
 * Checks a repository URL before it is stored in a spec. Every form git accepts for a clone is
 * allowed (http, https, ssh, git, file, scp-like `host:path`, an absolute path on the runner);
 * transport helpers that run programs (`ext::`, `fd::`) are not, and neither is a password in
 * the URL: the spec lives on the control plane, which must never hold a credential.
 * Returns a problem in words, or null when the URL is acceptable.
 */
export function repositoryUrlProblem(url: string): string | null {
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return 'must not contain spaces or control characters';
  if (url.startsWith('-')) return 'must not start with "-"';
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) {
    return 'must not use a git transport helper such as ext:: or fd::';
  }
  if (url.startsWith('/')) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!['http', 'https', 'ssh', 'git', 'file'].includes(scheme)) {
      return `uses the scheme ${scheme}://; use https, http, ssh, git, file or a path`;
    }
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
    return null;
  }
  if (/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/]/.test(url) || /^[^:/]+@?[^:/]*:\//.test(url)) {
    return null;
  }
  return 'is not a URL or path git can clone; use https://…, ssh://…, host:path, file://… or /path';
}

/** The last path segment without `.git`, used to name the workspace folder. */
export function repositoryBaseName(url: string): string {
  const trimmed = url.replace(/\/+$/, '').replace(/\.git$/, '');
  const segment = trimmed.split(/[/:]/).pop() ?? '';
  const cleaned = segment.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '');
  return cleaned || 'workspace';
}
