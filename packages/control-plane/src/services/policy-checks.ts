import {
  canonicalRepositoryUrl,
  HangarError,
  repositoryUrlProblem,
  splitRepositoryUrl,
  type FieldError,
  type OrgRuleName,
  type OrgRules,
  type ProjectRule,
} from '@hangar/api';

/**
 * The pure half of the organization policies: what a rule allows, and the refusal that names it.
 * Nothing here reads the database or the clock, so each rule is tested on its own.
 */

/** A refusal by the organization policy `policy`: `forbidden`, with the field the caller set. */
export function policyRefusal(
  policy: OrgRuleName | 'maxPortShareLevel',
  message: string,
  field?: FieldError,
): HangarError {
  return new HangarError('forbidden', message, {
    details: { policy },
    ...(field ? { fields: [field] } : {}),
  });
}

const patternCache = new Map<string, RegExp[]>();

/** What a `*` may stand for in each part of an address: never the separator of the next part. */
const starOf = { prefix: '[^@:/]*', authority: '[^@:/?#\\\\]*', path: '[^/]*' } as const;

function partRegExp(part: string, where: keyof typeof starOf): RegExp {
  const source = part
    .split(/(\*\*|\*)/)
    .map((piece) => {
      if (piece === '**') return where === 'path' ? '.*' : starOf[where];
      if (piece === '*') return starOf[where];
      return piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, 's');
}

/** The pattern's parts as regular expressions, each anchored on its part of the address. */
function patternRegExps(pattern: string): RegExp[] {
  const cached = patternCache.get(pattern);
  if (cached) return cached;
  const parts = splitRepositoryUrl(canonicalRepositoryUrl(pattern));
  const compiled = [
    partRegExp(parts.prefix, 'prefix'),
    partRegExp(parts.authority, 'authority'),
    partRegExp(parts.path, 'path'),
  ];
  if (patternCache.size < 10000) patternCache.set(pattern, compiled);
  return compiled;
}

/**
 * Whether `url` matches the pattern. Both are compared in canonical form (scheme and host
 * lower-case), and part by part: scheme and user, host and port, path. `*` is any run without
 * `/` (in the host, also without `:`, `@`, `?` or `#`), `**` any run of the path, the rest is
 * literal. An address `repositoryUrlProblem` refuses matches nothing.
 */
export function repositoryMatches(pattern: string, url: string): boolean {
  if (repositoryUrlProblem(url) !== null) return false;
  const parts = splitRepositoryUrl(canonicalRepositoryUrl(url));
  const [prefix, authority, path] = patternRegExps(pattern);
  return (
    prefix?.test(parts.prefix) === true &&
    authority?.test(parts.authority) === true &&
    path?.test(parts.path) === true
  );
}

/**
 * Why a pattern can match no repository the control plane would accept, or null. Each run of
 * `*` is read as a plain name, and the result must be a URL or path git can clone, so a pattern
 * without a scheme (`github.com/acme/*`) is refused rather than silently matching nothing.
 */
export function repositoryPatternProblem(pattern: string): string | null {
  if (/[\u0000-\u001f\u007f\s]/.test(pattern))
    return 'must not contain spaces or control characters';
  const problem = repositoryUrlProblem(pattern.replace(/\*+/g, 'x'));
  if (problem === null) return null;
  return `is not a repository URL pattern: with each * read as a name, it ${problem}`;
}

function quoted(items: readonly string[]): string {
  return items.map((item) => `"${item}"`).join(', ');
}

/** The project the environment names; an unknown one is refused naming the `projects` policy. */
export function projectOf(rules: OrgRules, name: string | undefined): ProjectRule | undefined {
  if (name === undefined) return undefined;
  const projects = rules.projects ?? [];
  const project = projects.find((item) => item.name === name);
  if (project) return project;
  const known = projects.map((item) => item.name);
  const choices = known.length > 0 ? `use one of ${known.join(', ')}, or none` : 'leave it out';
  throw policyRefusal(
    'projects',
    `project ${name} is not one of the organization policy projects; ${choices}, or ask an ` +
      'owner or admin to add it (`hangar org policy set --projects-file FILE`)',
    { field: 'project', message: 'names no project of the organization policy' },
  );
}

/**
 * Refuses a repository outside `allowedRepositoryPatterns`, or outside the project's patterns.
 * An environment of a project must clone one of its repositories (it receives the project's
 * secrets); one of no project without a repository passes: there is nothing to match.
 */
export function checkRepositoryAllowed(
  rules: OrgRules,
  project: ProjectRule | undefined,
  url: string | undefined,
): void {
  if (url === undefined && project) {
    throw policyRefusal(
      'projects',
      `project ${project.name} of the organization policy projects needs a repository: an ` +
        'environment of a project receives its secrets, so it must clone a repository matching ' +
        `one of ${quoted(project.repositoryPatterns)}; give one, or leave the project out`,
      { field: 'repository.url', message: `is required for project ${project.name}` },
    );
  }
  if (url === undefined) return;
  const allowed = rules.allowedRepositoryPatterns ?? [];
  if (allowed.length > 0 && !allowed.some((pattern) => repositoryMatches(pattern, url))) {
    throw policyRefusal(
      'allowedRepositoryPatterns',
      `the organization policy allowedRepositoryPatterns does not allow the repository ${url}; ` +
        `use a repository matching one of ${quoted(allowed)}, or ask an owner or admin to ` +
        'allow it (`hangar org policy set --allow-repository PATTERN`)',
      { field: 'repository.url', message: 'matches no pattern of allowedRepositoryPatterns' },
    );
  }
  if (project && !project.repositoryPatterns.some((pattern) => repositoryMatches(pattern, url))) {
    throw policyRefusal(
      'projects',
      `project ${project.name} of the organization policy projects does not allow the ` +
        `repository ${url}; use a repository matching one of ` +
        `${quoted(project.repositoryPatterns)}, or another project`,
      { field: 'repository.url', message: `matches no repository pattern of ${project.name}` },
    );
  }
}

/**
 * The class an environment gets: the one asked for, else the first the runner offers that the
 * policy allows. A class outside `allowedClasses` is refused naming the policy; whether the
 * runner offers it is the caller's check.
 */
export function allowedClassOf(
  rules: OrgRules,
  asked: string | undefined,
  offered: readonly string[],
  runnerName: string,
): string | undefined {
  const allowed = rules.allowedClasses ?? [];
  if (allowed.length === 0) return asked ?? offered[0];
  if (asked !== undefined && !allowed.includes(asked)) {
    throw policyRefusal(
      'allowedClasses',
      `the organization policy allowedClasses does not allow class ${asked}; pick one of ` +
        `${allowed.join(', ')} with --class, or ask an owner or admin to allow it`,
      { field: 'class', message: `must be one of ${allowed.join(', ')} (organization policy)` },
    );
  }
  if (asked !== undefined || offered.length === 0) return asked;
  const first = offered.find((name) => allowed.includes(name));
  if (first !== undefined) return first;
  throw policyRefusal(
    'allowedClasses',
    `runner ${runnerName} offers none of the classes the organization policy allowedClasses ` +
      `allows (${allowed.join(', ')}); pick another runner, or ask an owner or admin to allow ` +
      'one of its classes',
    { field: 'class', message: `must be one of ${allowed.join(', ')} (organization policy)` },
  );
}

/** The projects that list `runnerName`: only their environments may use it. */
export function projectsReserving(rules: OrgRules, runnerName: string): ProjectRule[] {
  return (rules.projects ?? []).filter((item) => item.runners.includes(runnerName));
}

/**
 * Refuses a runner the environment may not use: one outside its project's runners (a project
 * with no runners listed may use any), or one that other projects list, since a project's
 * runners are reserved for its environments (they hold its secrets).
 */
export function checkRunnerAllowed(
  rules: OrgRules,
  project: ProjectRule | undefined,
  runnerName: string,
): void {
  if (project && project.runners.length > 0 && !project.runners.includes(runnerName)) {
    throw policyRefusal(
      'projects',
      `project ${project.name} of the organization policy projects may not use runner ` +
        `${runnerName}; pick one of ${project.runners.join(', ')}, or leave the runner out`,
      { field: 'runnerId', message: `must be a runner of project ${project.name}` },
    );
  }
  const reserving = projectsReserving(rules, runnerName).map((item) => item.name);
  if (reserving.length === 0 || (project && reserving.includes(project.name))) return;
  const which = project ? `project ${project.name}` : 'no project';
  throw policyRefusal(
    'projects',
    `runner ${runnerName} is reserved by the organization policy projects for ` +
      `${reserving.join(', ')}, and this environment is of ${which}; name one of those ` +
      'projects, or pick another runner',
    { field: 'runnerId', message: `is reserved for project ${reserving.join(', ')}` },
  );
}

export interface RunningCounts {
  /** Environments of the owner whose desired phase is running. */
  owner: number;
  /** Environments of the organization whose desired phase is running. */
  org: number;
}

/**
 * The refusal when one more running environment would exceed `maxRunningPerUser` or
 * `maxRunningPerOrg`, or null. `self` says whether the caller owns the environment, for the
 * message.
 */
export function runningLimitRefusal(
  rules: OrgRules,
  counts: RunningCounts,
  self: boolean,
): HangarError | null {
  const perUser = rules.maxRunningPerUser;
  if (perUser !== undefined && counts.owner + 1 > perUser) {
    const who = self ? 'you already have' : 'its owner already has';
    return policyRefusal(
      'maxRunningPerUser',
      `the organization policy maxRunningPerUser is ${perUser} and ${who} ${counts.owner} ` +
        'running; stop one first (`hangar env stop NAME`), or ask an owner or admin to raise it',
    );
  }
  const perOrg = rules.maxRunningPerOrg;
  if (perOrg !== undefined && counts.org + 1 > perOrg) {
    return policyRefusal(
      'maxRunningPerOrg',
      `the organization policy maxRunningPerOrg is ${perOrg} and the organization already has ` +
        `${counts.org} running; stop one first (\`hangar env stop NAME\`), or ask an owner or ` +
        'admin to raise it',
    );
  }
  return null;
}

export interface RunningEnvironmentTimes {
  /** When it last became running (its status' phaseChangedAt while running), ms. */
  runningSinceMs: number;
  /** The last activity its runner reported, ms; null when none. */
  lastActiveAtMs: number | null;
}

/**
 * Which policy stops a running environment at `nowMs`, or null. The idle clock starts at the
 * later of the last activity and the time it became running, so activity from before a stop
 * does not stop it again right after a start. A lifetime past its limit wins over idleness.
 */
export function stopReason(
  rules: OrgRules,
  times: RunningEnvironmentTimes,
  nowMs: number,
): 'maxLifetimeMin' | 'idleStopAfterMin' | null {
  const minuteMs = 60_000;
  if (rules.maxLifetimeMin !== undefined) {
    if (nowMs - times.runningSinceMs > rules.maxLifetimeMin * minuteMs) return 'maxLifetimeMin';
  }
  if (rules.idleStopAfterMin !== undefined) {
    const lastActive = Math.max(times.runningSinceMs, times.lastActiveAtMs ?? 0);
    if (nowMs - lastActive > rules.idleStopAfterMin * minuteMs) return 'idleStopAfterMin';
  }
  return null;
}

/**
 * Problems of new rules that the schema cannot see: patterns that match nothing git can clone,
 * project names used twice, runners the organization does not have. Field paths are those of
 * the request body.
 */
export function ruleProblems(
  change: Pick<OrgRules, 'allowedRepositoryPatterns' | 'projects'>,
  runnerNames: ReadonlySet<string>,
): FieldError[] {
  const problems: FieldError[] = [];
  (change.allowedRepositoryPatterns ?? []).forEach((pattern, index) => {
    const problem = repositoryPatternProblem(pattern);
    if (problem) problems.push({ field: `allowedRepositoryPatterns.${index}`, message: problem });
  });
  const seen = new Set<string>();
  (change.projects ?? []).forEach((project, index) => {
    if (seen.has(project.name)) {
      problems.push({
        field: `projects.${index}.name`,
        message: `${project.name} is used by an earlier project; project names must be unique`,
      });
    }
    seen.add(project.name);
    project.repositoryPatterns.forEach((pattern, at) => {
      const problem = repositoryPatternProblem(pattern);
      if (problem) {
        problems.push({ field: `projects.${index}.repositoryPatterns.${at}`, message: problem });
      }
    });
    project.runners.forEach((runner, at) => {
      if (!runnerNames.has(runner)) {
        problems.push({
          field: `projects.${index}.runners.${at}`,
          message: `names no runner of the organization (${runner}); create it first or fix it`,
        });
      }
    });
  });
  return problems;
}
