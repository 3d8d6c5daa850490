-- Text search over projects, across regions, built like talent_search (0014): each
-- project's title, challenge, help wanted, location, host name and skill names as
-- character bigrams (yui_domain::search), so a two-character word such as 観光 is one
-- FTS5 phrase lookup. The rowid is the project id (ids are unique across tenants).
-- Every project is indexed whatever its status; who may see it is decided by the
-- query's join to projects, hosts and tenants.
CREATE VIRTUAL TABLE project_search USING fts5 (tokens, tokenize = 'unicode61 remove_diacritics 0');
