/** Every action the audit log knows. A new action is added here first. */
export const auditActions = [
  'org.bootstrap',
  'auth.failure',
  'access.denied',
  'token.create',
  'token.revoke',
  'runner.create',
  'runner.enroll',
  'runner.connect',
  'runner.disconnect',
  'runner.disable',
  'runner.enable',
  'runner.key.rotate',
  'environment.create',
  'environment.start',
  'environment.stop',
  'environment.delete',
  'environment.access',
  'environment.fail',
  'environment.exec',
  'environment.file.read',
  'environment.file.write',
  'environment.file.list',
  'environment.logs.read',
  'environment.process.start',
  'environment.process.signal',
  'environment.port.share',
  'session.start',
  'session.end',
  'ssh-key.add',
  'ssh-key.remove',
  'org.policy.update',
] as const;

export type AuditAction = (typeof auditActions)[number];

/** The actions a runner may report: what happens on its data plane, nothing else. */
export const runnerAuditActions = [
  'environment.exec',
  'environment.file.read',
  'environment.file.write',
  'environment.file.list',
  'environment.logs.read',
  'environment.process.start',
  'environment.process.signal',
  'session.start',
  'session.end',
  'access.denied',
] as const satisfies readonly AuditAction[];

export type RunnerAuditAction = (typeof runnerAuditActions)[number];
