-- Text search over projects, across regions, built like talent_search (0014): each
-- project's title, challenge, help wanted, location, host name and skill names as the
-- set of its character bigrams (yui_domain::search) in a GIN-indexed array, with the
-- folded text for the substring recheck. Every project is indexed whatever its status;
-- who may see it is decided by the query's join to projects, hosts and tenants.
--
-- No tenant column and no row security here, on purpose: under a policy PostgreSQL
-- may use an index only for leakproof operators, and array containment (@>) is not
-- one, so the GIN index would never be used. Every query reaches these rows through
-- a join to projects, whose policy applies.
CREATE TABLE project_search (
    project_id BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    tokens     TEXT[] NOT NULL,
    folded     TEXT NOT NULL
);
CREATE INDEX project_search_tokens ON project_search USING GIN (tokens);
