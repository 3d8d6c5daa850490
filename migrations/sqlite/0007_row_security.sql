-- SQLite has no row-level security. Its single node relies on the first wall alone:
-- every query filters by tenant id. (Same file name as the PostgreSQL migration.)
SELECT 1;
