import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditRecord, Environment, OrgPolicy } from '@hangar/api';
import { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import { formatMinutes } from './commands/org-policy-get.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-policy-');
const run = fixture.run;

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

async function policy(): Promise<OrgPolicy> {
  return fixture.api.get<OrgPolicy>('/v1/org/policy');
}

/** Clears every rule the tests set, through the API, so each test starts from the default. */
async function resetPolicy(): Promise<void> {
  await fixture.api.json('PATCH', '/v1/org/policy', {
    body: {
      maxPortShareLevel: null,
      allowedRepositoryPatterns: null,
      allowedClasses: null,
      maxRunningPerUser: null,
      maxRunningPerOrg: null,
      idleStopAfterMin: null,
      maxLifetimeMin: null,
      breakGlass: null,
      projects: null,
      agents: null,
    },
  });
}

describe('org policy get and set against a real control plane', () => {
  it('get shows every rule with what its absence means, as text and JSON', async () => {
    const shown = await run(['org', 'policy', 'get']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(
      shown.stdout,
      [
        'max port share level: org',
        'allowed repositories: any',
        'allowed classes:      any',
        'max running per user: no limit',
        'max running per org:  no limit',
        'idle stop after:      never',
        'max lifetime:         no limit',
        'break-glass:          off',
        'projects:             none',
        'agent tools:          all',
        'agent denied:         none',
        'agent writable:       the whole workspace',
        'agents per user:      no limit',
        'agents per org:       no limit',
        'agent model:          none: each task names one',
        'egress default:       none',
        "egress agents:        none set: the environment's rule",
        'updated:              never (the default)',
        '',
      ].join('\n'),
    );
    const asJson = json<OrgPolicy>((await run(['org', 'policy', 'get', '--json'])).stdout);
    assert.deepEqual(asJson, { maxPortShareLevel: 'org' });
  });

  it('set takes every flag, sends minutes; --clear lifts rules by flag or API name', async () => {
    await fixture.api.post('/v1/runners', { name: 'r-web' });
    const projectsFile = join(fixture.scratch, 'projects.json');
    const projects = [
      {
        name: 'web',
        repositoryPatterns: ['https://git.example.test/web/*'],
        runners: ['r-web'],
      },
    ];
    await writeFile(projectsFile, JSON.stringify(projects));
    try {
      const set = await run([
        'org',
        'policy',
        'set',
        '--max-port-share-level',
        'private',
        '--allow-repository',
        'https://git.example.test/acme/*',
        '--allow-repository',
        'https://git.example.test/web/**',
        '--allow-class',
        'small',
        '--max-running-per-user',
        '2',
        '--max-running-per-org',
        '0',
        '--idle-stop-after',
        '30m',
        '--max-lifetime',
        '8h',
        '--break-glass',
        'on',
        '--projects-file',
        'projects.json',
      ]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /^max port share level: private\n/);
      assert.match(
        set.stdout,
        /\nallowed repositories: https:\/\/git\.example\.test\/acme\/\*, https:\S+\/web\/\*\*\n/,
      );
      assert.match(set.stdout, /\nmax running per org: +0\n/);
      assert.match(set.stdout, /\nidle stop after: +30m\nmax lifetime: +8h\nbreak-glass: +on\n/);
      assert.match(
        set.stdout,
        /\nprojects: +1\n {2}web: repositories https:\S+\/web\/\*; runners r-web\n/,
      );
      assert.match(set.stdout, new RegExp(`\\nupdated: .* by ${fixture.cp.userId}\\n$`));
      const stored = await policy();
      assert.deepEqual(
        { ...stored, updatedAt: undefined },
        {
          maxPortShareLevel: 'private',
          allowedRepositoryPatterns: [
            'https://git.example.test/acme/*',
            'https://git.example.test/web/**',
          ],
          allowedClasses: ['small'],
          maxRunningPerUser: 2,
          maxRunningPerOrg: 0,
          idleStopAfterMin: 30,
          maxLifetimeMin: 480,
          breakGlass: true,
          projects,
          updatedBy: fixture.cp.userId,
          updatedAt: undefined,
        },
      );

      const cleared = await run([
        'org',
        'policy',
        'set',
        '--clear',
        'max-lifetime',
        '--clear',
        'maxRunningPerOrg',
        '--clear',
        'break-glass',
        '--clear',
        'projects-file',
        '--idle-stop-after',
        '2d',
        '--json',
      ]);
      assert.equal(cleared.code, 0, cleared.stderr);
      const after = json<OrgPolicy>(cleared.stdout);
      assert.equal(after.maxLifetimeMin, undefined);
      assert.equal(after.maxRunningPerOrg, undefined);
      assert.equal(after.breakGlass, undefined);
      assert.equal(after.projects, undefined);
      assert.equal(after.idleStopAfterMin, 2880);
      assert.equal(after.maxRunningPerUser, 2, 'rules not named stay');

      const page = await fixture.api.get<{ records: AuditRecord[] }>('/v1/audit', {
        action: 'org.policy.update',
      });
      const last = page.records.at(-1);
      assert.equal(last?.details.oldMaxLifetimeMin, 480);
      assert.equal(last?.details.newMaxLifetimeMin, null);
      assert.equal(last?.details.newIdleStopAfterMin, 2880);
    } finally {
      await resetPolicy();
    }
  });

  it('bad flags are refused naming the flag, before anything is sent', async () => {
    const before = await policy();
    await writeFile(join(fixture.scratch, 'not-json.json'), '{ nope');
    await writeFile(join(fixture.scratch, 'object.json'), '{"name": "web"}');
    await writeFile(join(fixture.scratch, 'list.json'), '[]');
    const cases: [string[], string][] = [
      [[], 'give at least one rule'],
      [['--max-port-share-level', 'everyone'], '--max-port-share-level must be one of'],
      [['--max-running-per-user', '-1'], '--max-running-per-user must be a whole number'],
      [['--max-running-per-org', 'many'], '--max-running-per-org must be a whole number'],
      [['--idle-stop-after', '90s'], '--idle-stop-after must be whole minutes'],
      [['--idle-stop-after', '30s'], '--idle-stop-after must be a duration'],
      [['--max-lifetime', '2y'], '--max-lifetime must be a duration'],
      [['--max-lifetime', '400d'], '--max-lifetime must be a duration'],
      [['--break-glass', 'yes'], '--break-glass must be on or off'],
      [['--projects-file', 'missing.json'], '--projects-file cannot be read'],
      [['--projects-file', 'not-json.json'], '--projects-file must hold JSON'],
      [['--projects-file', 'object.json'], '--projects-file must hold a JSON array'],
      [['--agents-file', 'missing.json'], '--agents-file cannot be read'],
      [['--agents-file', 'not-json.json'], '--agents-file is not JSON'],
      [['--agents-file', 'list.json'], '--agents-file must hold a JSON object'],
      [['--clear', 'everything'], '--clear must name a rule'],
      [['--clear', 'max-lifetime', '--max-lifetime', '1h'], '--clear names max-lifetime'],
      [['--max-lifetime', '1h', '--max-lifetime', '2h'], '--max-lifetime is given more than'],
    ];
    for (const [flags, message] of cases) {
      const refused = await run(['org', 'policy', 'set', ...flags]);
      assert.equal(refused.code, 2, `${flags.join(' ')}: ${refused.stderr}`);
      assert.ok(
        refused.stderr.startsWith(`error invalid_request: ${message}`),
        `${flags.join(' ')}: ${refused.stderr}`,
      );
    }
    const server = await run(['org', 'policy', 'set', '--allow-repository', 'no-scheme/*']);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /^error invalid_request: .*allowedRepositoryPatterns\.0/);
    assert.match(server.stderr, /\(set by --allow-repository\)/);
    const unknown = await run(['org', 'policy', 'set', '--allow-class', 'Large']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /allowedClasses\.0 .*\(set by --allow-class\)/);
    assert.deepEqual(await policy(), before, 'nothing was changed');
  });

  it('--agents-file sets the agent policy, get shows it, the control plane checks it', async () => {
    const file = join(fixture.scratch, 'agents.json');
    await writeFile(
      file,
      JSON.stringify({
        allowedTools: ['read_file', 'finish'],
        deniedCommandPatterns: ['rm\\s+-rf'],
        writablePaths: ['src/**'],
        maxRunningPerUser: 2,
        model: { api: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen' },
      }),
    );
    const set = await run(['org', 'policy', 'set', '--agents-file', 'agents.json']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^agent tools: {10}read_file, finish$/m);
    assert.match(set.stdout, /^agent denied: {9}rm\\s\+-rf$/m);
    assert.match(set.stdout, /^agents per user: {6}2$/m);
    assert.match(
      set.stdout,
      /^agent model: {10}qwen \(openai\) at http:\/\/127\.0\.0\.1:8000\/v1$/m,
    );
    assert.deepEqual((await policy()).agents?.writablePaths, ['src/**']);
    await writeFile(file, JSON.stringify({ deniedCommandPatterns: ['(open'] }));
    const refused = await run(['org', 'policy', 'set', '--agents-file', 'agents.json']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /agents\.deniedCommandPatterns\.0 .*\(set by --agents-file\)/);
    const cleared = await run(['org', 'policy', 'set', '--clear', 'agents-file']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await policy()).agents, undefined);
  });

  it('env create --project sends the project, and the policy decides', async () => {
    const created = await fixture.api.post<{ enrollmentToken: string }>('/v1/runners', {
      name: 'r-projects',
    });
    const runner = new ProtocolRunner(fixture.cp.url);
    await runner.enroll(created.enrollmentToken);
    await runner.connect();
    try {
      const unknown = await run(['env', 'create', '--project', 'web', '--name', 'p0']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^error forbidden: project web is not one of the organization/);
      await fixture.api.json('PATCH', '/v1/org/policy', {
        body: {
          projects: [
            { name: 'web', repositoryPatterns: ['https://git.example.test/web/*'], runners: [] },
          ],
        },
      });
      const outside = await run([
        'env',
        'create',
        'https://git.example.test/api/x.git',
        '--project',
        'web',
      ]);
      assert.equal(outside.code, 1);
      assert.match(outside.stderr, /^error forbidden: project web of the organization policy/);
      const made = await run([
        'env',
        'create',
        'https://git.example.test/web/site.git',
        '--project',
        'web',
        '--name',
        'p1',
        '--json',
      ]);
      assert.equal(made.code, 0, made.stderr);
      assert.equal(json<Environment>(made.stdout).spec.project, 'web');
      const bad = await run(['env', 'create', '--project', 'Not A Project']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /project/);
    } finally {
      runner.close();
      await resetPolicy();
    }
  });

  it('minutes are shown as the duration flags take them', () => {
    assert.equal(formatMinutes(45), '45m');
    assert.equal(formatMinutes(480), '8h');
    assert.equal(formatMinutes(2880), '2d');
    assert.equal(formatMinutes(90), '90m');
  });
});
