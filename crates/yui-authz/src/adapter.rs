//! casbin's `Adapter` over Yui's own tables, read and written through yui-store, so it
//! serves SQLite and PostgreSQL alike (the sqlx-adapter crate picks one database at
//! compile time).
//!
//! `p` rules live in `role_permissions`, `g` rules in `role_grants`. Loading skips
//! grants that ended before the adapter's `now`; every write goes through one
//! transaction that bumps `policy_version`, so other nodes notice it.

use async_trait::async_trait;
use casbin::{Adapter, Filter, Model};
use chrono::{DateTime, Utc};
use yui_store::Store;

use crate::changes::{Change, apply};
use crate::error::{AuthzError, Result};
use crate::rules::{GrantRule, PermissionRule, TenantNode, TenantTree};
use crate::stored;

/// A casbin adapter that reads and writes Yui's policy tables.
#[derive(Debug, Clone)]
pub struct SqlAdapter {
    store: Store,
    now: DateTime<Utc>,
    tenants: Option<TenantTree>,
    filtered: bool,
}

impl SqlAdapter {
    /// An adapter that loads the grants live at `now` and stamps changes with `now`.
    pub fn new(store: Store, now: DateTime<Utc>) -> SqlAdapter {
        SqlAdapter {
            store,
            now,
            tenants: None,
            filtered: false,
        }
    }

    /// Uses this tenant tree instead of reading it at each operation.
    pub(crate) fn with_tenants(mut self, tenants: TenantTree) -> SqlAdapter {
        self.tenants = Some(tenants);
        self
    }

    async fn tenants(&self) -> Result<TenantTree> {
        match &self.tenants {
            Some(t) => Ok(t.clone()),
            None => Ok(TenantTree::new(&stored::tenant_nodes(&self.store).await?)),
        }
    }

    /// The stored policy as casbin rules: (p rules, g rules).
    pub(crate) async fn rules(&self) -> Result<(TenantTree, Vec<Vec<String>>, Vec<Vec<String>>)> {
        let tenants = self.tenants().await?;
        let (permissions, grants) = stored::load_rules(&self.store).await?;
        let mut p = Vec::new();
        for rule in permissions {
            if let Some(r) = rule.to_casbin(&tenants) {
                p.push(r);
            }
        }
        let mut g = Vec::new();
        for row in grants {
            let rule = GrantRule {
                account_id: row.account_id,
                role: row.role,
                place: row.place,
                valid_until: row.valid_until,
            };
            if !rule.live_at(self.now) {
                continue;
            }
            if let Some(r) = rule.to_casbin(&tenants) {
                g.push(r);
            }
        }
        Ok((tenants, p, g))
    }

    fn change(
        sec: &str,
        ptype: &str,
        rule: &[String],
        add: bool,
        tenants: &TenantTree,
    ) -> Result<Change> {
        match (sec, ptype) {
            ("p", "p") => {
                let p = PermissionRule::from_casbin(rule, tenants).map_err(AuthzError::Invalid)?;
                Ok(if add {
                    Change::AddPermission(p)
                } else {
                    Change::RemovePermission(p)
                })
            }
            ("g", "g") => {
                let g = GrantRule::from_casbin(rule, tenants).map_err(AuthzError::Invalid)?;
                Ok(if add {
                    Change::Grant {
                        account_id: g.account_id,
                        role: g.role,
                        place: g.place,
                        valid_until: g.valid_until,
                        granted_by: None,
                    }
                } else {
                    Change::RevokeRole {
                        account_id: g.account_id,
                        role: g.role,
                        place: g.place,
                        revoked_by: None,
                    }
                })
            }
            _ => Err(AuthzError::Invalid(format!(
                "policy type {sec}/{ptype}: the Yui model has only p and g"
            ))),
        }
    }

    async fn apply_rules(
        &self,
        sec: &str,
        ptype: &str,
        rules: &[Vec<String>],
        add: bool,
    ) -> Result<bool> {
        let tenants = self.tenants().await?;
        let changes = rules
            .iter()
            .map(|r| Self::change(sec, ptype, r, add, &tenants))
            .collect::<Result<Vec<_>>>()?;
        let outcomes = apply(&self.store, &changes, self.now).await?;
        Ok(outcomes.iter().any(|o| o.changed))
    }
}

/// Whether `rule` matches casbin's filter values from `field_index` on ("" matches all).
fn matches_from(rule: &[String], field_index: usize, values: &[String]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(i, v)| v.is_empty() || rule.get(field_index + i) == Some(v))
}

fn insert_rules(m: &mut dyn Model, sec: &str, rules: Vec<Vec<String>>) {
    for rule in rules {
        m.add_policy(sec, sec, rule);
    }
}

#[async_trait]
impl Adapter for SqlAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        let (_, p, g) = self.rules().await?;
        insert_rules(m, "p", p);
        insert_rules(m, "g", g);
        self.filtered = false;
        Ok(())
    }

    async fn load_filtered_policy<'a>(
        &mut self,
        m: &mut dyn Model,
        f: Filter<'a>,
    ) -> casbin::Result<()> {
        let (_, p, g) = self.rules().await?;
        let fp: Vec<String> = f.p.iter().map(|s| (*s).to_owned()).collect();
        let fg: Vec<String> = f.g.iter().map(|s| (*s).to_owned()).collect();
        let (p_in, p_out): (Vec<_>, Vec<_>) = p.into_iter().partition(|r| matches_from(r, 0, &fp));
        let (g_in, g_out): (Vec<_>, Vec<_>) = g.into_iter().partition(|r| matches_from(r, 0, &fg));
        self.filtered = !p_out.is_empty() || !g_out.is_empty();
        insert_rules(m, "p", p_in);
        insert_rules(m, "g", g_in);
        Ok(())
    }

    /// Makes the tables hold exactly the model's rules: permissions not in it are
    /// removed, grants not in it revoked, and the missing ones added (grants with no
    /// granter), all in one transaction.
    async fn save_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        let tenants = self.tenants().await?;
        let (_, stored_p, stored_g) = self.rules().await?;
        let want_p = m.get_policy("p", "p");
        let want_g = m.get_policy("g", "g");
        let mut changes = Vec::new();
        for r in stored_p.iter().filter(|r| !want_p.contains(r)) {
            changes.push(Self::change("p", "p", r, false, &tenants)?);
        }
        for r in want_p.iter().filter(|r| !stored_p.contains(r)) {
            changes.push(Self::change("p", "p", r, true, &tenants)?);
        }
        // A grant whose end changed is one Grant change (it replaces the old row).
        let key = |r: &Vec<String>| r.iter().take(3).cloned().collect::<Vec<_>>();
        let want_keys: Vec<Vec<String>> = want_g.iter().map(key).collect();
        for r in stored_g.iter().filter(|r| !want_keys.contains(&key(r))) {
            changes.push(Self::change("g", "g", r, false, &tenants)?);
        }
        for r in want_g.iter().filter(|r| !stored_g.contains(r)) {
            changes.push(Self::change("g", "g", r, true, &tenants)?);
        }
        if !changes.is_empty() {
            apply(&self.store, &changes, self.now).await?;
        }
        Ok(())
    }

    async fn clear_policy(&mut self) -> casbin::Result<()> {
        apply(&self.store, &[Change::Clear], self.now).await?;
        Ok(())
    }

    fn is_filtered(&self) -> bool {
        self.filtered
    }

    /// Returns true when the rule is stored afterwards (also when it already was), so
    /// that casbin adds it to its model in step with the database.
    async fn add_policy(
        &mut self,
        sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.apply_rules(sec, ptype, &[rule], true).await?;
        Ok(true)
    }

    async fn add_policies(
        &mut self,
        sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        self.apply_rules(sec, ptype, &rules, true).await?;
        Ok(true)
    }

    async fn remove_policy(
        &mut self,
        sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        Ok(self.apply_rules(sec, ptype, &[rule], false).await?)
    }

    async fn remove_policies(
        &mut self,
        sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        Ok(self.apply_rules(sec, ptype, &rules, false).await?)
    }

    async fn remove_filtered_policy(
        &mut self,
        sec: &str,
        ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> casbin::Result<bool> {
        let (_, p, g) = self.rules().await?;
        let stored = if sec == "p" { p } else { g };
        let doomed: Vec<Vec<String>> = stored
            .into_iter()
            .filter(|r| matches_from(r, field_index, &field_values))
            .collect();
        if doomed.is_empty() {
            return Ok(false);
        }
        Ok(self.apply_rules(sec, ptype, &doomed, false).await?)
    }
}

/// Reads the tenant tree (for building an [`crate::Authz`] by hand).
pub async fn load_tenant_nodes(store: &Store) -> Result<Vec<TenantNode>> {
    stored::tenant_nodes(store).await
}
