//! The outbox worker: claims due rows under a lease, sends them, records the outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use yui_domain::{MailId, TenantId};
use yui_store::{PlatformReason, QueuedMail, Store};

use crate::transport::{SendError, Transport};
use crate::{MailError, Result};

/// How a worker claims, sends and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Rows claimed at once.
    pub batch: u32,
    /// How long a claim holds. Rows of a worker that died become due again after it.
    pub lease: Duration,
    /// The longest one send may take; a send is only started while more than this
    /// is left of the lease, so a lease never runs out under a send in flight.
    pub send_timeout: Duration,
    /// Attempts before a mail is given up as `failed`.
    pub max_attempts: u32,
    /// Delay after the first failed attempt; it doubles with each further one …
    pub backoff_base: Duration,
    /// … up to this.
    pub backoff_max: Duration,
    /// How often an idle worker looks for due rows.
    pub poll_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch: 20,
            lease: Duration::from_secs(300),
            send_timeout: Duration::from_secs(60),
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(5),
        }
    }
}

impl WorkerConfig {
    pub fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(MailError::Config(format!("mail.worker: {m}")));
        if self.batch == 0 {
            return fail("batch must be at least 1");
        }
        if self.max_attempts == 0 {
            return fail("max_attempts must be at least 1");
        }
        if self.send_timeout.is_zero() {
            return fail("send_timeout must be positive");
        }
        if self.lease < self.send_timeout.saturating_mul(2) {
            return fail("lease must be at least twice send_timeout");
        }
        if self.backoff_base.is_zero() || self.backoff_max < self.backoff_base {
            return fail("backoff_base must be positive and at most backoff_max");
        }
        Ok(())
    }

    /// The wait after the `attempt`-th failed attempt (1-based):
    /// `backoff_base · 2^(attempt−1)`, at most `backoff_max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_max)
    }
}

/// Rows one claim took: they are this worker's until `lease_until`.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Proves ownership when recording an outcome.
    pub token: String,
    pub lease_until: DateTime<Utc>,
    /// Ordered by id.
    pub mails: Vec<QueuedMail>,
}

/// What one [`Worker::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed for now, scheduled again.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
    /// Handed back unsent because too little of the lease was left.
    pub released: usize,
    /// Outcomes that could not be recorded because the lease had been taken over
    /// or the database failed.
    pub lost: usize,
}

enum Outcome {
    Sent,
    Retry { at: DateTime<Utc>, error: String },
    Failed { error: String },
}

/// Delivers the outbox. Run one or more per node; they coordinate only through
/// the database, so any number of nodes may run them against one PostgreSQL. Every
/// query is yui-store's, in platform transactions for
/// [`PlatformReason::MailDelivery`].
#[derive(Debug)]
pub struct Worker {
    store: Store,
    transport: Transport,
    node_id: String,
    config: WorkerConfig,
    wake: Arc<Notify>,
}

impl Worker {
    /// `node_id` names this worker in the `claimed_by` column (e.g. host and pid);
    /// it is informational, ownership is the claim token.
    pub fn new(
        store: Store,
        transport: Transport,
        node_id: impl Into<String>,
        config: WorkerConfig,
    ) -> Result<Worker> {
        config.validate()?;
        Ok(Worker {
            store,
            transport,
            node_id: node_id.into(),
            config,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Shares a waker between workers, so one `notify_one()` wakes one of them.
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Worker {
        self.wake = wake;
        self
    }

    /// Call `notify_one()` on it after committing an enqueue to send at once
    /// instead of at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Claims up to `batch` due rows for one lease and counts an attempt on each.
    /// Lower-level than [`run_once`](Worker::run_once); useful to simulate a worker
    /// that dies holding a claim.
    #[tracing::instrument(skip_all, fields(node = %self.node_id), err(level = "warn"))]
    pub async fn claim(&self, now: DateTime<Utc>) -> Result<Claim> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let lease_until = now + delta(self.config.lease);
        // A writing transaction of its own (BEGIN IMMEDIATE on SQLite), committed at
        // once: the claim is what keeps concurrent workers apart.
        let mut tx = self.platform_write().await?;
        let mails = tx
            .claim_mail(
                now,
                i64::from(self.config.batch),
                &self.node_id,
                &token,
                lease_until,
            )
            .await?;
        tx.commit().await?;
        Ok(Claim {
            token,
            lease_until,
            mails,
        })
    }

    /// Claims one batch at `now`, sends it and records each outcome in its own
    /// short transaction right after the send.
    #[tracing::instrument(skip_all, fields(node = %self.node_id), err(level = "warn"))]
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<RunReport> {
        let started = Instant::now();
        let claim = self.claim(now).await?;
        let mut report = RunReport {
            claimed: claim.mails.len(),
            ..RunReport::default()
        };
        let mut unsent = Vec::new();
        for mail in claim.mails {
            let elapsed = started.elapsed();
            if !unsent.is_empty() || elapsed + self.config.send_timeout >= self.config.lease {
                unsent.push(mail.id);
                continue;
            }
            let attempts = u32::try_from(mail.attempts).unwrap_or(u32::MAX);
            let outcome = if attempts > self.config.max_attempts {
                // Claimed again after a worker died during the last allowed attempt.
                Outcome::Failed {
                    error: format!(
                        "gave up: the lease of attempt {} expired without an outcome",
                        attempts - 1
                    ),
                }
            } else {
                let result = match tokio::time::timeout(
                    self.config.send_timeout,
                    self.transport.send(&mail),
                )
                .await
                {
                    Ok(result) => result,
                    Err(_) => Err(SendError::transient(format!(
                        "timed out after {:?}",
                        self.config.send_timeout
                    ))),
                };
                let at = now + delta(started.elapsed());
                match result {
                    Ok(()) => Outcome::Sent,
                    Err(e) if e.permanent => Outcome::Failed { error: e.message },
                    Err(e) if attempts >= self.config.max_attempts => Outcome::Failed {
                        error: format!("gave up after {attempts} attempts: {}", e.message),
                    },
                    Err(e) => Outcome::Retry {
                        at: at + delta(self.config.backoff(attempts)),
                        error: e.message,
                    },
                }
            };
            let at = now + delta(started.elapsed());
            match self.record(&mail, &claim.token, &outcome, at).await {
                Ok(true) => match outcome {
                    Outcome::Sent => report.sent += 1,
                    Outcome::Retry { .. } => report.retried += 1,
                    Outcome::Failed { ref error } => {
                        tracing::warn!(mail_id = mail.id.get(), tenant = mail.tenant_id.map(TenantId::get), %error, "mail given up");
                        report.failed += 1;
                    }
                },
                Ok(false) => {
                    tracing::warn!(
                        mail_id = mail.id.get(),
                        tenant = mail.tenant_id.map(TenantId::get),
                        "the lease on a mail was taken over before its outcome was recorded"
                    );
                    report.lost += 1;
                }
                Err(e) => {
                    tracing::error!(
                        mail_id = mail.id.get(),
                        tenant = mail.tenant_id.map(TenantId::get),
                        error = %e,
                        "cannot record a mail's outcome; it will be tried again after the lease"
                    );
                    report.lost += 1;
                }
            }
        }
        if !unsent.is_empty() {
            report.released = self
                .release(&unsent, &claim.token, now + delta(started.elapsed()))
                .await?;
        }
        if report.claimed > 0 {
            tracing::info!(
                claimed = report.claimed,
                sent = report.sent,
                retried = report.retried,
                failed = report.failed,
                released = report.released,
                lost = report.lost,
                "mail batch done"
            );
        }
        Ok(report)
    }

    /// Records an outcome if this claim still owns the row. A database error is
    /// retried a few times: after a successful send, failing to record means the
    /// mail will be sent again once the lease expires.
    async fn record(
        &self,
        mail: &QueuedMail,
        token: &str,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut delay = Duration::from_millis(100);
        let mut tries = 0;
        loop {
            tries += 1;
            match self.try_record(mail.id, token, outcome, at).await {
                Ok(done) => return Ok(done),
                Err(e) if tries < 3 => {
                    tracing::warn!(mail_id = mail.id.get(), error = %e, "recording a mail's outcome failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn try_record(
        &self,
        id: MailId,
        token: &str,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.platform_write().await?;
        let done = match outcome {
            Outcome::Sent => tx.mark_mail_sent(id, token, at).await?,
            Outcome::Retry { at: next, error } => tx.retry_mail(id, token, *next, error).await?,
            Outcome::Failed { error } => tx.fail_mail(id, token, at, error).await?,
        };
        tx.commit().await?;
        Ok(done)
    }

    /// Hands unsent rows of a claim back, due at once and without the attempt.
    async fn release(&self, ids: &[MailId], token: &str, at: DateTime<Utc>) -> Result<usize> {
        let mut tx = self.platform_write().await?;
        let released = tx.release_mail(ids, token, at).await?;
        tx.commit().await?;
        Ok(usize::try_from(released).unwrap_or(0))
    }

    /// A short writing transaction across tenants: the outbox holds every tenant's mail.
    async fn platform_write(&self) -> Result<yui_store::PlatformTx> {
        Ok(self
            .store
            .platform(PlatformReason::MailDelivery)
            .write()
            .await?)
    }

    /// Works until `shutdown` completes: a batch, then (unless the batch was
    /// full) a wait for the poll interval or the [`waker`](Worker::waker). A batch
    /// in progress is finished before stopping. `clock` gives the time of each
    /// batch; the binary passes the wall clock, tests a fake one.
    pub async fn run<C, S>(self, clock: C, shutdown: S)
    where
        C: Fn() -> DateTime<Utc>,
        S: Future<Output = ()>,
    {
        tokio::pin!(shutdown);
        tracing::info!(node = %self.node_id, transport = %self.transport.describe(), "mail worker started");
        loop {
            // An error is logged by run_once's span; wait a poll and try again.
            let full = self
                .run_once(clock())
                .await
                .is_ok_and(|r| r.claimed >= self.config.batch as usize);
            if full {
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = std::future::ready(()) => continue,
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        tracing::info!(node = %self.node_id, "mail worker stopped");
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WorkerConfig {
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(300),
            ..WorkerConfig::default()
        };
        let secs: Vec<u64> = (1..=6).map(|n| c.backoff(n).as_secs()).collect();
        assert_eq!(secs, [60, 120, 240, 300, 300, 300]);
        assert_eq!(c.backoff(u32::MAX).as_secs(), 300);
    }

    #[test]
    fn config_is_checked() {
        assert!(WorkerConfig::default().validate().is_ok());
        let short_lease = WorkerConfig {
            lease: Duration::from_secs(60),
            ..WorkerConfig::default()
        };
        assert!(short_lease.validate().is_err());
        let no_attempts = WorkerConfig {
            max_attempts: 0,
            ..WorkerConfig::default()
        };
        assert!(no_attempts.validate().is_err());
    }
}
