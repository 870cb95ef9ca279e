import assert from 'node:assert/strict';
import { test } from 'node:test';
import { environmentFixture as environment } from '../testing/fixtures.js';
import { markup } from '../testing/markup.js';
import { EnvironmentTimeline, noteSeen, type SeenPhase } from './EnvironmentTimeline.js';

test('timeline: empty steps, conditions and activity say so', () => {
  const html = markup(
    <EnvironmentTimeline environment={environment('alpha', 'creating')} seen={[]} />,
  );
  assert.match(html, /<h2 id="timeline-title">Timeline<\/h2>/);
  assert.match(html, /<dt>Created<\/dt><dd><time dateTime="2026-12-04T09:59:00.000Z"/);
  assert.match(html, /<dt>Last active<\/dt><dd>no SSH, terminal, command, port or file activity/);
  assert.match(html, /No lifecycle step has run yet/);
  assert.match(html, /The runner reported no conditions/);
  assert.match(html, /<h3>Phases seen on this page<\/h3><p>None yet.<\/p>/);
  assert.doesNotMatch(html, /<table/);
});

test('timeline: each step, each condition, the phases seen and the last activity', () => {
  const alpha = environment('alpha', 'running');
  alpha.lastActiveAt = '2026-12-04T11:00:00.000Z';
  alpha.status.steps = [
    {
      name: 'clone',
      state: 'succeeded',
      startedAt: '2026-12-04T10:00:00.000Z',
      finishedAt: '2026-12-04T10:00:02.000Z',
    },
    {
      name: 'postCreateCommand',
      state: 'failed',
      startedAt: '2026-12-04T10:00:02.000Z',
      finishedAt: '2026-12-04T10:00:09.000Z',
      exitCode: 3,
    },
    { name: 'postStartCommand', state: 'running', startedAt: '2026-12-04T10:00:09.000Z' },
  ];
  alpha.status.conditions = [
    { type: 'LimitsEnforced', status: 'true', reason: 'CgroupV2', message: 'cpu 2, memory 4096' },
  ];
  const seen: SeenPhase[] = [
    { phase: 'creating', since: '2026-12-04T09:59:00.000Z', seenAt: '2026-12-04T09:59:01.000Z' },
    { phase: 'running', since: '2026-12-04T10:00:10.000Z', seenAt: '2026-12-04T10:00:11.000Z' },
  ];
  const html = markup(<EnvironmentTimeline environment={alpha} seen={seen} />);
  assert.match(html, /<dt>Last active<\/dt><dd><time dateTime="2026-12-04T11:00:00.000Z"/);
  assert.match(html, /<caption>Lifecycle steps<\/caption>/);
  assert.match(
    html,
    /role="region" aria-label="Lifecycle steps" tabindex="0"|tabindex="0" role="region" aria-label="Lifecycle steps"/,
  );
  assert.match(
    html,
    /<th scope="row">postCreateCommand<\/th><td class="step-state step-failed">failed</,
  );
  assert.match(html, /<td>3<\/td>/);
  assert.match(
    html,
    /<th scope="row">postStartCommand<\/th><td class="step-state step-running">running<\/td><td><time[^>]*>[^<]*<\/time><\/td><td>—<\/td><td>—<\/td>/,
  );
  assert.match(html, /<caption>Conditions<\/caption>/);
  assert.match(
    html,
    /<th scope="row">LimitsEnforced<\/th><td>true<\/td><td><code>CgroupV2<\/code>/,
  );
  assert.equal(html.match(/<li data-seen-phase=/g)?.length, 2);
  assert.match(
    html,
    /data-seen-phase="running"><span class="phase phase-running">running<\/span> since/,
  );
});

test('noteSeen adds a phase once, and again only when it changes', () => {
  const alpha = environment('alpha', 'creating');
  const first = noteSeen([], alpha, new Date('2026-12-04T10:00:00.000Z'));
  assert.deepEqual(first, [
    { phase: 'creating', since: alpha.status.phaseChangedAt, seenAt: '2026-12-04T10:00:00.000Z' },
  ]);
  assert.equal(noteSeen(first, alpha), first, 'unchanged: the same list');
  alpha.status.phase = 'running';
  alpha.status.phaseChangedAt = '2026-12-04T10:00:05.000Z';
  const second = noteSeen(first, alpha, new Date('2026-12-04T10:00:06.000Z'));
  assert.deepEqual(
    second.map((entry) => entry.phase),
    ['creating', 'running'],
  );
  alpha.status.phaseChangedAt = '2026-12-04T10:20:00.000Z';
  assert.equal(noteSeen(second, alpha).length, 3, 'running again after a restart is new');
});
