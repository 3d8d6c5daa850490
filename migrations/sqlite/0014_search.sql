-- Text search over talent profiles. Japanese key words are often two characters
-- (農業, 広報), below what a trigram index can look up, so each profile is indexed as
-- character bigrams made by yui_domain::search (NFKC, lower case, katakana), stored as
-- space-separated tokens: FTS5's unicode61 tokenizer then sees each bigram as one token,
-- and a query word is a phrase of its bigrams in a row. The rowid is the account id.
-- The tokens are personal data: the row goes when the profile is erased.
CREATE VIRTUAL TABLE talent_search USING fts5 (tokens, tokenize = 'unicode61 remove_diacritics 0');

-- What the recommendation score reads (yui_match::recommend), kept as bit masks on the
-- rows and written in the same transaction as the lists they summarise: skills by
-- their index in the taxonomy, project kinds by theirs, tie prefectures by JIS number.
-- One row then carries everything a candidate is scored on.
ALTER TABLE talent_profiles ADD COLUMN skill_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE talent_profiles ADD COLUMN kind_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE talent_profiles ADD COLUMN tie_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN skill_mask INTEGER NOT NULL DEFAULT 0;
-- Projects by skill across regions: the candidates for a talent's recommendations.
CREATE INDEX project_skills_by_skill ON project_skills (skill, project_id);
