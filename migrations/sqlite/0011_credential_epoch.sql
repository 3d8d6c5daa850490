-- Credentials change (a new password, signing out everywhere, an account claimed by
-- the owner of its mailbox): each change moves the account's epoch. A session or API
-- token is made only under the epoch its sign-in was checked against, and a session
-- works only while its epoch is the account's: a sign-in with the old password that
-- was still running when the password changed gains nothing.
ALTER TABLE accounts ADD COLUMN credential_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_epoch INTEGER NOT NULL DEFAULT 0;
