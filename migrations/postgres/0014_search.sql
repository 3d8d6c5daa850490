-- Text search over talent profiles. Japanese key words are often two characters
-- (農業, 広報), below what pg_trgm can look up, so each profile is indexed as the set of
-- its character bigrams made by yui_domain::search (NFKC, lower case, katakana) in a
-- GIN-indexed array: a query word's bigrams are looked up by containment (@>) and the
-- folded text confirms they stand in a row. Person-level, like the profile: no tenant.
-- Both columns are personal data: the row goes when the profile is erased.
CREATE TABLE talent_search (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    tokens     TEXT[] NOT NULL,
    folded     TEXT NOT NULL
);
CREATE INDEX talent_search_tokens ON talent_search USING GIN (tokens);

-- What the recommendation score reads (yui_match::recommend), kept as bit masks on the
-- rows and written in the same transaction as the lists they summarise: skills by
-- their index in the taxonomy, project kinds by theirs, tie prefectures by JIS number.
-- One row then carries everything a candidate is scored on.
ALTER TABLE talent_profiles ADD COLUMN skill_mask BIGINT NOT NULL DEFAULT 0;
ALTER TABLE talent_profiles ADD COLUMN kind_mask BIGINT NOT NULL DEFAULT 0;
ALTER TABLE talent_profiles ADD COLUMN tie_mask BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN skill_mask BIGINT NOT NULL DEFAULT 0;
-- Projects by skill across regions: the candidates for a talent's recommendations.
CREATE INDEX project_skills_by_skill ON project_skills (skill, project_id);
