import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateEd25519, newId, scopes as allScopes, type Scope } from '@hangar/api';
import {
  allRoles,
  admins,
  auditReaders,
  builders,
  orgReaders,
  runnerAdmins,
} from '../http/access-rules.js';
import type { Role } from '../http/principal.js';
import { testBackends } from '../storage/testing.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { keyMaker } from '../testing/ssh-keygen.js';
import { addUser } from '../testing/users.js';

/** Organization A's resources, all owned by A's owner, which every row aims at. */
interface OrgA {
  orgId: string;
  userId: string;
  environmentId: string;
  runnerId: string;
  tokenId: string;
  sshKeyId: string;
  signingKeyId: string;
  secretId: string;
  memberId: string;
  agentTaskId: string;
  sshKeyLine: string;
}

interface Row {
  /** The rule the issue asks for; the test checks the route declares exactly this. */
  scope: Scope | 'any';
  roles: readonly Role[];
  /** The call on org A's resources: its path (with query) and body. */
  call: (a: OrgA) => { path: string; body?: unknown };
  /**
   * `item`: names one of A's resources, so another organization gets 404. `own-org`: acts on
   * the caller's own organization only, so another organization's answer holds nothing of A's.
   */
  kind: 'item' | 'own-org';
  /** Members of A refused for who they are (besides roles the rule leaves out: 403 each). */
  insiders?: readonly { as: 'member' | 'admin' | 'runner-admin'; status: 403 | 404 }[];
}

const json = { path: '', body: {} };
const notOwner = [{ as: 'member', status: 404 }] as const;

/** Every user route. A route missing here, or a row naming no route, fails the test. */
const matrix: Record<string, Row> = {
  'GET /v1/whoami': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: () => path('/v1/whoami'),
  },
  'POST /v1/tokens': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: () => ({ path: '/v1/tokens', body: { scopes: ['environments:read'], expiresInS: 600 } }),
  },
  'GET /v1/tokens': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: (a) => path(`/v1/tokens?userId=${a.userId}`),
    insiders: [{ as: 'member', status: 403 }],
  },
  'DELETE /v1/tokens/:id': {
    scope: 'any',
    roles: allRoles,
    kind: 'item',
    call: (a) => path(`/v1/tokens/${a.tokenId}`),
    insiders: notOwner,
  },
  'POST /v1/auth/logout': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: () => path('/v1/auth/logout'),
  },
  'GET /v1/auth/web-session': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: () => path('/v1/auth/web-session'),
  },
  'DELETE /v1/auth/web-session': {
    scope: 'any',
    roles: allRoles,
    kind: 'own-org',
    call: () => path('/v1/auth/web-session'),
  },
  'POST /v1/runners': {
    scope: 'runners:admin',
    roles: runnerAdmins,
    kind: 'own-org',
    call: () => ({ path: '/v1/runners', body: { name: 'matrix' } }),
  },
  'GET /v1/runners': {
    scope: 'environments:read',
    roles: orgReaders,
    kind: 'own-org',
    call: () => path('/v1/runners'),
  },
  'GET /v1/runners/:id': {
    scope: 'environments:read',
    roles: orgReaders,
    kind: 'item',
    call: (a) => path(`/v1/runners/${a.runnerId}`),
  },
  ...Object.fromEntries(
    ['disable', 'enable', 'rotate-key'].map((verb) => [
      `POST /v1/runners/:id/${verb}`,
      {
        scope: 'runners:admin',
        roles: runnerAdmins,
        kind: 'item',
        call: (a: OrgA) => path(`/v1/runners/${a.runnerId}/${verb}`),
      } satisfies Row,
    ]),
  ),
  'POST /v1/environments': {
    scope: 'environments:write',
    roles: builders,
    kind: 'own-org',
    call: () => ({ path: '/v1/environments', body: {} }),
  },
  'GET /v1/environments': {
    scope: 'environments:read',
    roles: builders,
    kind: 'own-org',
    call: () => path('/v1/environments'),
  },
  'GET /v1/environments/:id': {
    scope: 'environments:read',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/environments/${a.environmentId}`),
    insiders: [...notOwner, { as: 'runner-admin', status: 403 }],
  },
  ...Object.fromEntries(
    (['start', 'stop'] as const).map((verb) => [
      `POST /v1/environments/:id/${verb}`,
      {
        scope: 'environments:write',
        roles: builders,
        kind: 'item',
        call: (a: OrgA) => path(`/v1/environments/${a.environmentId}/${verb}`),
        insiders: notOwner,
      } satisfies Row,
    ]),
  ),
  'DELETE /v1/environments/:id': {
    scope: 'environments:write',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/environments/${a.environmentId}`),
    insiders: notOwner,
  },
  'POST /v1/environments/:id/access': {
    scope: 'environments:read',
    roles: builders,
    kind: 'item',
    call: (a) => ({
      path: `/v1/environments/${a.environmentId}/access`,
      body: { operations: ['files:read'] },
    }),
    insiders: [...notOwner, { as: 'admin', status: 403 }],
  },
  'PUT /v1/environments/:id/ports/:port': {
    scope: 'environments:write',
    roles: builders,
    kind: 'item',
    call: (a) => ({
      path: `/v1/environments/${a.environmentId}/ports/3000`,
      body: { level: 'org' },
    }),
    insiders: [...notOwner, { as: 'admin', status: 403 }],
  },
  'POST /v1/environments/:id/ports/:port/access': {
    scope: 'environments:exec',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/environments/${a.environmentId}/ports/4000/access`),
    insiders: notOwner,
  },
  'GET /v1/audit': {
    scope: 'audit:read',
    roles: auditReaders,
    kind: 'own-org',
    call: () => path('/v1/audit'),
  },
  'GET /v1/audit/export': {
    scope: 'audit:read',
    roles: auditReaders,
    kind: 'own-org',
    call: () => path('/v1/audit/export'),
  },
  'POST /v1/ssh-keys': {
    scope: 'environments:exec',
    roles: builders,
    kind: 'own-org',
    call: (a) => ({ path: '/v1/ssh-keys', body: { publicKey: a.sshKeyLine } }),
  },
  'GET /v1/ssh-keys': {
    scope: 'environments:read',
    roles: builders,
    kind: 'own-org',
    call: (a) => path(`/v1/ssh-keys?userId=${a.userId}`),
    insiders: [{ as: 'member', status: 403 }],
  },
  'DELETE /v1/ssh-keys/:id': {
    scope: 'environments:exec',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/ssh-keys/${a.sshKeyId}`),
    insiders: notOwner,
  },
  'GET /v1/org/policy': {
    scope: 'environments:read',
    roles: orgReaders,
    kind: 'own-org',
    call: () => path('/v1/org/policy'),
  },
  'PATCH /v1/org/policy': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => ({ path: '/v1/org/policy', body: { maxPortShareLevel: 'org' } }),
  },
  // No valid body: a provider configuration would make the control plane fetch its discovery
  // document, and these tests reach no host but the control plane.
  'GET /v1/org/oidc': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => path('/v1/org/oidc'),
  },
  'PUT /v1/org/oidc': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => ({ ...json, path: '/v1/org/oidc' }),
  },
  'DELETE /v1/org/oidc': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => path('/v1/org/oidc'),
  },
  'POST /v1/signing-keys': {
    scope: 'secrets:write',
    roles: builders,
    kind: 'own-org',
    call: () => ({ path: '/v1/signing-keys', body: { publicKey: generateEd25519().publicKey } }),
  },
  'GET /v1/signing-keys': {
    scope: 'secrets:read',
    roles: builders,
    kind: 'own-org',
    call: () => path('/v1/signing-keys'),
  },
  'DELETE /v1/signing-keys/:id': {
    scope: 'secrets:write',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/signing-keys/${a.signingKeyId}`),
    insiders: notOwner,
  },
  'GET /v1/secrets/recipients': {
    scope: 'secrets:write',
    roles: builders,
    kind: 'own-org',
    call: () => path('/v1/secrets/recipients?scope=org'),
  },
  'PUT /v1/secrets': {
    scope: 'secrets:write',
    roles: builders,
    kind: 'own-org',
    call: () => ({ ...json, path: '/v1/secrets' }),
  },
  'GET /v1/secrets': {
    scope: 'secrets:read',
    roles: builders,
    kind: 'own-org',
    call: () => path('/v1/secrets'),
  },
  'DELETE /v1/secrets/:id': {
    scope: 'secrets:write',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/secrets/${a.secretId}`),
    insiders: notOwner,
  },
  'GET /v1/members': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => path('/v1/members'),
  },
  'POST /v1/members': {
    scope: 'org:admin',
    roles: admins,
    kind: 'own-org',
    call: () => ({
      path: '/v1/members',
      body: { issuer: 'https://id.example.test', subject: newId('usr'), role: 'member' },
    }),
  },
  'PATCH /v1/members/:id': {
    scope: 'org:admin',
    roles: admins,
    kind: 'item',
    call: (a) => ({ path: `/v1/members/${a.memberId}`, body: { role: 'auditor' } }),
  },
  'DELETE /v1/members/:id': {
    scope: 'org:admin',
    roles: admins,
    kind: 'item',
    call: (a) => path(`/v1/members/${a.memberId}`),
  },
  'POST /v1/agent-tasks': {
    scope: 'environments:exec',
    roles: builders,
    kind: 'item',
    call: (a) => ({ path: '/v1/agent-tasks', body: agentTaskBody(a.environmentId) }),
    insiders: [...notOwner, { as: 'admin', status: 404 }],
  },
  'GET /v1/agent-tasks': {
    scope: 'environments:read',
    roles: allRoles,
    kind: 'own-org',
    call: () => path('/v1/agent-tasks'),
  },
  'GET /v1/agent-tasks/:id': {
    scope: 'environments:read',
    roles: allRoles,
    kind: 'item',
    call: (a) => path(`/v1/agent-tasks/${a.agentTaskId}`),
    insiders: [...notOwner, { as: 'runner-admin', status: 404 }],
  },
  'POST /v1/agent-tasks/:id/stop': {
    scope: 'environments:exec',
    roles: builders,
    kind: 'item',
    call: (a) => path(`/v1/agent-tasks/${a.agentTaskId}/stop`),
    insiders: notOwner,
  },
};

function agentTaskBody(environmentId: string) {
  return {
    environmentId,
    promptSha256: '0'.repeat(64),
    model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'matrix' },
  };
}

function path(value: string) {
  return { path: value };
}

const [sqlite] = testBackends();
let t: TestControlPlane;
let orgA: OrgA;
let keys: Awaited<ReturnType<typeof keyMaker>>;

/** Org A: a runner, a running environment, a token, SSH and signing keys, a secret, a member. */
before(async () => {
  assert.ok(sqlite);
  keys = await keyMaker();
  t = await startTestControlPlane(sqlite);
  const { runner } = await connectedRunner(t);
  const environment = await createEnvironment(t);
  runner.reportStatus(environment.id, { phase: 'running' }, 1);
  await waitForPhase(t, environment.id, 'running');
  const token = await t.request<{ apiToken: { id: string } }>('POST', '/v1/tokens', {
    body: { scopes: ['environments:read'], expiresInS: 600 },
  });
  const sshKey = await t.request<{ id: string }>('POST', '/v1/ssh-keys', {
    body: { publicKey: (await keys.make('ed25519')).line },
  });
  const signingKey = await t.request<{ id: string }>('POST', '/v1/signing-keys', {
    body: { publicKey: generateEd25519().publicKey },
  });
  assert.equal(signingKey.status, 201, JSON.stringify(signingKey.body));
  const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
  const task = await t.request<{ id: string }>('POST', '/v1/agent-tasks', {
    body: agentTaskBody(environment.id),
  });
  assert.equal(task.status, 201, JSON.stringify(task.body));
  orgA = {
    orgId: t.owner.orgId,
    userId: t.owner.userId,
    environmentId: environment.id,
    runnerId: runner.runnerId,
    tokenId: token.body.apiToken.id,
    sshKeyId: sshKey.body.id,
    signingKeyId: signingKey.body.id,
    secretId: await userSecret(t, signingKey.body.id),
    memberId: member.userId,
    agentTaskId: task.body.id,
    sshKeyLine: (await keys.make('ed25519')).line,
  };
});

after(async () => {
  await t?.close();
  await keys?.remove();
});

/**
 * A user secret of A's owner, written straight to the table: the matrix asks who may touch it,
 * and sealing a real one needs a runner encryption key that the protocol runner does not have.
 */
async function userSecret(t: TestControlPlane, signingKeyId: string): Promise<string> {
  const id = newId('sec');
  const now = Date.now();
  await t.cp.context.db.execute(
    `INSERT INTO secrets (id, org_id, scope, scope_id, name, delivery, target, version,
       author_id, signing_key_id, created_at, updated_at)
     VALUES (?, ?, 'user', ?, 'MATRIX', 'env', 'MATRIX', 1, ?, ?, ?, ?)`,
    [id, t.owner.orgId, t.owner.userId, t.owner.userId, signingKeyId, now, now],
  );
  return id;
}

/**
 * A's ids that an answer must not hold: all but those the request itself names (a refusal may
 * repeat the id it was asked about).
 */
function secretIds(request: { path: string; body?: unknown }): string[] {
  const asked = `${request.path} ${JSON.stringify(request.body ?? null)}`;
  const { sshKeyLine, ...ids } = orgA;
  return Object.values<string>(ids).filter((id) => id !== sshKeyLine && !asked.includes(id));
}

async function call(key: string, row: Row, token: string) {
  const method = key.split(' ')[0] ?? '';
  const request = row.call(orgA);
  const needsBody = request.body === undefined && method !== 'GET' && method !== 'DELETE';
  const response = await t.request<{ code: string; message: string }>(method, request.path, {
    token,
    ...(request.body !== undefined ? { body: request.body } : needsBody ? { body: {} } : {}),
  });
  const text = JSON.stringify(response.body ?? null);
  const leaked = secretIds(request).filter((id) => text.includes(id));
  return { ...response, text, leaked };
}

test('the matrix names every user route, each with the rule the issue asks for', () => {
  const routes = t.cp.routes.filter((route) => route.access?.kind === 'user');
  const declared = new Map(routes.map((route) => [`${route.method} ${route.url}`, route.access]));
  const missing = [...declared.keys()].filter((key) => !(key in matrix));
  assert.deepEqual(missing, [], 'user routes without a row in the access matrix: add them');
  const stale = Object.keys(matrix).filter((key) => !declared.has(key));
  assert.deepEqual(stale, [], 'rows naming routes that do not exist: remove them');
  for (const [key, row] of Object.entries(matrix)) {
    const access = declared.get(key);
    assert.ok(access?.kind === 'user');
    assert.equal(access.scope, row.scope, `${key} declares the scope ${access.scope}`);
    assert.deepEqual([...access.roles].sort(), [...row.roles].sort(), `${key} roles`);
  }
});

test('another organization with every scope gets 404, or an answer with nothing of ours', async () => {
  for (const [key, row] of Object.entries(matrix)) {
    const outsider = await addUser(t.cp.context, { role: 'owner' });
    const response = await call(key, row, outsider.token);
    const text = response.text;
    if (row.kind === 'item') {
      assert.equal(response.status, 404, `${key} as another organization: ${text}`);
      assert.equal(response.body.code, 'not_found');
    } else {
      // What it does, it does to the caller's own organization (a create may fail there, and
      // a read of something the caller's organization never set is not_found).
      const answered = response.status < 300 || response.body.code === 'not_found';
      if (key.startsWith('GET ')) assert.ok(answered, `${key}: ${text}`);
    }
    assert.deepEqual(response.leaked, [], `${key} leaked ids of A: ${text}`);
  }
});

test('a member who is not the owner, or lacks the role, is refused', async () => {
  const tokens = new Map<Role, string>();
  const tokenOf = async (role: Role) => {
    const known = tokens.get(role);
    if (known) return known;
    const made = await addUser(t.cp.context, { orgId: orgA.orgId, role });
    tokens.set(role, made.token);
    return made.token;
  };
  for (const [key, row] of Object.entries(matrix)) {
    for (const role of allRoles.filter((candidate) => !row.roles.includes(candidate))) {
      const response = await call(key, row, await tokenOf(role));
      assert.equal(response.status, 403, `${key} as ${role}: ${JSON.stringify(response.body)}`);
      assert.match(response.body.message, new RegExp(`role ${role} may not`));
    }
    for (const insider of row.insiders ?? []) {
      const response = await call(key, row, await tokenOf(insider.as));
      const text = response.text;
      assert.equal(response.status, insider.status, `${key} as a ${insider.as}: ${text}`);
      if (insider.status === 404) assert.deepEqual(response.leaked, [], `${key} leaked: ${text}`);
    }
  }
});

test('a token lacking the route’s scope is refused 403, naming the scope', async () => {
  for (const [key, row] of Object.entries(matrix)) {
    if (row.scope === 'any') continue;
    const scopes = allScopes.filter((scope) => scope !== row.scope);
    const narrow = await addUser(t.cp.context, { orgId: orgA.orgId, role: 'owner', scopes });
    const response = await call(key, row, narrow.token);
    assert.equal(response.status, 403, `${key} without ${row.scope}`);
    assert.match(response.body.message, new RegExp(`lacks the scope ${row.scope}`), key);
  }
});
