import { startCommandOf, type CreatedRunner } from '../runners.js';
import { Time } from './common.js';
import { useFocusOnMount } from './focus.js';

export interface EnrollmentNoticeProps {
  created: CreatedRunner;
  /** Where the new runner dials: this control plane's address. */
  controlPlaneUrl: string;
  onDismiss: () => void;
}

/**
 * A new runner's enrollment token and the command that starts it, shown once: the page keeps the
 * token only until this is dismissed or the page is left, and the control plane cannot show it
 * again (it stores only a hash).
 */
export function EnrollmentNotice({ created, controlPlaneUrl, onDismiss }: EnrollmentNoticeProps) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const { runner } = created;
  return (
    <section className="enrollment" aria-labelledby="enrollment-title">
      <h2 id="enrollment-title" ref={heading} tabIndex={-1}>
        Runner {runner.name} created
      </h2>
      <p>
        Runner {runner.name} (<code>{runner.id}</code>) created. Enrollment token (shown once;
        single use; expires <Time at={created.enrollmentExpiresAt} />
        ):
      </p>
      <pre className="secret" data-enrollment-token="">
        <code>{created.enrollmentToken}</code>
      </pre>
      <p>
        The control plane keeps only its hash and cannot show it again; if it is lost, create
        another runner.
      </p>
      <p>Start the runner with (as root, on the machine that will hold the environments):</p>
      <pre className="command">
        <code>{startCommandOf(controlPlaneUrl, created)}</code>
      </pre>
      <p>
        On a machine that already runs a runner, give it its own <code>--data-dir</code> and{' '}
        <code>--gateway-port</code> (0 picks a free one); clients must reach its gateway: see{' '}
        <code>--gateway-host</code> and <code>--gateway-url</code>.
      </p>
      <button type="button" onClick={onDismiss}>
        I have copied it: hide the token
      </button>
    </section>
  );
}
