import {
  hostPatternProblem,
  parseCidr,
  type EgressPolicy,
  type EgressRule,
  type FieldError,
} from '@hangar/api';

/**
 * The egress rule of an environment of class `className`: the policy's rule for that class,
 * else its default, else none (absent, which the runner reads as mode `none`).
 */
export function egressRuleFor(
  policy: EgressPolicy | undefined,
  className: string,
): EgressRule | undefined {
  const classes: Record<string, EgressRule> = policy?.classes ?? {};
  return Object.hasOwn(classes, className) ? classes[className] : policy?.default;
}

function ruleProblems(rule: EgressRule, path: string): FieldError[] {
  const problems: FieldError[] = [];
  if (rule.mode !== 'allowlist' && rule.allow?.length) {
    problems.push({
      field: `${path}.allow`,
      message: `is read only in mode allowlist (this rule is mode ${rule.mode}); remove it or change the mode`,
    });
  }
  (rule.allow ?? []).forEach((entry, index) => {
    const problem = hostPatternProblem(entry.host);
    if (problem) problems.push({ field: `${path}.allow[${index}].host`, message: problem });
    const ports = entry.ports ?? [];
    const repeated = ports.find((port, at) => ports.indexOf(port) !== at);
    if (repeated !== undefined) {
      problems.push({
        field: `${path}.allow[${index}].ports`,
        message: `lists port ${repeated} twice`,
      });
    }
  });
  (rule.allowPrivate ?? []).forEach((text, index) => {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') {
      problems.push({ field: `${path}.allowPrivate[${index}]`, message: cidr });
    }
  });
  return problems;
}

/**
 * Problems of an egress policy that its schema cannot see: host patterns that can match nothing,
 * CIDR blocks that do not parse (or have host bits set), ports listed twice, allow-lists on rules
 * that never read them. Fields are named from the body: `egress.classes.small.allowPrivate[0]`.
 */
export function egressPolicyProblems(policy: EgressPolicy): FieldError[] {
  const problems: FieldError[] = [];
  if (policy.default) problems.push(...ruleProblems(policy.default, 'egress.default'));
  for (const [name, rule] of Object.entries(policy.classes ?? {})) {
    problems.push(...ruleProblems(rule, `egress.classes.${name}`));
  }
  if (policy.agents) problems.push(...ruleProblems(policy.agents, 'egress.agents'));
  return problems;
}
