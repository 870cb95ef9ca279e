import { ErrorCode, HangarError } from '@hangar/api';

/** What `git ls-remote --symref` reported about a repository. */
export interface AdvertisedRefs {
  /** Branch that the remote HEAD points to, e.g. `main`; absent when not advertised. */
  defaultBranch?: string;
  /** Full ref name (`refs/heads/x`, `refs/tags/v1`) to the commit it names (tags peeled). */
  commits: Map<string, string>;
}

/** What a requested ref turned out to be, and how to check it out. */
export type ResolvedRef =
  | { kind: 'default' }
  | { kind: 'branch'; name: string; fullName: string }
  | { kind: 'tag'; name: string; fullName: string }
  | { kind: 'commit'; spec: string; fetchRef?: string; fullName?: string };

const hexPattern = /^[0-9a-fA-F]{4,40}$/;
const fullShaPattern = /^[0-9a-f]{40}$/;

/** Parses `git ls-remote --symref` output. Annotated tags resolve to the commit they peel to. */
export function parseLsRemote(stdout: string): AdvertisedRefs {
  const result: AdvertisedRefs = { commits: new Map() };
  const peeled = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab === -1) continue;
    const left = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (left.startsWith('ref: ')) {
      const target = left.slice('ref: '.length);
      if (name === 'HEAD' && target.startsWith('refs/heads/')) {
        result.defaultBranch = target.slice('refs/heads/'.length);
      }
      continue;
    }
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), left);
    else result.commits.set(name, left);
  }
  for (const [name, commit] of peeled) result.commits.set(name, commit);
  return result;
}

/**
 * Refuses ref names that could be read as options or that git's ref syntax forbids, before any
 * of them reaches a git command line.
 */
export function checkRefName(ref: string): void {
  const problem =
    ref.length === 0
      ? 'is empty'
      : ref.startsWith('-')
        ? 'starts with "-"'
        : /[\u0000-\u0020\u007f~^:?*[\\]/.test(ref)
          ? 'contains a space, a control character or one of ~ ^ : ? * [ \\'
          : ref.includes('..') || ref.includes('@{') || ref.includes('//')
            ? 'contains "..", "@{" or "//"'
            : ref.startsWith('/') || ref.endsWith('/') || ref.endsWith('.lock') || ref.endsWith('.')
              ? 'starts or ends with "/", or ends with "." or ".lock"'
              : undefined;
  if (problem === undefined) return;
  throw new HangarError(
    ErrorCode.invalidRequest,
    `the ref "${ref}" ${problem}; give a branch, tag or commit name`,
    { fields: [{ field: 'ref', message: problem }], details: { reason: 'invalid_ref' } },
  );
}

/**
 * Decides what `ref` names, in this order: a full ref name (`refs/heads/x`, `refs/tags/v1`, or
 * any other advertised ref), a branch, a tag, then a commit id (4 to 40 hex digits). A name
 * that is both a branch and a tag is the branch; write `refs/tags/<name>` for the tag.
 * Returns undefined when nothing matches.
 */
export function resolveRef(ref: string | undefined, refs: AdvertisedRefs): ResolvedRef | undefined {
  if (ref === undefined) return { kind: 'default' };
  const advertised = refs.commits.get(ref);
  if (advertised !== undefined && ref.startsWith('refs/heads/')) {
    return { kind: 'branch', name: ref.slice('refs/heads/'.length), fullName: ref };
  }
  if (advertised !== undefined && ref.startsWith('refs/tags/')) {
    const name = ref.slice('refs/tags/'.length);
    // `git clone --branch` would pick a branch of the same name, so such a tag is checked out
    // by its commit instead.
    if (refs.commits.has(`refs/heads/${name}`)) {
      return { kind: 'commit', spec: advertised, fetchRef: ref, fullName: ref };
    }
    return { kind: 'tag', name, fullName: ref };
  }
  if (advertised !== undefined && ref.startsWith('refs/')) {
    return { kind: 'commit', spec: advertised, fetchRef: ref, fullName: ref };
  }
  if (refs.commits.has(`refs/heads/${ref}`)) {
    return { kind: 'branch', name: ref, fullName: `refs/heads/${ref}` };
  }
  if (refs.commits.has(`refs/tags/${ref}`)) {
    return resolveRef(`refs/tags/${ref}`, refs);
  }
  if (hexPattern.test(ref)) {
    const spec = ref.toLowerCase();
    return fullShaPattern.test(spec)
      ? { kind: 'commit', spec, fetchRef: spec }
      : { kind: 'commit', spec };
  }
  return undefined;
}
