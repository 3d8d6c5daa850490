//! The activity record and its certificate (活動証明).
//!
//! The planned ふるさと住民登録 premium tier asks for proof of at least three 担い手活動 a
//! year in a municipality. A talent's activities in one tenant and fiscal year are
//! the events they attended, the months in which they checked in on an engagement,
//! and the published case studies of their engagements. A certificate states
//! them in a canonical payload, signed with Ed25519; anyone holding the payload, the
//! signature and the key id can check it, and the platform answers whether it was
//! revoked.
//!
//! Pure: keys, randomness and time come in as arguments.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::FiscalYear;

/// How many activities in a year the premium tier asks for.
pub const PREMIUM_MIN_ACTIVITIES: usize = 3;

/// The longest name a person may print on a certificate.
pub const NAME_MAX: usize = 100;

/// The format tag of the payload and of the downloaded document.
pub const FORMAT: &str = "yui-certificate/1";

/// What kind of activity a line of the record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// An event attended (at least one day checked in).
    Event,
    /// A month with the talent's own check-in on an engagement.
    EngagementMonth,
    /// A published case study of an engagement of the talent's.
    CaseStudy,
}

impl ActivityKind {
    pub fn code(self) -> &'static str {
        match self {
            ActivityKind::Event => "event",
            ActivityKind::EngagementMonth => "engagement_month",
            ActivityKind::CaseStudy => "case_study",
        }
    }
}

/// One activity: when (a day `YYYY-MM-DD` or a month `YYYY-MM`) and what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub kind: ActivityKind,
    pub when: String,
    pub title: String,
}

impl Activity {
    /// An event attended, first day checked in on `day` (a Japan date).
    pub fn event(day: NaiveDate, title: &str) -> Activity {
        Activity {
            kind: ActivityKind::Event,
            when: day.format("%Y-%m-%d").to_string(),
            title: title.to_owned(),
        }
    }

    /// A month (`YYYY-MM`, Japan time) with a check-in on an engagement.
    pub fn engagement_month(month: &str, project: &str, host: &str) -> Activity {
        Activity {
            kind: ActivityKind::EngagementMonth,
            when: month.to_owned(),
            title: format!("{project} — {host}"),
        }
    }

    /// A case study of the talent's engagement, dated by its publication (the day
    /// in Japan: a case published at 00:30 JST on 1 April belongs to the new year).
    pub fn case_study(published_at: DateTime<Utc>, title: &str) -> Activity {
        Activity {
            kind: ActivityKind::CaseStudy,
            when: published_at
                .with_timezone(&crate::fiscal::tokyo())
                .format("%Y-%m-%d")
                .to_string(),
            title: title.to_owned(),
        }
    }

    /// The fiscal year the activity falls in; `None` for a malformed date.
    pub fn fiscal_year(&self) -> Option<FiscalYear> {
        let day = if self.when.len() == 7 {
            format!("{}-01", self.when)
        } else {
            self.when.clone()
        };
        NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .ok()
            .map(FiscalYear::containing)
    }
}

/// A talent's activities in one tenant and fiscal year, in date order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearRecord {
    pub fiscal_year: FiscalYear,
    pub activities: Vec<Activity>,
}

impl YearRecord {
    /// Whether the year has the activities the premium tier asks for: a fact about
    /// the record, not a decision of whoever runs that tier.
    pub fn meets_premium_minimum(&self) -> bool {
        self.activities.len() >= PREMIUM_MIN_ACTIVITIES
    }

    pub fn count(&self, kind: ActivityKind) -> usize {
        self.activities.iter().filter(|a| a.kind == kind).count()
    }
}

/// Groups activities by fiscal year, the latest year first, each year in date order.
pub fn by_fiscal_year(activities: Vec<Activity>) -> Vec<YearRecord> {
    let mut years: std::collections::BTreeMap<FiscalYear, Vec<Activity>> = Default::default();
    for a in activities {
        if let Some(fy) = a.fiscal_year() {
            years.entry(fy).or_default().push(a);
        }
    }
    years
        .into_iter()
        .rev()
        .map(|(fiscal_year, mut activities)| {
            activities
                .sort_by(|a, b| (&a.when, a.kind, &a.title).cmp(&(&b.when, b.kind, &b.title)));
            YearRecord {
                fiscal_year,
                activities,
            }
        })
        .collect()
}

/// The name to print: control characters (a pasted tab or line break) become
/// spaces, then trimmed, not empty, at most [`NAME_MAX`] characters.
pub fn check_name(raw: &str) -> Result<String, crate::account::Problem> {
    let spaced: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // No bidirectional overrides: a printed name must read as it is stored.
    let name = crate::account::one_line(&spaced);
    let name = name.as_str();
    if name.is_empty() {
        return Err(crate::account::Problem::Required);
    }
    if name.chars().count() > NAME_MAX {
        return Err(crate::account::Problem::TooLong { max: NAME_MAX });
    }
    Ok(name.to_owned())
}

/// A certificate's public id: 128 random bits, URL-safe, so that ids cannot be
/// guessed or enumerated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CertificateCode(String);

impl CertificateCode {
    /// From 16 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; 16]) -> CertificateCode {
        CertificateCode(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A code typed in a URL: exactly the shape [`from_random`](Self::from_random) makes.
    pub fn parse(raw: &str) -> Option<CertificateCode> {
        let ok = raw.len() == 22
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && URL_SAFE_NO_PAD.decode(raw).is_ok_and(|b| b.len() == 16);
        ok.then(|| CertificateCode(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CertificateCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a certificate states, and exactly what is signed: this struct serialized as
/// compact JSON (fields in this order). The stored and downloaded payload is that
/// text, so a verifier checks the signature over the bytes it received and never
/// has to re-serialize anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub format: String,
    pub certificate_id: String,
    /// The name as the person chose to print it.
    pub name: String,
    pub tenant: String,
    pub tenant_slug: String,
    pub fiscal_year: i32,
    pub activities: Vec<Activity>,
    /// RFC 3339 in Japan time.
    pub issued_at: String,
}

impl Payload {
    pub fn new(
        code: &CertificateCode,
        name: &str,
        tenant: &str,
        tenant_slug: &str,
        record: &YearRecord,
        issued_at: DateTime<Utc>,
    ) -> Payload {
        Payload {
            format: FORMAT.to_owned(),
            certificate_id: code.as_str().to_owned(),
            name: name.to_owned(),
            tenant: tenant.to_owned(),
            tenant_slug: tenant_slug.to_owned(),
            fiscal_year: record.fiscal_year.0,
            activities: record.activities.clone(),
            issued_at: issued_at
                .with_timezone(&crate::fiscal::tokyo())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        }
    }

    /// The canonical text: what is signed, stored and downloaded.
    pub fn canonical(&self) -> String {
        // Serializing a struct of strings, numbers and lists cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a canonical text back; `None` unless it is exactly canonical, so two
    /// texts that verify are always the same statement.
    pub fn parse(text: &str) -> Option<Payload> {
        let p: Payload = serde_json::from_str(text).ok()?;
        (p.format == FORMAT && p.canonical() == text).then_some(p)
    }

    pub fn fiscal_year(&self) -> FiscalYear {
        FiscalYear(self.fiscal_year)
    }
}

/// An Ed25519 key pair of the platform, named by its key id.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// From 32 bytes of a CSPRNG (a new key) or of storage.
    pub fn from_secret(secret: [u8; 32]) -> KeyPair {
        KeyPair {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// From the stored base64 private key.
    pub fn from_base64(private: &str) -> Option<KeyPair> {
        let bytes: [u8; 32] = STANDARD.decode(private.trim()).ok()?.try_into().ok()?;
        Some(KeyPair::from_secret(bytes))
    }

    pub fn private_base64(&self) -> String {
        STANDARD.encode(self.signing.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    pub fn key_id(&self) -> String {
        self.public().key_id()
    }

    /// The signature over the payload's canonical text, in base64.
    pub fn sign(&self, canonical: &str) -> String {
        STANDARD.encode(self.signing.sign(canonical.as_bytes()).to_bytes())
    }
}

/// A public key that checks certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_base64(text: &str) -> Option<PublicKey> {
        let bytes: [u8; 32] = STANDARD.decode(text.trim()).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    pub fn to_base64(self) -> String {
        STANDARD.encode(self.0.to_bytes())
    }

    /// The key's name: the first 12 bytes of the public key, URL-safe. Derived, so
    /// a key id always names the key it came from.
    pub fn key_id(self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0.to_bytes()[..12])
    }

    /// Whether `signature` (base64) is this key's signature over `canonical`.
    /// Strict verification: no malleable or small-order forms are accepted.
    pub fn verifies(self, canonical: &str, signature: &str) -> bool {
        let Ok(bytes) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        self.0.verify_strict(canonical.as_bytes(), &sig).is_ok()
    }
}

/// The file a talent downloads and hands to a third party: the payload text, the
/// signature over its bytes and the id of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub format: String,
    pub payload: String,
    pub signature: String,
    pub key_id: String,
    /// Where to check it (informational: the platform's verification page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_at: Option<String>,
}

impl Document {
    pub fn parse(text: &str) -> Option<Document> {
        serde_json::from_str::<Document>(text.trim())
            .ok()
            .filter(|d| d.format == FORMAT)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The answer to "is this certificate genuine".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by the platform, unaltered and not revoked.
    Valid(Payload),
    /// Genuine but withdrawn by its holder.
    Revoked(Payload),
    /// Altered, forged, signed by an unknown key, or not a certificate at all.
    DoesNotVerify,
}

impl Verdict {
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Valid(_) => "valid",
            Verdict::Revoked(_) => "revoked",
            Verdict::DoesNotVerify => "does_not_verify",
        }
    }
}

/// Checks a payload text and signature against the key that claims to have made
/// it (`None` when the key id is unknown) and the stored revocation.
pub fn verify(canonical: &str, signature: &str, key: Option<PublicKey>, revoked: bool) -> Verdict {
    let Some(key) = key else {
        return Verdict::DoesNotVerify;
    };
    if !key.verifies(canonical, signature) {
        return Verdict::DoesNotVerify;
    }
    let Some(payload) = Payload::parse(canonical) else {
        return Verdict::DoesNotVerify;
    };
    if revoked {
        Verdict::Revoked(payload)
    } else {
        Verdict::Valid(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn record() -> YearRecord {
        by_fiscal_year(vec![
            Activity::engagement_month("2026-05", "ブランディング", "かんたはうす"),
            Activity::event(day("2026-04-20"), "移住セミナー \"東京\""),
            Activity::event(day("2027-03-31"), "現地ツアー"),
        ])
        .remove(0)
    }

    fn payload() -> Payload {
        Payload::new(
            &CertificateCode::from_random([7; 16]),
            "結 花子",
            "岩手県",
            "iwate",
            &record(),
            at("2026-12-01T03:00:00Z"),
        )
    }

    #[test]
    fn activities_fall_in_april_to_march_years_in_date_order() {
        let years = by_fiscal_year(vec![
            Activity::event(day("2026-04-01"), "b"),
            Activity::event(day("2026-03-31"), "a"),
            Activity::engagement_month("2027-03", "p", "h"),
            Activity::engagement_month("2026-04", "p", "h"),
            Activity {
                kind: ActivityKind::Event,
                when: "not a date".to_owned(),
                title: "x".to_owned(),
            },
        ]);
        assert_eq!(years.len(), 2);
        assert_eq!(years[0].fiscal_year, FiscalYear(2026));
        let whens: Vec<_> = years[0]
            .activities
            .iter()
            .map(|a| a.when.as_str())
            .collect();
        assert_eq!(whens, ["2026-04", "2026-04-01", "2027-03"]);
        assert_eq!(years[1].fiscal_year, FiscalYear(2025));
        assert!(years[0].meets_premium_minimum());
        assert!(!years[1].meets_premium_minimum());
        assert_eq!(years[0].count(ActivityKind::EngagementMonth), 2);
        let published = "2027-03-31T15:30:00Z".parse().unwrap();
        let case = Activity::case_study(published, "宿の発信");
        assert_eq!(case.when, "2027-04-01");
        assert_eq!(case.fiscal_year(), Some(FiscalYear(2027)));
    }

    #[test]
    fn the_canonical_payload_is_fixed_text_in_japan_time() {
        let p = payload();
        let text = p.canonical();
        assert_eq!(
            text,
            format!(
                "{{\"format\":\"yui-certificate/1\",\"certificate_id\":\"{}\",\"name\":\"結 花子\",\
                 \"tenant\":\"岩手県\",\"tenant_slug\":\"iwate\",\"fiscal_year\":2026,\"activities\":[\
                 {{\"kind\":\"event\",\"when\":\"2026-04-20\",\"title\":\"移住セミナー \\\"東京\\\"\"}},\
                 {{\"kind\":\"engagement_month\",\"when\":\"2026-05\",\"title\":\"ブランディング — かんたはうす\"}},\
                 {{\"kind\":\"event\",\"when\":\"2027-03-31\",\"title\":\"現地ツアー\"}}],\
                 \"issued_at\":\"2026-12-01T12:00:00+09:00\"}}",
                CertificateCode::from_random([7; 16])
            )
        );
        assert_eq!(Payload::parse(&text), Some(p));
        // The same statement in another layout is not canonical: it never verifies.
        assert_eq!(
            Payload::parse(&text.replace(",\"name\"", ", \"name\"")),
            None
        );
        assert_eq!(
            Payload::parse(&text.replace("\"format\"", "\"extra\":1,\"format\"")),
            None
        );
    }

    #[test]
    fn a_signed_payload_verifies_and_any_change_does_not() {
        let key = KeyPair::from_secret([1; 32]);
        let text = payload().canonical();
        let sig = key.sign(&text);
        let public = Some(key.public());
        assert_eq!(
            verify(&text, &sig, public, false),
            Verdict::Valid(payload())
        );
        assert_eq!(
            verify(&text, &sig, public, true),
            Verdict::Revoked(payload())
        );
        let altered = text.replace("結 花子", "結 太郎");
        assert_eq!(
            verify(&altered, &sig, public, false),
            Verdict::DoesNotVerify
        );
        let mut bytes = STANDARD.decode(&sig).unwrap();
        bytes[0] ^= 1;
        let bad_sig = STANDARD.encode(bytes);
        assert_eq!(
            verify(&text, &bad_sig, public, false),
            Verdict::DoesNotVerify
        );
        assert_eq!(
            verify(&text, "not base64!", public, false),
            Verdict::DoesNotVerify
        );
        assert_eq!(verify(&text, &sig, None, false), Verdict::DoesNotVerify);
        let other = KeyPair::from_secret([2; 32]);
        assert_eq!(
            verify(&text, &sig, Some(other.public()), false),
            Verdict::DoesNotVerify
        );
        // A signature by the wrong key over the same text does not pass either.
        assert_eq!(
            verify(&text, &other.sign(&text), public, false),
            Verdict::DoesNotVerify
        );
    }

    #[test]
    fn keys_round_trip_and_name_themselves() {
        let key = KeyPair::from_secret([9; 32]);
        let again = KeyPair::from_base64(&key.private_base64()).unwrap();
        assert_eq!(again.public(), key.public());
        let public = PublicKey::from_base64(&key.public().to_base64()).unwrap();
        assert_eq!(public.key_id(), key.key_id());
        assert_eq!(key.key_id().len(), 16);
        assert_ne!(KeyPair::from_secret([8; 32]).key_id(), key.key_id());
        assert!(!format!("{key:?}").contains(&key.private_base64()));
        assert!(KeyPair::from_base64("short").is_none());
    }

    #[test]
    fn codes_are_128_bits_and_parse_only_their_own_shape() {
        let code = CertificateCode::from_random([0xAB; 16]);
        assert_eq!(code.as_str().len(), 22);
        assert_eq!(CertificateCode::parse(code.as_str()), Some(code));
        assert_eq!(CertificateCode::parse("1"), None);
        assert_eq!(CertificateCode::parse("../../etc/passwd/xxxxx"), None);
        assert_eq!(CertificateCode::parse(&"a".repeat(23)), None);
    }

    #[test]
    fn documents_round_trip_and_refuse_other_formats() {
        let key = KeyPair::from_secret([1; 32]);
        let text = payload().canonical();
        let doc = Document {
            format: FORMAT.to_owned(),
            signature: key.sign(&text),
            payload: text,
            key_id: key.key_id(),
            verify_at: Some("https://yui.example/certificates/verify".to_owned()),
        };
        assert_eq!(Document::parse(&doc.to_json()), Some(doc.clone()));
        assert_eq!(Document::parse("{}"), None);
        assert_eq!(
            Document::parse(&doc.to_json().replace("yui-certificate/1", "other/1")),
            None
        );
    }

    #[test]
    fn printed_names_are_checked() {
        assert_eq!(check_name("  結 花子 ").unwrap(), "結 花子");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"あ".repeat(NAME_MAX + 1)).is_err());
        assert_eq!(check_name("a\nb\u{7}").unwrap(), "a b");
        assert_eq!(
            check_name("結 花子\u{202E}evil\u{2066}").unwrap(),
            "結 花子evil"
        );
        assert!(check_name("\u{202E}").is_err());
    }
}
