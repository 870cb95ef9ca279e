import type { ChangedRunnerKey, CheckedRecipient } from '../../secrets/runner-pins.js';
import type { SetSecretOutcome } from '../../secrets/set-secret.js';
import { ErrorNote } from '../common.js';
import { deliveryText, scopeName } from './secret-text.js';

const stateText: Record<CheckedRecipient['state'], string> = {
  pinned: 'the key this browser sealed to before',
  new: 'first seal to this runner from this browser: pinned now',
  accepted: 'new key accepted: pinned now',
};

/** What a set did: the secret stored, and the runner keys its value was sealed to. */
export function SealOutcome({ outcome }: { outcome: SetSecretOutcome }) {
  if (outcome.kind === 'refused') {
    return <ErrorNote>The secret was not set: {outcome.message}</ErrorNote>;
  }
  if (outcome.kind === 'key-changed') return <ChangedKeys changed={outcome.changed} />;
  const { secret, sealedTo, signingKey } = outcome;
  return (
    <div role="status" className="sealed">
      <p>
        Set {scopeName(secret)} secret <code>{secret.name}</code> version {secret.version} (
        {deliveryText[secret.delivery]} <code>{secret.target}</code>). The value was sealed in this
        browser to these runner keys; compare them with each runner&apos;s log (&quot;secrets are
        sealed to this encryption key&quot;):
      </p>
      <ul>
        {sealedTo.map((item) => (
          <li key={item.runnerId} data-runner={item.runnerId}>
            runner {item.name} (<code>{item.runnerId}</code>) key{' '}
            <code className="fingerprint">{item.fingerprint}</code>: {stateText[item.state]}
          </li>
        ))}
      </ul>
      <p>
        Signed with your key <code className="fingerprint">{signingKey.fingerprint}</code>
        {signingKey.registered
          ? ', made and registered now; this browser keeps it and cannot export it.'
          : '.'}
      </p>
    </div>
  );
}

function ChangedKeys({ changed }: { changed: ChangedRunnerKey[] }) {
  return (
    <div className="error" role="alert">
      <p>
        Nothing was sealed: a runner&apos;s encryption key is not the one this browser sealed to
        before. A control plane that swapped a runner&apos;s key could read what is sealed to it.
      </p>
      <ul>
        {changed.map((item) => (
          <li key={item.runnerId}>
            runner {item.name} (<code>{item.runnerId}</code>) now has key{' '}
            <code className="fingerprint">{item.offered}</code>; this browser pinned{' '}
            <code className="fingerprint">{item.pinned.fingerprint}</code> on {item.pinned.pinnedAt}
            .
          </li>
        ))}
      </ul>
      <p>
        Compare the new key with the one the runner printed in its own log when it started
        (&quot;secrets are sealed to this encryption key&quot;), not only with what the control
        plane shows. If they match, tick the runner below and set the secret again.
      </p>
    </div>
  );
}
