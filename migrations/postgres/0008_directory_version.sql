-- The directory of tenants changes rarely and is read on every public page: a
-- counter, bumped in the same transaction as every change to a tenant's row, lets
-- each node keep the list in memory and know with one key lookup whether it is
-- still current.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
