//! The activity record and certificates (活動証明, issue 13 item 9).
//!
//! A talent sees their own activities per region and fiscal year at
//! `/me/activities` and issues a certificate for one region and year
//! (`/t/{slug}/me/certificates/{fy}`); it is signed with the platform's current
//! Ed25519 key. They print it or download it as a file from
//! `/me/certificates/{code}` and may revoke it there. Anyone checks it without an
//! account at `/certificates/{code}`, by pasting the file at `/certificates/verify`,
//! or through the API (`/api/v1/certificates/…`). Another person's certificate is
//! 404 on every private route; staff have no route that writes one.

pub mod api;
mod mine;
mod public;
mod record;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use yui_domain::Locale;
use yui_domain::certificate::{
    self, ActivityKind, CertificateCode, KeyPair, Payload, PublicKey, Verdict,
};
use yui_store::{Certificate, PlatformReason};

use crate::render::date_text;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "cert_activities.html",
        include_str!("templates/cert_activities.html"),
    ),
    ("cert_issue.html", include_str!("templates/cert_issue.html")),
    ("cert_mine.html", include_str!("templates/cert_mine.html")),
    ("cert_sheet.html", include_str!("templates/cert_sheet.html")),
    (
        "cert_public.html",
        include_str!("templates/cert_public.html"),
    ),
    (
        "cert_verify.html",
        include_str!("templates/cert_verify.html"),
    ),
    (
        "cert_verdict.html",
        include_str!("templates/cert_verdict.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/activities", get(record::activities))
        .route(
            "/t/{slug}/me/certificates/{fy}",
            get(record::issue_page).post(record::issue),
        )
        .route("/me/certificates/{code}", get(mine::page))
        .route("/me/certificates/{code}/download", get(mine::download))
        .route("/me/certificates/{code}/revoke", post(mine::revoke))
        .route(
            "/certificates/verify",
            get(public::verify_page).post(public::verify),
        )
        .route("/certificates/{code}", get(public::page))
        .merge(api::router())
}

/// One activity as pages show it.
#[derive(Debug, Serialize)]
pub(crate) struct ActivityView {
    kind: String,
    when: String,
    title: String,
}

/// The words for an activity: its kind and its date (or month) in the reader's
/// language.
pub(crate) fn activity_view(
    state: &AppState,
    locale: Locale,
    a: &certificate::Activity,
) -> ActivityView {
    let when = match chrono::NaiveDate::parse_from_str(&a.when, "%Y-%m-%d") {
        Ok(day) => date_text(locale, day),
        Err(_) => month_text(locale, &a.when),
    };
    ActivityView {
        kind: state
            .inner
            .catalogs
            .text(locale, &format!("cert_kind_{}", a.kind.code()))
            .to_owned(),
        when,
        title: a.title.clone(),
    }
}

/// `2026-05` as 2026年5月 or May 2026.
pub(crate) fn month_text(locale: Locale, month: &str) -> String {
    match chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d") {
        Ok(d) => match locale {
            Locale::Ja => d.format("%Y年%-m月").to_string(),
            Locale::En => d.format("%B %Y").to_string(),
        },
        Err(_) => month.to_owned(),
    }
}

/// A fiscal year as people name it: 2026年度（令和8年度） or FY2026 (April–March).
pub(crate) fn fiscal_year_text(locale: Locale, fy: yui_domain::FiscalYear) -> String {
    match locale {
        Locale::Ja => match fy.reiwa_label() {
            Some(era) => format!("{}年度（{era}）", fy.0),
            None => format!("{}年度", fy.0),
        },
        Locale::En => format!("FY{} (April {}–March {})", fy.0, fy.0, fy.0 + 1),
    }
}

/// What a certificate states, as its page shows it.
#[derive(Debug, Serialize)]
pub(crate) struct SheetView {
    code: String,
    name: String,
    tenant: String,
    fiscal_year: String,
    issued: String,
    count: usize,
    events: usize,
    months: usize,
    cases: usize,
    activities: Vec<ActivityView>,
    meets_minimum: bool,
    verify_url: String,
}

pub(crate) fn sheet_view(state: &AppState, locale: Locale, p: &Payload) -> SheetView {
    let issued = chrono::DateTime::parse_from_rfc3339(&p.issued_at)
        .map(|at| crate::render::datetime_text(locale, at.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| p.issued_at.clone());
    let count_of = |k| p.activities.iter().filter(|a| a.kind == k).count();
    SheetView {
        code: p.certificate_id.clone(),
        name: p.name.clone(),
        tenant: p.tenant.clone(),
        fiscal_year: fiscal_year_text(locale, p.fiscal_year()),
        issued,
        count: p.activities.len(),
        events: count_of(ActivityKind::Event),
        months: count_of(ActivityKind::EngagementMonth),
        cases: count_of(ActivityKind::CaseStudy),
        activities: p
            .activities
            .iter()
            .map(|a| activity_view(state, locale, a))
            .collect(),
        meets_minimum: p.activities.len() >= certificate::PREMIUM_MIN_ACTIVITIES,
        verify_url: state.link(&format!("/certificates/{}", p.certificate_id)),
    }
}

/// The key that signs new certificates: the configured one, else the current one
/// in the database, or a first one made now (when two nodes race, the one whose
/// insert lands wins and both use it).
pub(crate) async fn signing_key(state: &AppState) -> Result<KeyPair, WebError> {
    if let Some(key) = &state.inner.settings.certificate_key {
        publish_configured_key(state, key).await?;
        return Ok(key.clone());
    }
    let current = current_key(&state.store).await?;
    match current {
        Some(row) if row.private_key != CONFIGURED_PRIVATE_KEY => return stored_key(&row),
        Some(row) => {
            // The key was held in a configuration that no longer names it: the
            // database holds none to sign with, so a new key takes over (the old
            // one keeps verifying what it signed).
            tracing::warn!(key_id = %row.key_id, "the configured certificate key is gone; rotating to a new key kept in the database");
            let fresh = KeyPair::from_secret(rand::random());
            make_current(&state.store, &fresh, &fresh.private_base64(), state.now()).await?;
            return Ok(fresh);
        }
        None => {}
    }
    let fresh = KeyPair::from_secret(rand::random());
    let mut tx = state
        .store
        .platform(PlatformReason::Certificates)
        .write()
        .await?;
    tx.add_first_signing_key(
        &fresh.key_id(),
        &fresh.public().to_base64(),
        &fresh.private_base64(),
        state.now(),
    )
    .await?;
    let current = tx.current_signing_key().await?;
    tx.commit().await?;
    match current {
        Some(row) => stored_key(&row),
        None => Err(WebError::Internal("no current signing key".to_owned())),
    }
}

/// Makes the configured key the current one in the database, with its public half
/// only: the private half stays in the configuration. A key configured after
/// another retires it, as a rotation does.
async fn publish_configured_key(state: &AppState, key: &KeyPair) -> Result<(), WebError> {
    let key_id = key.key_id();
    let current = current_key(&state.store).await?;
    if current.is_some_and(|row| row.key_id == key_id) {
        return Ok(());
    }
    make_current(&state.store, key, CONFIGURED_PRIVATE_KEY, state.now()).await?;
    Ok(())
}

/// The key row that signs now, if any.
async fn current_key(
    store: &yui_store::Store,
) -> Result<Option<yui_store::SigningKeyRow>, yui_store::StoreError> {
    let mut tx = store.platform(PlatformReason::Certificates).read().await?;
    let current = tx.current_signing_key().await?;
    tx.commit().await?;
    Ok(current)
}

/// Makes `key` the current key, stored with `private` as its private half, and
/// retires the one before (which keeps verifying what it signed).
async fn make_current(
    store: &yui_store::Store,
    key: &KeyPair,
    private: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), yui_store::StoreError> {
    let mut tx = store.platform(PlatformReason::Certificates).write().await?;
    tx.make_current_signing_key(&key.key_id(), &key.public().to_base64(), private, now)
        .await?;
    tx.commit().await
}

/// What the database holds instead of the private half of a configured key.
const CONFIGURED_PRIVATE_KEY: &str = "";

/// Rotation (`yui certificates rotate-key`): a new key from `secret` (32 bytes of
/// a CSPRNG) signs every certificate from `now` on; the retired key stays and keeps
/// verifying what it signed. Returns the new key's id.
pub async fn rotate_signing_key(
    store: &yui_store::Store,
    secret: [u8; 32],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, yui_store::StoreError> {
    let key = KeyPair::from_secret(secret);
    make_current(store, &key, &key.private_base64(), now).await?;
    Ok(key.key_id())
}

fn stored_key(row: &yui_store::SigningKeyRow) -> Result<KeyPair, WebError> {
    let key = KeyPair::from_base64(&row.private_key)
        .ok_or_else(|| WebError::Internal(format!("signing key {} unreadable", row.key_id)))?;
    // A row whose id does not name its key was altered: never sign with it.
    if key.key_id() != row.key_id || key.public().to_base64() != row.public_key {
        return Err(WebError::Internal(format!(
            "signing key {} does not match its public key",
            row.key_id
        )));
    }
    Ok(key)
}

/// A certificate found by its public code, and the verdict on it.
pub(crate) struct Checked {
    pub stored: Certificate,
    pub verdict: Verdict,
}

/// The stored certificate with this code (`NotFound` for an unknown or malformed
/// code), checked against the key it names.
pub(crate) async fn check_stored(state: &AppState, raw: &str) -> Result<Checked, WebError> {
    let code = CertificateCode::parse(raw).ok_or(WebError::NotFound)?;
    let mut tx = state
        .store
        .platform(PlatformReason::Certificates)
        .read()
        .await?;
    let stored = tx
        .certificate_by_code(&code)
        .await?
        .ok_or(WebError::NotFound)?;
    let key = tx.certificate_key(&stored.key_id).await?;
    tx.commit().await?;
    let public = key.and_then(|k| PublicKey::from_base64(&k.public_key));
    let mut verdict = certificate::verify(
        &stored.payload,
        &stored.signature,
        public,
        stored.revoked_at.is_some(),
    );
    // The payload must name the row it sits in: a genuine payload copied onto
    // another certificate's row is not that certificate.
    if let Verdict::Valid(p) | Verdict::Revoked(p) = &verdict
        && (p.certificate_id != stored.code || p.fiscal_year != stored.fiscal_year)
    {
        verdict = Verdict::DoesNotVerify;
    }
    Ok(Checked { stored, verdict })
}

/// The verdict on a document someone holds: its signature under the key it names,
/// its payload exactly as signed, and the stored certificate's revocation. A
/// document whose certificate the platform does not hold does not verify.
pub(crate) async fn check_document(state: &AppState, text: &str) -> Result<Verdict, WebError> {
    let Some(doc) = certificate::Document::parse(text) else {
        return Ok(Verdict::DoesNotVerify);
    };
    let Some(claimed) = Payload::parse(&doc.payload) else {
        return Ok(Verdict::DoesNotVerify);
    };
    let Some(code) = CertificateCode::parse(&claimed.certificate_id) else {
        return Ok(Verdict::DoesNotVerify);
    };
    let mut tx = state
        .store
        .platform(PlatformReason::Certificates)
        .read()
        .await?;
    let key = tx.certificate_key(&doc.key_id).await?;
    let stored = tx.certificate_by_code(&code).await?;
    tx.commit().await?;
    let Some(stored) = stored else {
        return Ok(Verdict::DoesNotVerify);
    };
    let public = key.and_then(|k| PublicKey::from_base64(&k.public_key));
    let verdict = certificate::verify(
        &doc.payload,
        &doc.signature,
        public,
        stored.revoked_at.is_some(),
    );
    // Only the statement the platform issued under that id counts.
    if stored.payload != doc.payload {
        return Ok(Verdict::DoesNotVerify);
    }
    Ok(verdict)
}

/// The downloadable document of a stored certificate.
pub(crate) fn document_of(state: &AppState, c: &Certificate) -> certificate::Document {
    certificate::Document {
        format: certificate::FORMAT.to_owned(),
        payload: c.payload.clone(),
        signature: c.signature.clone(),
        key_id: c.key_id.clone(),
        verify_at: Some(state.link("/certificates/verify")),
    }
}
