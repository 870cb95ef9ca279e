import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EgressPolicy, OrgPolicy } from '@hangar/api';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-egress-');
const run = fixture.run;

const egress: EgressPolicy = {
  default: { mode: 'none' },
  classes: {
    small: {
      mode: 'allowlist',
      allow: [{ host: 'registry.example.test' }, { host: '*.pkg.example.test', ports: [8443] }],
      allowPrivate: ['10.20.0.0/16'],
    },
    large: { mode: 'open' },
  },
};

function egressLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('egress '));
}

describe('org policy set --egress-file and get against a real control plane', () => {
  it('sets the policy from a file, shows each rule, and clears it', async () => {
    const file = join(fixture.scratch, 'egress.json');
    await writeFile(file, JSON.stringify(egress));
    const set = await run(['org', 'policy', 'set', '--egress-file', 'egress.json']);
    assert.equal(set.code, 0, set.stderr);
    const stored = await fixture.api.get<OrgPolicy>('/v1/org/policy');
    assert.deepEqual(stored.egress, egress);
    const shown = await run(['org', 'policy', 'get']);
    assert.deepEqual(egressLines(shown.stdout), [
      'egress default:       none',
      'egress class small:   allowlist registry.example.test:443,80 *.pkg.example.test:8443; ' +
        'private 10.20.0.0/16',
      'egress class large:   open',
      "egress agents:        none set: the environment's rule",
    ]);
    const cleared = await run(['org', 'policy', 'set', '--clear', 'egress-file']);
    assert.equal(cleared.code, 0, cleared.stderr);
    const after = await run(['org', 'policy', 'get']);
    assert.deepEqual(egressLines(after.stdout), [
      'egress default:       none',
      "egress agents:        none set: the environment's rule",
    ]);
  });

  it('refuses a file that is not a JSON object, before asking the control plane', async () => {
    await writeFile(join(fixture.scratch, 'list.json'), '[]');
    await writeFile(join(fixture.scratch, 'broken.json'), '{"default":');
    for (const name of ['list.json', 'broken.json', 'missing.json']) {
      const result = await run(['org', 'policy', 'set', '--egress-file', name]);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /--egress-file (must hold|is not JSON|cannot be read)/);
    }
  });

  it('names the flag when the control plane refuses a rule', async () => {
    const bad = { classes: { small: { mode: 'open', allowPrivate: ['10.0.0.1/8'] } } };
    await writeFile(join(fixture.scratch, 'bad.json'), JSON.stringify(bad));
    const result = await run(['org', 'policy', 'set', '--egress-file', 'bad.json']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /egress\.classes\.small\.allowPrivate\[0\]/);
    assert.match(result.stderr, /set by --egress-file/);
  });
});
