-- Accounts: one per person across all tenants. Email is unique without regard to case.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL,
    email_lower    TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,
    email_verified_at TEXT,
    locale         TEXT NOT NULL DEFAULT 'ja' CHECK (locale IN ('ja', 'en')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- Sign-in sessions, stored so any app node can serve any request. The cookie holds a
-- random id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account_id ON sessions (account_id);

-- One-time tokens sent by mail: email verification, password reset, magic-link sign-in.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'magic_link')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_tokens_account_id ON account_tokens (account_id);

-- Sign-in throttling, shared by all nodes: failures per key (account or IP) in a window.
CREATE TABLE signin_throttle (
    key          TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL
);
