/**
 * Versioned schema migrations, applied in order at start-up, each in its own transaction, by
 * both backends. A migration is never edited once released; a change is a new migration.
 * Only types both SQLite and PostgreSQL accept the same way are used: TEXT, INTEGER, BIGINT.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'core',
    statements: [
      `CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        external_key TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        org_id TEXT NOT NULL REFERENCES orgs(id),
        secret_hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        last_used_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE runners (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        public_key TEXT,
        gateway_url TEXT,
        classes TEXT NOT NULL,
        connected INTEGER NOT NULL,
        last_seen_at BIGINT,
        audit_acked_seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
      )`,
      `CREATE TABLE enrollment_tokens (
        id TEXT PRIMARY KEY,
        runner_id TEXT NOT NULL REFERENCES runners(id),
        secret_hash TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        owner_id TEXT NOT NULL REFERENCES users(id),
        runner_id TEXT NOT NULL REFERENCES runners(id),
        name TEXT NOT NULL,
        active_name TEXT,
        generation BIGINT NOT NULL,
        spec TEXT NOT NULL,
        desired_phase TEXT NOT NULL,
        phase TEXT NOT NULL,
        status TEXT NOT NULL,
        status_version BIGINT NOT NULL,
        operation_started_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (org_id, active_name)
      )`,
      `CREATE INDEX environments_runner ON environments (runner_id)`,
      `CREATE TABLE audit_records (
        org_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        time TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        actor TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        target_id TEXT,
        outcome TEXT NOT NULL,
        request_id TEXT NOT NULL,
        source_address TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (org_id, seq)
      )`,
      `CREATE INDEX audit_records_action ON audit_records (org_id, action, seq)`,
      `CREATE INDEX audit_records_actor ON audit_records (org_id, actor_id, seq)`,
      `CREATE INDEX audit_records_target ON audit_records (org_id, target_id, seq)`,
      `CREATE TABLE audit_heads (
        org_id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
      )`,
      `CREATE TABLE audit_checkpoints (
        org_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL,
        time TEXT NOT NULL,
        signature TEXT NOT NULL,
        PRIMARY KEY (org_id, seq)
      )`,
    ],
  },
  {
    version: 2,
    name: 'data-plane',
    statements: [
      `CREATE TABLE ssh_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        name TEXT,
        key_type TEXT NOT NULL,
        bits INTEGER NOT NULL,
        public_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, fingerprint)
      )`,
      `CREATE INDEX ssh_keys_user ON ssh_keys (user_id)`,
      `CREATE TABLE port_shares (
        environment_id TEXT NOT NULL REFERENCES environments(id),
        port INTEGER NOT NULL,
        level TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (environment_id, port)
      )`,
      `CREATE TABLE org_policies (
        org_id TEXT PRIMARY KEY REFERENCES orgs(id),
        max_port_share_level TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `ALTER TABLE runners ADD COLUMN ssh_address TEXT`,
      `ALTER TABLE runners ADD COLUMN ssh_host_keys TEXT`,
      `ALTER TABLE environments ADD COLUMN last_active_at BIGINT`,
    ],
  },
  {
    version: 3,
    name: 'runner-trust',
    statements: [
      `ALTER TABLE runners ADD COLUMN disabled_at BIGINT`,
      `ALTER TABLE runners ADD COLUMN key_rotation_requested_at BIGINT`,
    ],
  },
  {
    version: 4,
    name: 'identity-policy-secrets',
    statements: [
      // Sign-in: one OpenID Connect provider per organization; the client secret is sealed with
      // the control plane's data key (never stored in clear).
      `CREATE TABLE oidc_configs (
        org_id TEXT PRIMARY KEY REFERENCES orgs(id),
        issuer TEXT NOT NULL,
        client_id TEXT NOT NULL,
        client_secret_sealed TEXT,
        allowed_domains TEXT NOT NULL,
        required_claim TEXT,
        store_profile INTEGER NOT NULL,
        default_role TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      // A sign-in in progress (browser or device flow); secrets in it are stored as hashes or
      // sealed, and a row is useless after expires_at.
      `CREATE TABLE oidc_logins (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        flow TEXT NOT NULL,
        state_hash TEXT,
        sealed TEXT NOT NULL,
        handoff_hash TEXT,
        user_id TEXT,
        outcome TEXT,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX oidc_logins_state ON oidc_logins (state_hash)`,
      // Users: name and e-mail only when the organization stores profiles; removal keeps the
      // row (audit records name it) and refuses every credential of the user.
      `ALTER TABLE users ADD COLUMN profile TEXT`,
      `ALTER TABLE users ADD COLUMN removed_at BIGINT`,
      // Tokens: 'token' (personal access token) or 'session' (from a sign-in); parent_id is the
      // token that created this one, so a revoke reaches the tokens made with it.
      `ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'token'`,
      `ALTER TABLE api_tokens ADD COLUMN parent_id TEXT`,
      `CREATE INDEX api_tokens_parent ON api_tokens (parent_id)`,
      // The policies beyond port sharing, as one JSON document validated by OrgRulesSchema.
      `ALTER TABLE org_policies ADD COLUMN rules TEXT`,
      // Runners publish an X25519 key that secrets are sealed to.
      `ALTER TABLE runners ADD COLUMN encryption_key TEXT`,
      // The Ed25519 keys users sign sealed secrets with.
      `CREATE TABLE user_signing_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        public_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT,
        UNIQUE (org_id, fingerprint)
      )`,
      `CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        scope TEXT NOT NULL,
        scope_id TEXT NOT NULL,
        name TEXT NOT NULL,
        delivery TEXT NOT NULL,
        target TEXT NOT NULL,
        version BIGINT NOT NULL,
        author_id TEXT NOT NULL REFERENCES users(id),
        signing_key_id TEXT NOT NULL REFERENCES user_signing_keys(id),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (org_id, scope, scope_id, name)
      )`,
      `CREATE TABLE secret_ciphertexts (
        secret_id TEXT NOT NULL REFERENCES secrets(id),
        runner_id TEXT NOT NULL REFERENCES runners(id),
        version BIGINT NOT NULL,
        envelope TEXT NOT NULL,
        PRIMARY KEY (secret_id, runner_id)
      )`,
    ],
  },
  {
    version: 5,
    name: 'agent-tasks',
    statements: [
      // The record of an agent task: who, where, which model, its state and counts, and the
      // SHA-256 of its prompt and summary. Neither the prompt nor the transcript is stored here.
      `CREATE TABLE agent_tasks (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        owner_id TEXT NOT NULL REFERENCES users(id),
        environment_id TEXT NOT NULL REFERENCES environments(id),
        runner_id TEXT NOT NULL REFERENCES runners(id),
        kind TEXT NOT NULL,
        desired TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        spec TEXT NOT NULL,
        prompt_sha256 TEXT NOT NULL,
        summary_sha256 TEXT,
        steps BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        ended_at BIGINT
      )`,
      `CREATE INDEX agent_tasks_org ON agent_tasks (org_id, created_at)`,
      `CREATE INDEX agent_tasks_runner ON agent_tasks (runner_id, state)`,
    ],
  },
  {
    version: 6,
    name: 'secret-tombstones',
    statements: [
      // A deleted secret stays as a tombstone (no ciphertexts, never listed or delivered), so
      // one set again under its name continues from its highest version: an envelope of an
      // older version cannot be stored again.
      `ALTER TABLE secrets ADD COLUMN deleted_at BIGINT`,
      // Users are keyed per organization (oidc:<org id>:<issuer>#<subject>), so one person can
      // be a member of several and no organization finds or blocks another's users.
      `UPDATE users SET external_key = 'oidc:' || org_id || ':' || substr(external_key, 6)
       WHERE external_key LIKE 'oidc:%'`,
      // Token exchange is off unless the organization turns it on.
      `ALTER TABLE oidc_configs ADD COLUMN token_exchange INTEGER NOT NULL DEFAULT 0`,
      // The ID tokens already traded for a session (SHA-256 of issuer and jti, or of the whole
      // token without jti), kept until they expire, so each is accepted once.
      `CREATE TABLE oidc_used_id_tokens (
        hash TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        expires_at BIGINT NOT NULL
      )`,
      `CREATE INDEX oidc_used_id_tokens_expiry ON oidc_used_id_tokens (expires_at)`,
    ],
  },
];
