import type { Environment } from '../client.js';

/** A failure's reason code, the step it happened in and the exit code, in one line. */
export function FailureSummary({
  failure,
}: {
  failure: NonNullable<Environment['status']['failure']>;
}) {
  return (
    <>
      <code>{failure.reason}</code>
      {failure.step ? ` in step ${failure.step}` : ''}
      {failure.exitCode !== undefined ? ` (exit code ${failure.exitCode})` : ''}
    </>
  );
}
