-- Tenants: one row per prefecture, municipality or union, applied from tenants/<slug>/tenant.toml.
CREATE TABLE tenants (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('prefecture', 'municipality', 'union')),
    code           TEXT UNIQUE,
    parent_id      INTEGER REFERENCES tenants (id),
    name_ja        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    name_kana      TEXT NOT NULL,
    default_locale TEXT NOT NULL CHECK (default_locale IN ('ja', 'en')),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- the validated tenant file as JSON: branding, mail sender, templates, members
    spec           TEXT NOT NULL,
    logo_svg       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX tenants_parent_id ON tenants (parent_id);

-- A tenant's introduction on its landing page, per locale.
CREATE TABLE tenant_introductions (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    locale     TEXT NOT NULL CHECK (locale IN ('ja', 'en')),
    content    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, locale)
);
