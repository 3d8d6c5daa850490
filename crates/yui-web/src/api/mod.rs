//! The JSON API under `/api/v1`, the health probes, and the OpenAPI document that
//! describes them, generated from these handlers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use yui_domain::TenantStatus;

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Yui API",
        description = "Regional side-job programs on one platform."
    ),
    paths(
        healthz,
        readyz,
        list_tenants,
        crate::features::staff::api::staff,
        crate::features::talent::api::talents,
        crate::features::hosts::api::list,
        crate::features::hosts::api::create,
        crate::features::projects::api::public_list,
        crate::features::projects::api::staff_list,
        crate::features::projects::api::create,
        crate::features::events::api::list,
        crate::features::events::api::create,
        crate::features::events::api::register,
        crate::features::events::api::cancel,
        crate::features::rounds::api::facts,
        crate::features::rounds::api::result,
        crate::features::kpis::api::kpis,
        crate::features::certificates::api::by_code,
        crate::features::certificates::api::verify,
        crate::features::certificates::api::keys
    ),
    components(schemas(
        Health,
        TenantSummary,
        TenantNames,
        ApiErrorBody,
        crate::features::staff::api::StaffMember,
        crate::features::talent::api::TalentMemberJson,
        crate::features::hosts::api::ApiHost,
        crate::features::hosts::api::NewHost,
        crate::features::hosts::api::Created,
        crate::features::projects::api::ProjectHost,
        crate::features::projects::api::PublicProject,
        crate::features::projects::api::StaffProject,
        crate::features::projects::api::NewProject,
        crate::features::events::api::ApiLocalized,
        crate::features::events::api::ApiSeatCount,
        crate::features::events::api::ApiSeats,
        crate::features::events::api::PublicEvent,
        crate::features::events::api::NewEventCapacity,
        crate::features::events::api::NewEvent,
        crate::features::events::api::NewRegistration,
        crate::features::events::api::RegistrationOutcome,
        crate::features::rounds::api::RoundProjectFacts,
        crate::features::rounds::api::RoundFacts,
        crate::features::rounds::api::ResultAssignment,
        crate::features::rounds::api::ResultSummary,
        crate::features::rounds::api::RoundResult,
        crate::features::kpis::api::KpiBreakdown,
        crate::features::kpis::api::KpiEventKind,
        crate::features::kpis::api::KpiContinuation,
        crate::features::kpis::api::KpiRelatedPeople,
        crate::features::kpis::api::KpiTargetJson,
        crate::features::kpis::api::KpiFigures,
        crate::features::certificates::api::CertificateActivity,
        crate::features::certificates::api::CertifiedFacts,
        crate::features::certificates::api::CertificateVerdict,
        crate::features::certificates::api::CertificateDocument,
        crate::features::certificates::api::CertificateKey
    )),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme: personal API tokens.
#[derive(Debug)]
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/tenants", get(list_tenants))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready`, `unavailable` or `draining` (shutting down).
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers, is the one the node started with and holds the schema;
/// load balancers send traffic only when this is 200.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
async fn readyz(State(state): State<AppState>) -> Response {
    // A node shutting down still serves what reaches it, but asks not to be sent more.
    if state.draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health { status: "draining" }),
        )
            .into_response();
    }
    match state.store.health().await {
        Ok(()) => Json(Health { status: "ready" }).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
            }),
        )
            .into_response(),
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A tenant's names.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantNames {
    pub ja: String,
    pub en: String,
    /// Reading in hiragana.
    pub kana: String,
}

/// A tenant as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSummary {
    /// URL name, e.g. `iwate`.
    pub slug: String,
    pub names: TenantNames,
    /// `prefecture`, `municipality` or `union`.
    pub kind: String,
    /// Local-government code with check digit; absent for a union.
    pub code: Option<String>,
    /// Slug of the parent tenant (a municipality's prefecture).
    pub parent: Option<String>,
}

/// Every active tenant, ordered by local-government code.
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    tag = "tenants",
    responses((status = 200, body = [TenantSummary]), (status = 503, body = ApiErrorBody))
)]
async fn list_tenants(State(state): State<AppState>) -> Result<Json<Vec<TenantSummary>>, ApiError> {
    let tenants = state.store.list_tenants().await?;
    Ok(Json(
        tenants
            .into_iter()
            // A region being set up is listed once its administrator launches it.
            .filter(|r| r.status == TenantStatus::Active && !r.is_setting_up())
            .map(|r| {
                let t = r.tenant;
                TenantSummary {
                    slug: t.slug,
                    names: TenantNames {
                        ja: t.name.ja,
                        en: t.name.en,
                        kana: t.name.kana,
                    },
                    kind: t.kind.as_str().to_owned(),
                    code: t.code.map(String::from),
                    parent: t.parent,
                }
            })
            .collect(),
    ))
}
