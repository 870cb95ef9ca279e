import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadState } from '../../load.js';
import type { OrgPolicy } from '../../org-types.js';
import { assertLabelled, ignore, markup } from '../../testing/markup.js';
import { policyPatchOf } from './policy-patch.js';
import { PolicyView, type PolicyViewProps } from './PolicyView.js';

const defaults: OrgPolicy = { maxPortShareLevel: 'org' };

const full: OrgPolicy = {
  maxPortShareLevel: 'private',
  allowedRepositoryPatterns: ['https://git.example.test/**'],
  allowedClasses: ['small'],
  maxRunningPerUser: 3,
  idleStopAfterMin: 30,
  maxLifetimeMin: 720,
  breakGlass: true,
  projects: [
    { name: 'payments', repositoryPatterns: ['https://git.example.test/pay/**'], runners: [] },
  ],
  egress: {
    default: { mode: 'allowlist', allow: [{ host: 'registry.example.test' }] },
    classes: { large: { mode: 'open', allowPrivate: ['10.0.0.0/8'] } },
  },
  agents: {
    allowedTools: ['read_file', 'finish'],
    model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm1', keySecret: 'MODEL' },
  },
  updatedBy: 'usr_owner0000000000',
  updatedAt: '2026-12-04T10:00:00.000Z',
};

function view(policy: LoadState<OrgPolicy>, edit: Partial<PolicyViewProps['edit']> = {}) {
  return markup(
    <PolicyView
      policy={policy}
      edit={{ busy: false, error: null, notice: null, onSave: ignore, ...edit }}
    />,
  );
}

test('policies: loading and error states', () => {
  assert.match(view({ kind: 'loading' }), /role="status">Loading the organization policy…</);
  const refused = view({ kind: 'error', message: 'your role auditor may not do this' });
  assert.match(refused, /role="alert">Could not load the organization policy: your role auditor/);
  assert.doesNotMatch(refused, /Save policies/);
});

test('policies: the defaults say what an absent rule means', () => {
  const html = view({ kind: 'ready', data: defaults });
  assert.match(html, /<dt>Repositories<\/dt><dd>any repository<\/dd>/);
  assert.match(html, /<dt>Classes<\/dt><dd>any class a runner offers<\/dd>/);
  assert.match(html, /<dt>Running per user<\/dt><dd>no limit<\/dd>/);
  assert.match(html, /<dt>Idle stop<\/dt><dd>never<\/dd>/);
  assert.match(html, /<dt>Break-glass<\/dt><dd>off: only an environment&#x27;s owner opens it/);
  assert.match(html, /No projects: environments are not grouped/);
  assert.match(html, /<dt>Default<\/dt><dd>nothing \(no rule set\)<\/dd>/);
  assert.match(html, /<dt>Model<\/dt><dd>none set: each task names its own<\/dd>/);
  assert.match(html, /Never changed: these are the defaults./);
  assertLabelled(html);
});

test('policies: every rule in force is shown in full', () => {
  const html = view({ kind: 'ready', data: full });
  assert.match(html, /<dd><ul class="plain"><li><code>https:\/\/git.example.test\/\*\*<\/code>/);
  assert.match(html, /<dt>Idle stop<\/dt><dd>after 30 minutes<\/dd>/);
  assert.match(html, /<dt>Maximum lifetime<\/dt><dd>after 12 hours<\/dd>/);
  assert.match(html, /<dt>Port sharing<\/dt><dd>private: only the environment owner/);
  assert.match(html, /<dt>Break-glass<\/dt><dd>on: owners and admins may open/);
  assert.match(html, /<th scope="row">payments<\/th>/);
  assert.match(html, /<dd>only registry.example.test \(ports 443, 80\)<\/dd>/);
  assert.match(html, /<dt>Class large<\/dt><dd>any public address; private ranges allowed: 10/);
  assert.match(html, /m1 \(openai API\) at http:\/\/127.0.0.1:9\/v1, key from secret MODEL/);
  assert.match(html, /Last changed <time dateTime="2026-12-04T10:00:00.000Z"/);
  assert.match(html, /<option value="private" selected="">/);
  assert.match(html, /type="checkbox" name="breakGlass" checked=""/);
  assert.match(html, /&quot;name&quot;: &quot;payments&quot;/);
});

test('policies: a refusal, a local problem and a saved notice are announced', () => {
  const html = view(
    { kind: 'ready', data: defaults },
    { busy: true, error: 'your role member may not do this', notice: 'Saved: allowedClasses.' },
  );
  assert.match(html, /disabled="">Saving…</);
  assert.match(html, /role="alert">The policy was not changed: your role member may not do this</);
  assert.match(html, /role="status">Saved: allowedClasses.</);
});

function form(values: Record<string, string>): FormData {
  const data = new FormData();
  data.set('maxPortShareLevel', 'org');
  for (const [name, value] of Object.entries(values)) data.set(name, value);
  return data;
}

test('policy form: only what changed is sent; an emptied rule is cleared with null', () => {
  assert.deepEqual(policyPatchOf(defaults, form({})), {
    ok: false,
    field: null,
    message: 'Nothing to save: every rule is as shown above.',
  });
  const read = policyPatchOf(
    defaults,
    form({ allowedClasses: ' small \n\n large ', maxRunningPerUser: '2', breakGlass: 'on' }),
  );
  assert.deepEqual(read, {
    ok: true,
    patch: { allowedClasses: ['small', 'large'], maxRunningPerUser: 2, breakGlass: true },
    changed: ['allowedClasses', 'maxRunningPerUser', 'breakGlass'],
  });
  const unchanged = form({
    allowedRepositoryPatterns: 'https://git.example.test/**',
    allowedClasses: 'small',
    maxRunningPerUser: '3',
    idleStopAfterMin: '30',
    maxLifetimeMin: '720',
    breakGlass: 'on',
    projects: JSON.stringify(full.projects),
    egress: JSON.stringify(full.egress, null, 2),
    agents: JSON.stringify(full.agents),
    maxPortShareLevel: 'private',
  });
  assert.equal(policyPatchOf(full, unchanged).ok, false);
  unchanged.set('idleStopAfterMin', '');
  unchanged.set('projects', '');
  unchanged.delete('breakGlass');
  unchanged.set('maxPortShareLevel', 'public');
  assert.deepEqual(policyPatchOf(full, unchanged), {
    ok: true,
    patch: {
      idleStopAfterMin: null,
      projects: null,
      maxPortShareLevel: 'public',
      breakGlass: null,
    },
    changed: ['idleStopAfterMin', 'projects', 'maxPortShareLevel', 'breakGlass'],
  });
});

test('policy form: a number or JSON it cannot read names its field', () => {
  const number = policyPatchOf(defaults, form({ maxLifetimeMin: '1.5' }));
  assert.deepEqual(number.ok ? null : number.field, 'maxLifetimeMin');
  const json = policyPatchOf(defaults, form({ egress: '{"default": ' }));
  assert.equal(json.ok ? null : json.field, 'egress');
  assert.match(json.ok ? '' : json.message, /^egress must be JSON, or empty to clear it/);
});
