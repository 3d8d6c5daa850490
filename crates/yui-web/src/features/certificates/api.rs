//! Certificate verification in the JSON API, for anyone (no token): the verdict on
//! a stored certificate by its code, on a document someone holds, and the public
//! keys for checking a document offline.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::certificate::{Payload, Verdict};
use yui_store::PlatformReason;

use super::{check_document, check_stored};
use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};
use crate::features::hosts::api::json_body;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/certificates/keys", get(keys))
        .route("/api/v1/certificates/verify", post(verify))
        .route("/api/v1/certificates/{code}", get(by_code))
}

/// One activity a certificate states.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateActivity {
    /// `event`, `engagement_month` or `case_study`.
    pub kind: String,
    /// A Japan date `YYYY-MM-DD` (events) or month `YYYY-MM` (engagement months).
    pub when: String,
    pub title: String,
}

/// What a certificate states.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertifiedFacts {
    /// The name as its holder chose to print it.
    pub name: String,
    pub tenant: String,
    pub tenant_slug: String,
    /// The fiscal year (April–March) by the year it starts in.
    pub fiscal_year: i32,
    pub activities: Vec<CertificateActivity>,
    /// RFC 3339 with `+09:00`.
    pub issued_at: String,
}

/// The verdict on a certificate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateVerdict {
    /// The certificate's public id, when known.
    pub id: Option<String>,
    /// `valid`, `revoked` or `does_not_verify` (altered, forged, or unknown key).
    pub verdict: String,
    /// What it states; only when `valid`.
    pub certificate: Option<CertifiedFacts>,
}

/// The downloaded certificate file.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CertificateDocument {
    /// `yui-certificate/1`.
    pub format: String,
    /// The canonical payload, a JSON text: the signature covers its UTF-8 bytes.
    pub payload: String,
    /// Ed25519 signature, base64.
    pub signature: String,
    /// The signing key's id (see `/api/v1/certificates/keys`).
    pub key_id: String,
    pub verify_at: Option<String>,
}

/// A public key that signs or signed certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateKey {
    pub key_id: String,
    /// Ed25519 public key, 32 bytes in base64.
    pub public_key: String,
    pub created_at: String,
    /// Set once the key stopped signing new certificates; it still verifies old ones.
    pub retired_at: Option<String>,
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&yui_domain::fiscal::tokyo())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn facts(p: &Payload) -> CertifiedFacts {
    CertifiedFacts {
        name: p.name.clone(),
        tenant: p.tenant.clone(),
        tenant_slug: p.tenant_slug.clone(),
        fiscal_year: p.fiscal_year,
        activities: p
            .activities
            .iter()
            .map(|a| CertificateActivity {
                kind: a.kind.code().to_owned(),
                when: a.when.clone(),
                title: a.title.clone(),
            })
            .collect(),
        issued_at: p.issued_at.clone(),
    }
}

fn answer(id: Option<String>, verdict: &Verdict) -> CertificateVerdict {
    CertificateVerdict {
        id,
        verdict: verdict.code().to_owned(),
        certificate: match verdict {
            Verdict::Valid(p) => Some(facts(p)),
            Verdict::Revoked(_) | Verdict::DoesNotVerify => None,
        },
    }
}

/// The verdict on a stored certificate.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/{code}",
    tag = "certificates",
    params(("code" = String, Path, description = "The certificate's public id")),
    responses(
        (status = 200, body = CertificateVerdict),
        (status = 404, body = ApiErrorBody, description = "No such certificate")
    )
)]
pub async fn by_code(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<CertificateVerdict>, ApiError> {
    let checked = check_stored(&state, &code).await?;
    Ok(Json(answer(Some(checked.stored.code), &checked.verdict)))
}

/// The verdict on a downloaded certificate file: its signature, its payload exactly
/// as issued, and whether its holder revoked it.
#[utoipa::path(
    post,
    path = "/api/v1/certificates/verify",
    tag = "certificates",
    request_body = CertificateDocument,
    responses(
        (status = 200, body = CertificateVerdict),
        (status = 400, body = ApiErrorBody, description = "Not JSON")
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<CertificateVerdict>, ApiError> {
    // Any JSON is read; a document of another shape simply does not verify.
    let _: serde_json::Value = json_body(&body)?;
    let text = String::from_utf8_lossy(&body);
    let verdict = check_document(&state, &text).await?;
    let id = match &verdict {
        Verdict::Valid(p) | Verdict::Revoked(p) => Some(p.certificate_id.clone()),
        Verdict::DoesNotVerify => None,
    };
    Ok(Json(answer(id, &verdict)))
}

/// The platform's public keys, current and retired, to check a file offline: the
/// Ed25519 signature covers the UTF-8 bytes of the file's `payload` text.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/keys",
    tag = "certificates",
    responses((status = 200, body = [CertificateKey]))
)]
pub async fn keys(State(state): State<AppState>) -> Result<Json<Vec<CertificateKey>>, ApiError> {
    let mut tx = state
        .store
        .platform(PlatformReason::Certificates)
        .read()
        .await?;
    let keys = tx.certificate_keys().await?;
    tx.commit().await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| CertificateKey {
                key_id: k.key_id,
                public_key: k.public_key,
                created_at: rfc3339(k.created_at),
                retired_at: k.retired_at.map(rfc3339),
            })
            .collect(),
    ))
}
