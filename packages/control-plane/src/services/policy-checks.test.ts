import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HangarError, type OrgRules, type ProjectRule } from '@hangar/api';
import {
  allowedClassOf,
  checkRepositoryAllowed,
  checkRunnerAllowed,
  projectOf,
  repositoryMatches,
  repositoryPatternProblem,
  ruleProblems,
  runningLimitRefusal,
  stopReason,
} from './policy-checks.js';

/** Asserts `fn` throws a `forbidden` refusal by `policy` whose message names it. */
function refusedBy(policy: string, fn: () => unknown): HangarError {
  try {
    fn();
  } catch (error: unknown) {
    assert.ok(error instanceof HangarError, String(error));
    assert.equal(error.code, 'forbidden');
    assert.equal(error.details?.policy, policy);
    assert.match(error.message, new RegExp(policy));
    return error;
  }
  assert.fail(`expected a refusal by ${policy}`);
}

const web: ProjectRule = {
  name: 'web',
  repositoryPatterns: ['https://git.example.test/web/*'],
  runners: ['r-web'],
};

describe('repository patterns', () => {
  test('* stays within one path segment, ** crosses them, the rest is literal and anchored', () => {
    const cases: [string, string, boolean][] = [
      ['https://git.example.test/acme/*', 'https://git.example.test/acme/api.git', true],
      ['https://git.example.test/acme/*', 'https://git.example.test/acme/a/b.git', false],
      ['https://git.example.test/acme/**', 'https://git.example.test/acme/a/b.git', true],
      ['https://git.example.test/acme/*', 'https://git.example.test/acme/', true],
      ['https://git.example.test/acme/*', 'https://git.example.test/acme', false],
      ['https://git.example.test/acme/*', 'https://git.example.test/acmeX/r', false],
      ['https://git.example.test/acme/*', 'xhttps://git.example.test/acme/r', false],
      ['https://git.example.test/a.c/r', 'https://git.example.test/abc/r', false],
      ['https://git.example.test/a+b/(r)', 'https://git.example.test/a+b/(r)', true],
      ['git@git.example.test:acme/*.git', 'git@git.example.test:acme/api.git', true],
      ['git@git.example.test:acme/*.git', 'git@git.example.test:acme/api', false],
      ['/srv/git/**', '/srv/git/team/repo.git', true],
    ];
    for (const [pattern, url, expected] of cases) {
      assert.equal(repositoryMatches(pattern, url), expected, `${pattern} ~ ${url}`);
    }
  });

  test('a * in the host stays in the host; dot segments, queries and fragments match nothing', () => {
    const cases: [string, string, boolean][] = [
      ['https://*.example.test/**', 'https://git.example.test/acme/r.git', true],
      ['https://*.example.test/**', 'https://GIT.Example.Test/acme/r.git', true],
      ['HTTPS://Git.Example.test/acme/*', 'https://git.example.test/acme/r.git', true],
      ['https://*.example.test/**', 'https://evil.invalid?.example.test/x.git', false],
      ['https://*.example.test/**', 'https://evil.invalid#.example.test/x.git', false],
      ['https://*.example.test/**', 'https://evil.invalid:443?.example.test/x.git', false],
      ['https://*.example.test/**', 'https://a.example.test:8443/x.git', false],
      ['https://*.example.test:*/**', 'https://a.example.test:8443/x.git', true],
      ['https://*/acme/*', 'https://evil.invalid/x/acme/r', false],
      ['https://git.example.test/acme/**', 'https://git.example.test/acme/../evil/r.git', false],
      ['https://git.example.test/acme/**', 'https://git.example.test/acme/%2e%2e/evil', false],
      ['/srv/git/**', '/srv/git/../../home/victim/secret-repo', false],
      ['/srv/git/*', '/srv/git/./team//', true],
      ['file:///srv/git/*', 'file:///srv/git/..', false],
      ['ssh://*@git.example.test/**', 'ssh://git@git.example.test/acme/r', true],
      ['git@*:acme/*', 'git@evil.invalid:x/acme/r', false],
    ];
    for (const [pattern, url, expected] of cases) {
      assert.equal(repositoryMatches(pattern, url), expected, `${pattern} ~ ${url}`);
    }
  });

  test('a pattern must read as a clonable URL once each * is a name', () => {
    assert.equal(repositoryPatternProblem('https://git.example.test/acme/*'), null);
    assert.equal(repositoryPatternProblem('git@git.example.test:acme/**'), null);
    assert.equal(repositoryPatternProblem('/srv/git/*'), null);
    assert.match(repositoryPatternProblem('git.example.test/acme/*') ?? '', /not a repository/);
    assert.match(repositoryPatternProblem('https://a b/*') ?? '', /spaces/);
    assert.match(repositoryPatternProblem('ext::sh*') ?? '', /transport helper/);
    assert.match(repositoryPatternProblem('*://git.example.test/*') ?? '', /scheme/);
  });
});

describe('create rules', () => {
  test('allowedRepositoryPatterns refuses a repository outside them, allows none at all', () => {
    const rules: OrgRules = { allowedRepositoryPatterns: ['https://git.example.test/acme/*'] };
    checkRepositoryAllowed(rules, undefined, 'https://git.example.test/acme/api');
    checkRepositoryAllowed(rules, undefined, undefined);
    checkRepositoryAllowed({ allowedRepositoryPatterns: [] }, undefined, '/any/thing');
    const error = refusedBy('allowedRepositoryPatterns', () =>
      checkRepositoryAllowed(rules, undefined, 'https://git.example.test/other/api'),
    );
    assert.deepEqual(
      error.fields?.map((item) => item.field),
      ['repository.url'],
    );
    assert.match(error.message, /hangar org policy set --allow-repository/);
  });

  test('a project must exist, and its repository patterns apply on top', () => {
    const rules: OrgRules = { projects: [web] };
    assert.equal(projectOf(rules, undefined), undefined);
    assert.equal(projectOf(rules, 'web'), web);
    const unknown = refusedBy('projects', () => projectOf(rules, 'mobile'));
    assert.match(unknown.message, /project mobile .*use one of web/);
    refusedBy('projects', () => projectOf({}, 'web'));
    checkRepositoryAllowed(rules, web, 'https://git.example.test/web/site');
    // Its environments receive the project's secrets: without a repository there is no match.
    const bare = refusedBy('projects', () => checkRepositoryAllowed(rules, web, undefined));
    assert.match(bare.message, /project web .*needs a repository/);
    assert.deepEqual(
      bare.fields?.map((item) => item.field),
      ['repository.url'],
    );
    checkRepositoryAllowed(rules, undefined, undefined);
    const outside = refusedBy('projects', () =>
      checkRepositoryAllowed(rules, web, 'https://git.example.test/api/site'),
    );
    assert.match(outside.message, /project web/);
  });

  test("a project's runners limit the runner; an empty list allows any", () => {
    checkRunnerAllowed({}, undefined, 'anything');
    checkRunnerAllowed({ projects: [web] }, web, 'r-web');
    checkRunnerAllowed({}, { ...web, runners: [] }, 'anything');
    const error = refusedBy('projects', () =>
      checkRunnerAllowed({ projects: [web] }, web, 'r-other'),
    );
    assert.match(error.message, /may not use runner r-other; pick one of r-web/);
  });

  test("a project's runners are reserved for its environments", () => {
    const open: ProjectRule = { name: 'docs', repositoryPatterns: ['/srv/**'], runners: [] };
    const rules: OrgRules = { projects: [web, open] };
    checkRunnerAllowed(rules, undefined, 'r-general');
    checkRunnerAllowed(rules, open, 'r-general');
    const none = refusedBy('projects', () => checkRunnerAllowed(rules, undefined, 'r-web'));
    assert.match(none.message, /runner r-web is reserved .* for web, .* of no project/);
    assert.deepEqual(
      none.fields?.map((item) => item.field),
      ['runnerId'],
    );
    const other = refusedBy('projects', () => checkRunnerAllowed(rules, open, 'r-web'));
    assert.match(other.message, /of project docs/);
  });

  test('allowedClasses refuses other classes and picks the first allowed one by default', () => {
    const offered = ['small', 'large'];
    assert.equal(allowedClassOf({}, undefined, offered, 'r1'), 'small');
    assert.equal(allowedClassOf({}, 'huge', offered, 'r1'), 'huge');
    const rules: OrgRules = { allowedClasses: ['large'] };
    assert.equal(allowedClassOf(rules, undefined, offered, 'r1'), 'large');
    assert.equal(allowedClassOf(rules, 'large', offered, 'r1'), 'large');
    assert.equal(allowedClassOf(rules, undefined, [], 'r1'), undefined);
    refusedBy('allowedClasses', () => allowedClassOf(rules, 'small', offered, 'r1'));
    const none = refusedBy('allowedClasses', () =>
      allowedClassOf(rules, undefined, ['small'], 'r1'),
    );
    assert.match(none.message, /runner r1 offers none/);
  });

  test('running limits count one more than what runs now', () => {
    assert.equal(runningLimitRefusal({}, { owner: 100, org: 1000 }, true), null);
    const rules: OrgRules = { maxRunningPerUser: 2, maxRunningPerOrg: 3 };
    assert.equal(runningLimitRefusal(rules, { owner: 1, org: 2 }, true), null);
    const user = runningLimitRefusal(rules, { owner: 2, org: 2 }, true);
    assert.equal(user?.details?.policy, 'maxRunningPerUser');
    assert.match(user?.message ?? '', /maxRunningPerUser is 2 and you already have 2/);
    const other = runningLimitRefusal(rules, { owner: 2, org: 2 }, false);
    assert.match(other?.message ?? '', /its owner already has 2/);
    const org = runningLimitRefusal(rules, { owner: 0, org: 3 }, true);
    assert.equal(org?.details?.policy, 'maxRunningPerOrg');
    const zero = runningLimitRefusal({ maxRunningPerUser: 0 }, { owner: 0, org: 0 }, true);
    assert.equal(zero?.details?.policy, 'maxRunningPerUser');
  });
});

describe('stop reasons', () => {
  const minute = 60_000;
  const since = 1_000_000_000_000;

  test('idle time counts from the later of the last activity and becoming running', () => {
    const rules: OrgRules = { idleStopAfterMin: 30 };
    const fresh = { runningSinceMs: since, lastActiveAtMs: null };
    assert.equal(stopReason(rules, fresh, since + 30 * minute), null);
    assert.equal(stopReason(rules, fresh, since + 31 * minute), 'idleStopAfterMin');
    const active = { runningSinceMs: since, lastActiveAtMs: since + 20 * minute };
    assert.equal(stopReason(rules, active, since + 31 * minute), null);
    assert.equal(stopReason(rules, active, since + 51 * minute), 'idleStopAfterMin');
    const restarted = { runningSinceMs: since, lastActiveAtMs: since - 120 * minute };
    assert.equal(stopReason(rules, restarted, since + minute), null);
  });

  test('lifetime counts from becoming running, whatever the activity; no rule, no stop', () => {
    const rules: OrgRules = { idleStopAfterMin: 30, maxLifetimeMin: 60 };
    const busy = { runningSinceMs: since, lastActiveAtMs: since + 61 * minute };
    assert.equal(stopReason(rules, busy, since + 60 * minute), null);
    assert.equal(stopReason(rules, busy, since + 61 * minute + 1), 'maxLifetimeMin');
    assert.equal(stopReason({}, busy, since + 10_000 * minute), null);
  });
});

describe('rule problems', () => {
  test('bad patterns, repeated project names and unknown runners are named by field', () => {
    const problems = ruleProblems(
      {
        allowedRepositoryPatterns: ['https://git.example.test/*', 'git.example.test/*'],
        projects: [
          { name: 'web', repositoryPatterns: ['https://git.example.test/web/*'], runners: ['r1'] },
          { name: 'web', repositoryPatterns: ['no scheme/*'], runners: ['r1', 'ghost'] },
        ],
      },
      new Set(['r1']),
    );
    assert.deepEqual(
      problems.map((item) => item.field),
      [
        'allowedRepositoryPatterns.1',
        'projects.1.name',
        'projects.1.repositoryPatterns.0',
        'projects.1.runners.1',
      ],
    );
    assert.deepEqual(ruleProblems({}, new Set()), []);
  });
});
