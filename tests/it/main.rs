//! Yui's end-to-end tests: one test binary, the real application, real databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod support;

mod accounts;
mod api;
mod applications;
mod browser;
mod case_studies;
mod certificates;
mod demo_events;
mod demo_rounds;
mod edges;
mod engagements;
mod events_api;
mod events_public;
mod events_staff;
mod form_pages;
mod hearings;
mod hosts;
mod invitations;
mod match_cli;
mod newsletters;
mod ops;
mod pages;
mod projects;
mod recommend;
mod rounds_api;
mod rounds_manage;
mod rounds_pages;
mod scouts;
mod serve_cli;
mod staff;
mod talent;
mod tenant_files;
mod throttle;
mod tokens;
// Key figures (issue 13).
mod kpis;
// The demo after matching (issue 13).
mod demo_after;
// The fiscal-year report (issue 13, item 7).
mod kpi_report;
// Onboarding regions, the setup checklist, the operator overview (issue 14).
mod onboarding;
// A region leaving the platform: export and deletion (issue 14).
mod leaving;
// Tenant settings in pages and tenant files round trip (issue 14, item 3).
mod tenant_settings;
// Backups and restores under load (issue 14, item 5).
mod backup;
// /metrics for Prometheus (issue 14, item 5).
mod metrics;
