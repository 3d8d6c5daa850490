-- Throttling that holds under a burst and backs off instead of locking out (replaces
-- signin_throttle). One row per key: an account and an address together, an address,
-- an account, a known device, or a mail limit. An attempt is counted before anything
-- is checked, by one INSERT … ON CONFLICT DO UPDATE … WHERE next_ms <= now RETURNING,
-- so parallel requests cannot all slip under the limit. Times are epoch milliseconds
-- (BIGINT) so the arithmetic is the same on both backends.
DROP TABLE signin_throttle;
CREATE TABLE signin_attempts (
    key      TEXT PRIMARY KEY,
    -- Attempts since the key was last quiet.
    attempts BIGINT NOT NULL,
    -- The wait the last attempt imposed (0 while attempts are free); it doubles.
    delay_ms BIGINT NOT NULL,
    -- No attempt is accepted before this time.
    next_ms  BIGINT NOT NULL,
    last_ms  BIGINT NOT NULL
);
-- Pruning forgets keys that have been quiet a long time.
CREATE INDEX signin_attempts_last_ms ON signin_attempts (last_ms);

-- Browsers that signed in to an account before (the cookie holds a random id; only its
-- SHA-256 is stored). Such a device is throttled on its own, not with its address, so
-- its owner keeps working while strangers on the same address are held back.
CREATE TABLE known_devices (
    id_hash    TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (id_hash, account_id)
);
CREATE INDEX known_devices_account_id ON known_devices (account_id);
