//! The product's features, each owning its routes, handlers and templates.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod case_studies;
pub mod certificates;
pub mod engagements;
pub mod events;
pub mod hearings;
pub mod hosts;
pub mod newsletters;
pub mod ops;
pub mod projects;
pub mod public;
pub mod recommend;
pub mod rounds;
pub mod scouts;
pub mod staff;
pub mod talent;
pub mod tokens;
// Key figures (issue 13).
pub mod kpis;
// A new region's setup checklist; prefectures onboarding municipalities (issue 14).
pub mod setup;
// Tenant settings pages (issue 14).
pub mod settings;

use axum::Router;

use crate::AppState;

/// Every feature's templates, registered by [`crate::render::templates`].
pub(crate) const TEMPLATES: &[&[(&str, &str)]] = &[
    accounts::TEMPLATES,
    applications::TEMPLATES,
    audit::TEMPLATES,
    events::TEMPLATES,
    hearings::TEMPLATES,
    hosts::TEMPLATES,
    ops::TEMPLATES,
    projects::TEMPLATES,
    public::TEMPLATES,
    recommend::TEMPLATES,
    rounds::TEMPLATES,
    rounds::manage::TEMPLATES,
    rounds::participate::TEMPLATES,
    scouts::TEMPLATES,
    staff::TEMPLATES,
    talent::TEMPLATES,
    tokens::TEMPLATES,
    newsletters::TEMPLATES,
    engagements::TEMPLATES,
    kpis::TEMPLATES,
    certificates::TEMPLATES,
    case_studies::TEMPLATES,
    setup::TEMPLATES,
    settings::TEMPLATES,
];

/// Every feature's pages.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(public::router())
        .merge(recommend::router())
        .merge(accounts::router())
        .merge(staff::router())
        .merge(audit::router())
        .merge(talent::router())
        .merge(tokens::router())
        .merge(ops::router())
        .merge(hosts::router())
        .merge(projects::router())
        .merge(applications::router())
        .merge(hearings::router())
        .merge(scouts::router())
        .merge(events::router())
        .merge(rounds::router())
        .merge(newsletters::router())
        .merge(engagements::router())
        .merge(kpis::router())
        .merge(certificates::router())
        .merge(case_studies::router())
        .merge(setup::router())
        .merge(settings::router())
}
