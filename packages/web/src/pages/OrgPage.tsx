import { MembersSection } from './org/MembersSection.js';
import { PolicySection } from './org/PolicySection.js';
import { SecretsSection } from './org/SecretsSection.js';

/**
 * The organization page: members and roles, policies, secrets. Each section shows what the
 * signed-in user may see; what a role may do is the API's decision, and a refusal is shown in
 * its words.
 */
export function OrgPage() {
  return (
    <>
      <h1>Organization</h1>
      <nav aria-label="Sections of this page">
        <ul className="sections">
          <li>
            <a href="#members">Members</a>
          </li>
          <li>
            <a href="#policy">Policies</a>
          </li>
          <li>
            <a href="#secrets">Secrets</a>
          </li>
        </ul>
      </nav>
      <MembersSection />
      <PolicySection />
      <SecretsSection />
    </>
  );
}
