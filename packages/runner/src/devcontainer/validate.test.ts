import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { parseDevcontainer } from './parse.js';

const path = '/repo/.devcontainer.json';

function parseFields(fields: string): unknown {
  return parseDevcontainer({ text: `{\n  ${fields}\n}`, path });
}

/** Asserts that one field (on line 2 of the wrapped text) is refused, named and placed. */
function assertFieldRefused(fields: string, field: string, what: RegExp): HangarError {
  let caught: unknown;
  try {
    parseFields(fields);
  } catch (error: unknown) {
    caught = error;
  }
  assert.ok(caught instanceof HangarError, `${fields} is refused`);
  assert.equal(caught.code, 'devcontainer_invalid');
  assert.equal(caught.details?.field, field, caught.message);
  assert.equal(caught.details?.path, path);
  assert.equal(caught.details?.line, 2);
  assert.equal(typeof caught.details?.column, 'number');
  assert.ok(caught.message.includes(`"${field}"`), caught.message);
  assert.ok(caught.message.includes(path), caught.message);
  assert.match(caught.message, what);
  assert.equal(caught.fields?.[0]?.field, field);
  return caught;
}

void test('a config using every checked field in its right type passes', () => {
  const text = JSON.stringify({
    name: 'n',
    image: 'debian',
    build: { dockerfile: 'D', context: '..', target: 't', args: { A: 'a' }, cacheFrom: ['c'] },
    dockerFile: 'D',
    context: '.',
    dockerComposeFile: ['a.yml'],
    service: 's',
    runServices: ['s'],
    workspaceFolder: '/w',
    workspaceMount: 'type=bind,source=/a,target=/w',
    initializeCommand: 'true',
    onCreateCommand: ['echo', 'hi'],
    updateContentCommand: { a: 'x', b: ['y'] },
    postCreateCommand: '',
    postStartCommand: [],
    postAttachCommand: {},
    waitFor: 'postCreateCommand',
    containerEnv: { A: 'a' },
    remoteEnv: { B: 'b', UNSET: null },
    remoteUser: 'dev',
    containerUser: 'dev',
    forwardPorts: [0, 3000, 65535, 'db:5432'],
    appPort: [8080, '8124:8123'],
    portsAttributes: { '3000': { label: 'web', onAutoForward: 'notify', requireLocalPort: true } },
    otherPortsAttributes: { onAutoForward: 'silent' },
    features: { 'ghcr.io/x/y:1': {}, 'git-lfs': 'latest', z: true },
    overrideFeatureInstallOrder: ['ghcr.io/x/y'],
    mounts: ['source=a,target=/b,type=volume', { type: 'bind', source: '/s', target: '/t' }],
    runArgs: ['--init'],
    privileged: false,
    init: true,
    capAdd: ['SYS_PTRACE'],
    securityOpt: ['seccomp=unconfined'],
    overrideCommand: true,
    shutdownAction: 'none',
    userEnvProbe: 'loginInteractiveShell',
    hostRequirements: { cpus: 4, memory: '8gb', storage: '32gb', gpu: 'optional' },
    customizations: { vscode: {} },
    somethingUnknown: { kept: [1, 2] },
  });

  const config = parseDevcontainer({ text, path });

  assert.deepStrictEqual(config.somethingUnknown, { kept: [1, 2] });
  assert.deepStrictEqual(config.remoteEnv, { B: 'b', UNSET: null });
});

void test('lifecycle commands of the wrong shape are refused, naming the hook', () => {
  assertFieldRefused('"postCreateCommand": 42', 'postCreateCommand', /string, an array.*object/);
  assertFieldRefused(
    '"onCreateCommand": ["echo", 1]',
    'onCreateCommand[1]',
    /a string, not a number/,
  );
  assertFieldRefused('"postStartCommand": { "a": { "b": "c" } }', 'postStartCommand.a', /array/);
  assertFieldRefused(
    '"postAttachCommand": { "x y": [true] }',
    'postAttachCommand["x y"][0]',
    /string/,
  );
  assertFieldRefused('"initializeCommand": null', 'initializeCommand', /not null/);
  assertFieldRefused('"waitFor": "postBuild"', 'waitFor', /one of .*"postCreateCommand"/);
});

void test('containerEnv and remoteEnv must be objects of strings', () => {
  assertFieldRefused('"containerEnv": { "A": 1 }', 'containerEnv.A', /a string, not a number/);
  assertFieldRefused('"containerEnv": ["A=1"]', 'containerEnv', /an object, not an array/);
  assertFieldRefused('"containerEnv": { "A": null }', 'containerEnv.A', /a string, not null/);
  assertFieldRefused('"remoteEnv": { "PATH": false }', 'remoteEnv.PATH', /a string or null/);
});

void test('forwardPorts takes port numbers and "host:port" strings only', () => {
  assertFieldRefused('"forwardPorts": [3000, true]', 'forwardPorts[1]', /port number.*boolean/);
  assertFieldRefused('"forwardPorts": ["nope"]', 'forwardPorts[0]', /"host:port".*"nope"/);
  assertFieldRefused('"forwardPorts": [70000]', 'forwardPorts[0]', /0-65535, not 70000/);
  assertFieldRefused('"forwardPorts": [1.5]', 'forwardPorts[0]', /whole number/);
  assertFieldRefused('"forwardPorts": [-1]', 'forwardPorts[0]', /0-65535/);
  assertFieldRefused('"forwardPorts": ["db:99999"]', 'forwardPorts[0]', /"host:port"/);
  assertFieldRefused('"forwardPorts": 3000', 'forwardPorts', /an array, not a number/);
  assertFieldRefused('"appPort": [true]', 'appPort[0]', /port/);
});

void test('users, folders and images must be strings', () => {
  assertFieldRefused('"remoteUser": 1000', 'remoteUser', /a string, not a number/);
  assertFieldRefused('"containerUser": ["dev"]', 'containerUser', /a string, not an array/);
  assertFieldRefused('"workspaceFolder": {}', 'workspaceFolder', /a string, not an object/);
  assertFieldRefused('"workspaceMount": false', 'workspaceMount', /a string/);
  assertFieldRefused('"image": null', 'image', /a string, not null/);
  assertFieldRefused('"service": 1', 'service', /a string/);
});

void test('build, compose and feature fields are checked', () => {
  assertFieldRefused('"build": "Dockerfile"', 'build', /an object/);
  assertFieldRefused('"build": { "args": { "V": 16 } }', 'build.args.V', /a string, not a number/);
  assertFieldRefused('"build": { "cacheFrom": [1] }', 'build.cacheFrom[0]', /a string/);
  assertFieldRefused('"dockerComposeFile": 1', 'dockerComposeFile', /string or an array/);
  assertFieldRefused('"runServices": "db"', 'runServices', /an array/);
  assertFieldRefused('"features": { "x": 1 }', 'features.x', /object of options/);
  assertFieldRefused(
    '"overrideFeatureInstallOrder": [1]',
    'overrideFeatureInstallOrder[0]',
    /a string/,
  );
});

void test('mounts, run arguments and flags are checked', () => {
  assertFieldRefused('"mounts": [1]', 'mounts[0]', /mount string or a mount object/);
  assertFieldRefused('"mounts": [{ "type": "bind" }]', 'mounts[0]', /"target" field/);
  assertFieldRefused('"mounts": [{ "type": "tmpfs", "target": "/t" }]', 'mounts[0].type', /"bind"/);
  assertFieldRefused('"runArgs": "--init"', 'runArgs', /an array/);
  assertFieldRefused('"capAdd": [1]', 'capAdd[0]', /a string/);
  assertFieldRefused('"privileged": "yes"', 'privileged', /true or false/);
  assertFieldRefused('"overrideCommand": 0', 'overrideCommand', /true or false/);
  assertFieldRefused('"shutdownAction": "kill"', 'shutdownAction', /one of/);
  assertFieldRefused('"hostRequirements": { "cpus": 0 }', 'hostRequirements.cpus', /1 or more/);
  assertFieldRefused('"hostRequirements": { "gpu": "yes" }', 'hostRequirements.gpu', /optional/);
  assertFieldRefused(
    '"portsAttributes": { "80": { "label": 1 } }',
    'portsAttributes["80"].label',
    /a string/,
  );
  assertFieldRefused('"customizations": []', 'customizations', /an object/);
});

void test('every problem is listed, the first in the file named in the message', () => {
  const error = assertFieldRefused(
    '"remoteUser": 1, "containerEnv": { "A": 1 }, "forwardPorts": [true]',
    'remoteUser',
    /and 2 more: containerEnv\.A, forwardPorts\[0\]/,
  );

  assert.deepStrictEqual(
    error.fields?.map((problem) => problem.field),
    ['remoteUser', 'containerEnv.A', 'forwardPorts[0]'],
  );
  assert.equal(error.details?.column, 17);
});

void test('for a repeated key the last value is the one checked', () => {
  assert.doesNotThrow(() => parseFields('"remoteUser": 1, "remoteUser": "dev"'));
  assertFieldRefused('"remoteUser": "dev", "remoteUser": 1', 'remoteUser', /a string/);
});

void test('a field name that is also an Object method is checked as data', () => {
  assert.doesNotThrow(() => parseFields('"toString": 1, "build": { "constructor": 2 }'));
});
