import assert from 'node:assert/strict';
import { test } from 'node:test';
import { egressPolicyProblems, egressRuleFor } from './egress-policy.js';

test('the class rule wins, then the default, then none', () => {
  const policy = {
    default: { mode: 'open' as const },
    classes: { small: { mode: 'none' as const } },
  };
  assert.deepEqual(egressRuleFor(policy, 'small'), { mode: 'none' });
  assert.deepEqual(egressRuleFor(policy, 'large'), { mode: 'open' });
  assert.equal(egressRuleFor({ classes: policy.classes }, 'large'), undefined);
  assert.equal(egressRuleFor(undefined, 'small'), undefined);
  assert.deepEqual(egressRuleFor(policy, 'constructor'), { mode: 'open' });
});

test('good rules have no problems; each bad part is named', () => {
  assert.deepEqual(
    egressPolicyProblems({
      default: {
        mode: 'allowlist',
        allow: [{ host: '*.example.test' }, { host: '127.0.0.1', ports: [8080] }, { host: '::1' }],
        allowPrivate: ['127.0.0.0/8', '::1/128', '10.0.0.5'],
      },
    }),
    [],
  );
  const problems = egressPolicyProblems({
    classes: {
      small: {
        mode: 'none',
        allow: [{ host: 'x.test' }],
        allowPrivate: ['10.0.0.0/40'],
      },
    },
    agents: { mode: 'allowlist', allow: [{ host: '*.10.0.0.1' }, { host: 'host.123' }] },
  });
  assert.deepEqual(problems, [
    {
      field: 'egress.classes.small.allow',
      message:
        'is read only in mode allowlist (this rule is mode none); remove it or change the mode',
    },
    {
      field: 'egress.classes.small.allowPrivate[0]',
      message: '"10.0.0.0/40" has a prefix outside 0..32',
    },
    { field: 'egress.agents.allow[0].host', message: 'an IP address cannot take a wildcard' },
    {
      field: 'egress.agents.allow[1].host',
      message:
        'is neither an IP address nor a DNS name (letters, digits, - and _, not ending in a number)',
    },
  ]);
});
