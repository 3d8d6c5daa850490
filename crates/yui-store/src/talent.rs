//! Talent: the person-level profile (no tenant), memberships of tenants with the
//! consent given, the append-only consent log, a person's full data download, and
//! the erasure of an account.
//!
//! A tenant sees a person only through a live membership: every [`TenantTx`] query
//! here joins on `memberships … left_at IS NULL`, so leaving is one update that hides
//! the profile from the next request on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::instrument;
use yui_domain::talent::{
    self, Compensation, Industry, Prefecture, ProjectKind, RegionTie, SideJobPermission, Skill,
    TalentProfile, Tie, WorkStyle,
};
use yui_domain::tenant::Consent;
use yui_domain::{AccountId, TenantId};

use crate::scope::{AccountTx, TenantTx};
use crate::{Result, StoreError, StoreTx, with_tx};

/// A profile as stored, with when the talent joined the shared pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredProfile {
    #[serde(flatten)]
    pub profile: TalentProfile,
    /// Set while every region's coordinators may find the talent (the shared pool).
    pub pool_opt_in_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A person's membership of a tenant: what the tenant may see of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub consent_version: i32,
    pub consented_at: DateTime<Utc>,
    /// Set while the tenant's host organizations may see the profile too.
    pub hosts_since: Option<DateTime<Utc>>,
    pub joined_at: DateTime<Utc>,
    /// Set once the person left (withdrew consent): the tenant sees nothing of them.
    pub left_at: Option<DateTime<Utc>>,
}

impl Membership {
    /// Whether the tenant's staff may see the person now.
    pub fn is_live(&self) -> bool {
        self.left_at.is_none()
    }

    /// Whether the consent was given under a wording older than `current`.
    pub fn is_outdated(&self, current: &Consent) -> bool {
        i64::from(self.consent_version) < i64::from(current.version)
    }
}

/// A membership with the tenant's slug, for the person's own lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MyMembership {
    pub tenant_slug: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub membership: Membership,
}

/// One line of the consent log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ConsentEvent {
    pub tenant_slug: String,
    pub consent_version: i32,
    /// `staff` or `hosts`.
    pub scope: String,
    /// `given` or `withdrawn`.
    pub action: String,
    pub at: DateTime<Utc>,
}

/// A member as a tenant's staff list shows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberSummary {
    pub account_id: AccountId,
    pub display_name: String,
    /// Empty until the talent saved a profile.
    pub kana: String,
    pub residence: Option<i32>,
    pub consented_at: DateTime<Utc>,
    pub consent_version: i32,
    /// Whether the consent covers the tenant's host organizations.
    pub hosts: bool,
}

/// One member's profile as a tenant's staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberProfile {
    pub account_id: AccountId,
    pub display_name: String,
    pub email: String,
    /// `None` until the talent saved a profile.
    pub profile: Option<StoredProfile>,
    pub membership: Membership,
}

/// Everything Yui holds about a person, as they download it.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalData {
    pub account: AccountData,
    pub profile: Option<StoredProfile>,
    pub memberships: Vec<MyMembership>,
    pub consent_log: Vec<ConsentEvent>,
    pub api_tokens: Vec<TokenData>,
    /// Certificates of activity the person issued.
    pub certificates: Vec<crate::Certificate>,
}

/// The account part of [`PersonalData`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AccountData {
    pub id: AccountId,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An API token of the person, without its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenData {
    pub tenant_slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What erasing an account changed beyond the account itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Staff roles ended: the authorization policy must be reloaded.
    pub roles_revoked: u64,
    pub memberships_ended: u64,
}

/// What a membership change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentChange {
    Changed,
    /// Nothing was live to change: the caller answers as for an unknown tenant.
    NotMember,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    display_name: String,
    kana: String,
    residence: Option<i32>,
    summary: String,
    hours_per_month: Option<i32>,
    work_style: String,
    compensation: String,
    side_job_permission: Option<String>,
    pool_opt_in_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

/// A stored code that no longer parses: the columns' CHECKs make this a bug.
fn stored<T>(what: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| StoreError::Invalid(format!("stored talent profile: bad {what}")))
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A profile's skills, tags, ties (prefecture, kind) and interests (kind, code).
type ProfileLists = (
    Vec<(String,)>,
    Vec<(String,)>,
    Vec<(i32, String)>,
    Vec<(String, String)>,
);

async fn load_profile(tx: &mut StoreTx, account: AccountId) -> Result<Option<StoredProfile>> {
    let row: Option<ProfileRow> = with_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT a.display_name, p.kana, p.residence, p.summary, p.hours_per_month, p.work_style,
                    p.compensation, p.side_job_permission, p.pool_opt_in_at, p.updated_at
             FROM talent_profiles p JOIN accounts a ON a.id = p.account_id
             WHERE p.account_id = $1",
        )
        .bind(account)
        .fetch_optional(&mut **conn)
        .await?
    });
    let Some(row) = row else {
        return Ok(None);
    };
    let (skills, tags, ties, interests): ProfileLists = with_tx!(tx, conn => {
        let skills = sqlx::query_as("SELECT skill FROM talent_skills WHERE account_id = $1")
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
        let tags = sqlx::query_as("SELECT tag FROM talent_tags WHERE account_id = $1 ORDER BY position")
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
        let ties = sqlx::query_as("SELECT prefecture, kind FROM talent_ties WHERE account_id = $1")
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
        let interests = sqlx::query_as("SELECT kind, code FROM talent_interests WHERE account_id = $1")
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
        (skills, tags, ties, interests)
    });
    let mut skills: Vec<Skill> = skills
        .iter()
        .map(|(s,)| stored("skill", Skill::parse(s)))
        .collect::<Result<_>>()?;
    skills.sort_unstable();
    let mut ties: Vec<Tie> = ties
        .iter()
        .map(|(p, k)| {
            Ok(Tie {
                prefecture: stored(
                    "tie prefecture",
                    u8::try_from(*p).ok().and_then(Prefecture::new),
                )?,
                kind: stored("tie kind", RegionTie::parse(k))?,
            })
        })
        .collect::<Result<_>>()?;
    ties.sort_unstable();
    let mut industries = Vec::new();
    let mut project_kinds = Vec::new();
    for (kind, code) in &interests {
        match kind.as_str() {
            "industry" => industries.push(stored("industry", Industry::parse(code))?),
            _ => project_kinds.push(stored("project kind", ProjectKind::parse(code))?),
        }
    }
    industries.sort_unstable();
    project_kinds.sort_unstable();
    let profile = TalentProfile {
        display_name: row.display_name,
        kana: row.kana,
        residence: match row.residence {
            None => None,
            Some(code) => Some(stored(
                "residence",
                u8::try_from(code).ok().and_then(Prefecture::new),
            )?),
        },
        skills,
        tags: tags.into_iter().map(|(t,)| t).collect(),
        summary: row.summary,
        hours_per_month: match row.hours_per_month {
            None => None,
            Some(h) => Some(stored("hours", u16::try_from(h).ok())?),
        },
        work_style: stored("work style", WorkStyle::parse(&row.work_style))?,
        compensation: stored("compensation", Compensation::parse(&row.compensation))?,
        side_job_permission: match row.side_job_permission {
            None => None,
            Some(p) => Some(stored("side-job permission", SideJobPermission::parse(&p))?),
        },
        ties,
        industries,
        project_kinds,
    };
    Ok(Some(StoredProfile {
        profile,
        pool_opt_in_at: row.pool_opt_in_at,
        updated_at: row.updated_at,
    }))
}

async fn log_consent(
    tx: &mut StoreTx,
    tenant: TenantId,
    account: AccountId,
    version: i32,
    scope: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO consent_log (tenant_id, account_id, consent_version, scope, action, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(account)
        .bind(version)
        .bind(scope)
        .bind(action)
        .bind(now)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// A membership; `for_update` holds its row (PostgreSQL) until the transaction
/// ends, so two changes of one membership take turns.
async fn membership_of(
    tx: &mut StoreTx,
    tenant: TenantId,
    account: AccountId,
    for_update: bool,
) -> Result<Option<Membership>> {
    let lock = if for_update {
        tx.row_lock("FOR UPDATE")
    } else {
        ""
    };
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!(
            "SELECT tenant_id, consent_version, consented_at, hosts_since, joined_at, left_at
             FROM memberships WHERE tenant_id = $1 AND account_id = $2 {lock}"
        ))
        .bind(tenant)
        .bind(account)
        .fetch_optional(&mut **conn)
        .await?)
    })
}

/// Stores the wording of `consent` for `tenant` if it is new; the same version with
/// another text is refused: people agreed to the text their version names.
pub(crate) async fn ensure_consent(
    tx: &mut StoreTx,
    tenant: TenantId,
    consent: &Consent,
    now: DateTime<Utc>,
) -> Result<()> {
    let version = i32::try_from(consent.version)
        .map_err(|_| StoreError::Invalid("consent.version: too large".to_owned()))?;
    let existing: Option<(String, String)> = with_tx!(tx, conn => {
        sqlx::query_as("SELECT text_ja, text_en FROM tenant_consents WHERE tenant_id = $1 AND version = $2")
            .bind(tenant)
            .bind(version)
            .fetch_optional(&mut **conn)
            .await?
    });
    match existing {
        Some((ja, en)) if ja == consent.text.ja && en == consent.text.en => Ok(()),
        Some(_) => Err(StoreError::Invalid(format!(
            "consent: the text of version {version} changed; give the new text a new version (members agreed to the old one)"
        ))),
        None => {
            with_tx!(tx, conn => {
                sqlx::query(
                    "INSERT INTO tenant_consents (tenant_id, version, text_ja, text_en, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant)
                .bind(version)
                .bind(&consent.text.ja)
                .bind(&consent.text.en)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            });
            Ok(())
        }
    }
}

impl AccountTx {
    /// The person's talent profile, if they saved one.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn talent_profile(&mut self) -> Result<Option<StoredProfile>> {
        load_profile(&mut self.tx, self.account).await
    }

    /// Saves the profile (the display name on the account, the rest on the profile),
    /// replacing the lists it holds.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn save_talent_profile(
        &mut self,
        profile: &TalentProfile,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let account = self.account;
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE accounts SET display_name = $1, updated_at = $2 WHERE id = $3")
                .bind(&profile.display_name)
                .bind(now)
                .bind(account)
                .execute(&mut **conn)
                .await?;
            sqlx::query(
                "INSERT INTO talent_profiles (account_id, kana, residence, summary, hours_per_month, work_style,
                     compensation, public_servant, side_job_permission, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
                 ON CONFLICT (account_id) DO UPDATE SET
                     kana = excluded.kana, residence = excluded.residence, summary = excluded.summary,
                     hours_per_month = excluded.hours_per_month, work_style = excluded.work_style,
                     compensation = excluded.compensation, public_servant = excluded.public_servant,
                     side_job_permission = excluded.side_job_permission, updated_at = excluded.updated_at",
            )
            .bind(account)
            .bind(&profile.kana)
            .bind(profile.residence.map(|p| i32::from(p.code())))
            .bind(&profile.summary)
            .bind(profile.hours_per_month.map(i32::from))
            .bind(profile.work_style.code())
            .bind(profile.compensation.code())
            .bind(profile.side_job_permission.is_some())
            .bind(profile.side_job_permission.map(SideJobPermission::code))
            .bind(now)
            .execute(&mut **conn)
            .await?;
            for table in ["talent_skills", "talent_tags", "talent_ties", "talent_interests"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            for skill in &profile.skills {
                sqlx::query("INSERT INTO talent_skills (skill, account_id) VALUES ($1, $2)")
                    .bind(skill.code())
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            for (position, tag) in (0_i32..).zip(&profile.tags) {
                sqlx::query("INSERT INTO talent_tags (account_id, position, tag) VALUES ($1, $2, $3)")
                    .bind(account)
                    .bind(position)
                    .bind(tag)
                    .execute(&mut **conn)
                    .await?;
            }
            for tie in &profile.ties {
                sqlx::query("INSERT INTO talent_ties (prefecture, kind, account_id) VALUES ($1, $2, $3)")
                    .bind(i32::from(tie.prefecture.code()))
                    .bind(tie.kind.code())
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            let interests = profile
                .industries
                .iter()
                .map(|i| ("industry", i.code()))
                .chain(profile.project_kinds.iter().map(|k| ("project_kind", k.code())));
            for (kind, code) in interests {
                sqlx::query("INSERT INTO talent_interests (kind, code, account_id) VALUES ($1, $2, $3)")
                    .bind(kind)
                    .bind(code)
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            sqlx::query("UPDATE talent_profiles SET skill_mask = $1, kind_mask = $2, tie_mask = $3 WHERE account_id = $4")
                .bind(talent::skill_mask(&profile.skills))
                .bind(talent::kind_mask(&profile.project_kinds))
                .bind(talent::tie_mask(&profile.ties))
                .bind(account)
                .execute(&mut **conn)
                .await?;
        });
        crate::search::put_index(&mut self.tx, account, &talent::search_text(profile)).await
    }

    /// Puts the profile into the shared pool (or takes it out). Without a saved
    /// profile there is nothing to share: [`StoreError::NotFound`].
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn set_pool_opt_in(&mut self, opt_in: bool, now: DateTime<Utc>) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            // Opting in again keeps the first time; opting out clears it.
            sqlx::query(
                "UPDATE talent_profiles SET pool_opt_in_at = CASE WHEN $1 THEN COALESCE(pool_opt_in_at, $2) ELSE NULL END,
                     updated_at = $2 WHERE account_id = $3",
            )
            .bind(opt_in)
            .bind(now)
            .bind(self.account)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Every membership of the person, left ones included, by tenant slug.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn memberships(&mut self) -> Result<Vec<MyMembership>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT t.slug AS tenant_slug, m.tenant_id, m.consent_version, m.consented_at, m.hosts_since,
                        m.joined_at, m.left_at
                 FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                 WHERE m.account_id = $1 ORDER BY m.joined_at, t.slug",
            )
            .bind(self.account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The person's membership of `tenant`, if any (left ones included).
    #[instrument(skip_all, fields(account = %self.account, tenant = %tenant), err(level = "warn"))]
    pub async fn membership(&mut self, tenant: TenantId) -> Result<Option<Membership>> {
        membership_of(&mut self.tx, tenant, self.account, false).await
    }

    /// Joins `tenant` (or renews the consent) under `consent`, the tenant's current
    /// wording: the staff always, its host organizations only if `hosts`. Each
    /// consent given or withdrawn goes to the log. A suspended tenant is
    /// [`StoreError::Suspended`].
    #[instrument(skip_all, fields(account = %self.account, tenant = %tenant), err(level = "warn"))]
    pub async fn join_tenant(
        &mut self,
        tenant: TenantId,
        consent: &Consent,
        hosts: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let account = self.account;
        let version = i32::try_from(consent.version)
            .map_err(|_| StoreError::Invalid("consent version".to_owned()))?;
        // Joining is a change of the tenant's data: a suspension committed meanwhile
        // wins, and one that comes later waits for this join (PostgreSQL).
        let lock = self.tx.row_lock("FOR SHARE");
        let status: Option<(String,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!("SELECT status FROM tenants WHERE id = $1 {lock}"))
                .bind(tenant)
                .fetch_optional(&mut **conn)
                .await?
        });
        match status {
            Some((s,)) if s == "active" => {}
            Some(_) => return Err(StoreError::Suspended),
            None => return Err(StoreError::NotFound),
        }
        let before = membership_of(&mut self.tx, tenant, account, true).await?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO memberships (tenant_id, account_id, consent_version, consented_at, hosts_since, joined_at)
                 VALUES ($1, $2, $3, $4, $5, $4)
                 ON CONFLICT (tenant_id, account_id) DO UPDATE SET
                     consent_version = excluded.consent_version, consented_at = excluded.consented_at,
                     hosts_since = CASE WHEN excluded.hosts_since IS NULL THEN NULL
                                        ELSE COALESCE(memberships.hosts_since, excluded.hosts_since) END,
                     joined_at = CASE WHEN memberships.left_at IS NULL THEN memberships.joined_at
                                      ELSE excluded.joined_at END,
                     left_at = NULL",
            )
            .bind(tenant)
            .bind(account)
            .bind(version)
            .bind(now)
            .bind(hosts.then_some(now))
            .execute(&mut **conn)
            .await?;
        });
        log_consent(
            &mut self.tx,
            tenant,
            account,
            version,
            "staff",
            "given",
            now,
        )
        .await?;
        let had_hosts = before
            .as_ref()
            .is_some_and(|m| m.is_live() && m.hosts_since.is_some());
        if hosts {
            log_consent(
                &mut self.tx,
                tenant,
                account,
                version,
                "hosts",
                "given",
                now,
            )
            .await?;
        } else if had_hosts {
            log_consent(
                &mut self.tx,
                tenant,
                account,
                version,
                "hosts",
                "withdrawn",
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// Gives or withdraws the host organizations' part of a live membership.
    #[instrument(skip_all, fields(account = %self.account, tenant = %tenant), err(level = "warn"))]
    pub async fn set_hosts_consent(
        &mut self,
        tenant: TenantId,
        hosts: bool,
        now: DateTime<Utc>,
    ) -> Result<ConsentChange> {
        let account = self.account;
        let Some(m) = membership_of(&mut self.tx, tenant, account, true)
            .await?
            .filter(Membership::is_live)
        else {
            return Ok(ConsentChange::NotMember);
        };
        if m.hosts_since.is_some() == hosts {
            return Ok(ConsentChange::Changed);
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE memberships SET hosts_since = $1 WHERE tenant_id = $2 AND account_id = $3")
                .bind(hosts.then_some(now))
                .bind(tenant)
                .bind(account)
                .execute(&mut **conn)
                .await?;
        });
        let action = if hosts { "given" } else { "withdrawn" };
        log_consent(
            &mut self.tx,
            tenant,
            account,
            m.consent_version,
            "hosts",
            action,
            now,
        )
        .await?;
        Ok(ConsentChange::Changed)
    }

    /// Leaves `tenant`: every consent given to it is withdrawn.
    #[instrument(skip_all, fields(account = %self.account, tenant = %tenant), err(level = "warn"))]
    pub async fn leave_tenant(
        &mut self,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<ConsentChange> {
        let account = self.account;
        let Some(m) = membership_of(&mut self.tx, tenant, account, true)
            .await?
            .filter(Membership::is_live)
        else {
            return Ok(ConsentChange::NotMember);
        };
        end_membership(&mut self.tx, account, &m, now).await?;
        Ok(ConsentChange::Changed)
    }

    /// Everything stored about the person, for them to download.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn personal_data(&mut self) -> Result<PersonalData> {
        let account = self.account;
        let data: AccountData = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT id, email, display_name, locale, email_verified_at, created_at FROM accounts WHERE id = $1",
            )
            .bind(account)
            .fetch_one(&mut **conn)
            .await?
        });
        let profile = load_profile(&mut self.tx, account).await?;
        let memberships = self.memberships().await?;
        let (consent_log, api_tokens) = with_tx!(&mut self.tx, conn => {
            let log: Vec<ConsentEvent> = sqlx::query_as(
                "SELECT t.slug AS tenant_slug, c.consent_version, c.scope, c.action, c.at
                 FROM consent_log c JOIN tenants t ON t.id = c.tenant_id
                 WHERE c.account_id = $1 ORDER BY c.id",
            )
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
            let tokens: Vec<TokenData> = sqlx::query_as(
                "SELECT t.slug AS tenant_slug, k.name, k.created_at, k.last_used_at, k.revoked_at
                 FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id
                 WHERE k.account_id = $1 ORDER BY k.id",
            )
            .bind(account)
            .fetch_all(&mut **conn)
            .await?;
            (log, tokens)
        });
        let certificates = crate::certificates::certificates_of(&mut self.tx, self.account).await?;
        Ok(PersonalData {
            account: data,
            profile,
            memberships,
            consent_log,
            api_tokens,
            certificates,
        })
    }

    /// Erases the account: the profile, sessions, tokens and devices go; every
    /// membership ends (its row stays, anonymous, for the counts); staff roles end;
    /// mail to the person that is still queued goes and sent mail to them is blanked;
    /// their address and name are cut out of other mail, invitations, the audit log and
    /// the sign-in throttle; the account row stays as a tombstone with no name, no
    /// address and no password, so nothing can sign in to it again.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn erase_account(&mut self, now: DateTime<Utc>) -> Result<Erasure> {
        let account = self.account;
        let (email, email_key, name): (String, String, String) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT email, email_lower, display_name FROM accounts WHERE id = $1 AND deleted_at IS NULL")
                .bind(account)
                .fetch_one(&mut **conn)
                .await?
        });
        let tombstone = format!("deleted-{account}@deleted.invalid");
        let live: Vec<Membership> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT tenant_id, consent_version, consented_at, hosts_since, joined_at, left_at
                 FROM memberships WHERE account_id = $1 AND left_at IS NULL",
            )
            .bind(account)
            .fetch_all(&mut **conn)
            .await?
        });
        for m in &live {
            end_membership(&mut self.tx, account, m, now).await?;
        }
        // Texts to cut out of rows that are not the person's own. A name shorter than
        // two characters would cut pieces of other words.
        let mut cut = vec![email.clone(), email_key.clone()];
        if name.chars().count() >= 2 {
            cut.push(name.clone());
        }
        cut.dedup();
        crate::search::drop_index(&mut self.tx, account).await?;
        let roles_revoked = with_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM talent_profiles WHERE account_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            // Applications keep their status (anonymous statistics) but lose the
            // proposal; the person's messages lose their text; marks and pending
            // digest notifications go.
            sqlx::query(
                "UPDATE applications SET proposal = '', approach = '', frequency = '' WHERE account_id = $1",
            )
            .bind(account)
            .execute(&mut **conn)
            .await?;
            // Registrations keep their status and attendance (anonymous statistics)
            // but lose the answers and the logistics form.
            sqlx::query("UPDATE registrations SET answers = '[]', logistics = NULL, idempotency_key = NULL WHERE account_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            sqlx::query("UPDATE application_messages SET body = '' WHERE author_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            for table in ["project_interests", "application_notifications"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            // Hearing notes about the person, in every tenant; the messages of
            // scouts sent to them (the rows stay, anonymous, for the counts).
            sqlx::query("DELETE FROM hearings WHERE talent_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            sqlx::query("UPDATE scouts SET message = '', status = CASE WHEN status = 'open' THEN 'withdrawn' ELSE status END
                         WHERE talent_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            // Certificates print the person's name: erased, they no longer verify (404).
            sqlx::query("DELETE FROM certificates WHERE account_id = $1")
                .bind(account)
                .execute(&mut **conn)
                .await?;
            for table in ["sessions", "account_tokens", "known_devices", "api_tokens"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                    .bind(account)
                    .execute(&mut **conn)
                    .await?;
            }
            let roles = sqlx::query("UPDATE role_grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(account)
                .execute(&mut **conn)
                .await?
                .rows_affected();
            if roles > 0 {
                // Every node reloads the policy when its version moves.
                sqlx::query("UPDATE policy_version SET version = version + 1 WHERE id = 1")
                    .execute(&mut **conn)
                    .await?;
            }
            sqlx::query(
                "UPDATE invitations SET withdrawn_at = COALESCE(withdrawn_at, $1)
                 WHERE email_key = $2 AND accepted_at IS NULL",
            )
            .bind(now)
            .bind(&email_key)
            .execute(&mut **conn)
            .await?;
            sqlx::query("UPDATE invitations SET email = $1, email_key = $1 WHERE email_key = $2")
                .bind(&tombstone)
                .bind(&email_key)
                .execute(&mut **conn)
                .await?;
            sqlx::query("DELETE FROM mail_outbox WHERE lower(to_address) = $1 AND status = 'pending'")
                .bind(&email_key)
                .execute(&mut **conn)
                .await?;
            sqlx::query(
                "UPDATE mail_outbox SET to_address = $1, subject = '', body_text = '', body_html = '', last_error = NULL,
                     attachment_body = NULL
                 WHERE lower(to_address) = $2",
            )
            .bind(&tombstone)
            .bind(&email_key)
            .execute(&mut **conn)
            .await?;
            for text in &cut {
                let pattern = escape_like(text);
                sqlx::query(
                    "UPDATE mail_outbox SET subject = REPLACE(subject, $1, $2), body_text = REPLACE(body_text, $1, $2),
                         body_html = REPLACE(body_html, $1, $2)
                     WHERE subject LIKE $3 ESCAPE '\\' OR body_text LIKE $3 ESCAPE '\\' OR body_html LIKE $3 ESCAPE '\\'",
                )
                .bind(text)
                .bind("(deleted)")
                .bind(&pattern)
                .execute(&mut **conn)
                .await?;
                // The person's name in hearings about others (a host's hearing).
                sqlx::query(
                    "UPDATE hearings SET notes = REPLACE(notes, $1, $2), needs = REPLACE(needs, $1, $2),
                         strengths = REPLACE(strengths, $1, $2), next_step = REPLACE(next_step, $1, $2)
                     WHERE notes LIKE $3 ESCAPE '\\' OR needs LIKE $3 ESCAPE '\\'
                        OR strengths LIKE $3 ESCAPE '\\' OR next_step LIKE $3 ESCAPE '\\'",
                )
                .bind(text)
                .bind("(deleted)")
                .bind(&pattern)
                .execute(&mut **conn)
                .await?;
                sqlx::query("DELETE FROM signin_attempts WHERE key LIKE $1 ESCAPE '\\'")
                    .bind(&pattern)
                    .execute(&mut **conn)
                    .await?;
            }
            sqlx::query(
                "UPDATE accounts SET email = $1, email_lower = $1, display_name = '', password_hash = NULL,
                     email_verified_at = NULL, credential_epoch = credential_epoch + 1, deleted_at = $2, updated_at = $2
                 WHERE id = $3",
            )
            .bind(&tombstone)
            .bind(now)
            .bind(account)
            .execute(&mut **conn)
            .await?;
            roles
        });
        // The audit log's details are JSON: JSONB on PostgreSQL, text on SQLite.
        for text in &cut {
            let pattern = escape_like(text);
            match &mut self.tx {
                StoreTx::Sqlite(conn) => {
                    sqlx::query(
                        "UPDATE audit_log SET detail = REPLACE(detail, $1, '(deleted)') WHERE detail LIKE $2 ESCAPE '\\'",
                    )
                    .bind(text)
                    .bind(&pattern)
                    .execute(&mut **conn)
                    .await?;
                }
                StoreTx::Postgres(conn) => {
                    sqlx::query(
                        "UPDATE audit_log SET detail = REPLACE(detail::text, $1, '(deleted)')::jsonb WHERE detail::text LIKE $2 ESCAPE '\\'",
                    )
                    .bind(text)
                    .bind(&pattern)
                    .execute(&mut **conn)
                    .await?;
                }
            }
        }
        Ok(Erasure {
            roles_revoked,
            memberships_ended: live.len() as u64,
        })
    }
}

/// Ends a live membership: left now, nothing shared with hosts, each withdrawal logged.
async fn end_membership(
    tx: &mut StoreTx,
    account: AccountId,
    m: &Membership,
    now: DateTime<Utc>,
) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query("UPDATE memberships SET left_at = $1, hosts_since = NULL WHERE tenant_id = $2 AND account_id = $3")
            .bind(now)
            .bind(m.tenant_id)
            .bind(account)
            .execute(&mut **conn)
            .await?;
    });
    if m.hosts_since.is_some() {
        log_consent(
            tx,
            m.tenant_id,
            account,
            m.consent_version,
            "hosts",
            "withdrawn",
            now,
        )
        .await?;
    }
    log_consent(
        tx,
        m.tenant_id,
        account,
        m.consent_version,
        "staff",
        "withdrawn",
        now,
    )
    .await
}

impl TenantTx {
    /// The tenant's talents whose consent is live, by reading (kana) then name.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn talent_members(&mut self) -> Result<Vec<MemberSummary>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT m.account_id, a.display_name, COALESCE(p.kana, '') AS kana, p.residence,
                        m.consented_at, m.consent_version, m.hosts_since IS NOT NULL AS hosts
                 FROM memberships m
                 JOIN accounts a ON a.id = m.account_id
                 LEFT JOIN talent_profiles p ON p.account_id = m.account_id
                 WHERE m.tenant_id = $1 AND m.left_at IS NULL
                 ORDER BY COALESCE(p.kana, ''), a.display_name, m.account_id",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// One member's profile, only while their consent to this tenant is live: another
    /// tenant's member, someone who left, or no such account are all `None`.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn talent_member(&mut self, account: AccountId) -> Result<Option<MemberProfile>> {
        let row: Option<(String, String)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT a.display_name, a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
                 WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.left_at IS NULL",
            )
            .bind(self.tenant)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?
        });
        let Some((display_name, email)) = row else {
            return Ok(None);
        };
        let Some(membership) = membership_of(&mut self.tx, self.tenant, account, false).await?
        else {
            return Ok(None);
        };
        let profile = load_profile(&mut self.tx, account).await?;
        Ok(Some(MemberProfile {
            account_id: account,
            display_name,
            email,
            profile,
            membership,
        }))
    }

    /// How many people ever joined the tenant, and how many are members now: counts
    /// that survive leaving and account deletion.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn membership_counts(&mut self) -> Result<(i64, i64)> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(*) FILTER (WHERE left_at IS NULL) AS BIGINT)
                 FROM memberships WHERE tenant_id = $1",
            )
            .bind(self.tenant)
            .fetch_one(&mut **conn)
            .await?)
        })
    }
}
