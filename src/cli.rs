//! The `yui` command line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use yui_store::{AccountsTx, ApplyOutcome, AuditTx, ConnectSettings, PlatformReason, Store};

use crate::config::{Config, Overrides};
use crate::{demo, telemetry, tenants};

#[derive(Debug, Parser)]
#[command(
    name = "yui",
    version,
    about = "Yui (結): regional side-job programs on one platform"
)]
struct Cli {
    /// Configuration file (default: ./yui.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://… or postgres://… [env: YUI_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, apply every tenant folder, and serve the platform.
    Serve {
        /// Address to listen on [env: YUI_ADDR] (default 127.0.0.1:8080).
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<String>,
        /// Load the demo content (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Bootstrap platform operators and grant roles.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The matching engine.
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
    /// Certificates of activity.
    Certificates {
        #[command(subcommand)]
        command: CertificatesCommand,
    },
    /// Copy the database to a new file while the platform keeps serving.
    /// SQLite: SQLite's online backup API, one consistent state. PostgreSQL:
    /// `pg_dump --format=custom` (pg_dump must be installed).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Replace the database with a backup. Stop every `yui serve` on the database
    /// first: the restore refuses while the database is in use. SQLite: the backup
    /// is checked (integrity, migrations known to this release) and swapped in with
    /// one rename; the replaced file is kept as `<name>.pre-restore`. PostgreSQL:
    /// `pg_restore --clean --if-exists --single-transaction` into the configured
    /// (existing, possibly empty) database.
    Restore {
        /// A file made by `yui backup`.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum CertificatesCommand {
    /// Make a new Ed25519 key sign new certificates; the old key retires and keeps
    /// verifying the certificates it signed.
    RotateKey,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create or update tenants from their folders (idempotent).
    Apply {
        /// Tenant folders, e.g. tenants/iwate.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Print the keys the files would change (key: old → new) and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a stored tenant back as its folder: tenant.toml and the logo.
    Export {
        /// Tenant slug, e.g. iwate.
        slug: String,
        /// The folder to write (default: ./<slug>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List the tenants in the database.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Make an account (created when missing) a platform operator.
    CreateOperator {
        #[arg(long)]
        email: String,
    },
    /// Grant a role in a tenant to an existing account.
    Grant {
        #[arg(long)]
        email: String,
        /// Tenant slug, e.g. iwate.
        #[arg(long)]
        tenant: String,
        /// tenant_admin, coordinator, municipal_staff, mentor, host_member or talent.
        #[arg(long)]
        role: String,
        /// Last day the role works (YYYY-MM-DD, Japan time), e.g. the fiscal year's end.
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
        /// Grant it on the tenant's child tenants (aggregate reads) instead.
        #[arg(long)]
        children: bool,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum MatchCommand {
    /// Read a round instance as JSON on stdin; write the talent-optimal stable matching.
    Solve,
    /// Read {"instance": …, "assignments": […]} on stdin; list blocking pairs and violations.
    Check,
}

/// The one place the program reads the clock; everything below takes the time as a parameter.
#[allow(clippy::disallowed_methods)]
fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

/// Runs the program; errors are printed as one line and turned into exit codes.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Match { command } => run_match(command),
        command => {
            let overrides = Overrides {
                database_url: cli.database_url,
                addr: match &command {
                    Command::Serve { addr, .. } => addr.clone(),
                    _ => None,
                },
            };
            let config = match Config::load(cli.config.as_deref(), &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let _telemetry = telemetry::init(config.log_format, &config.log);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(run_with_config(command, config));
            drop(runtime);
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn connect(config: &Config, migrate: bool) -> anyhow::Result<Store> {
    let settings = ConnectSettings {
        max_connections: config.db_max_connections,
        ..ConnectSettings::default()
    };
    let store = Store::connect(&config.database_url, &settings).await?;
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

async fn run_with_config(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => {
            connect(&config, true).await?.close().await;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Apply { dirs, dry_run },
        } => {
            let store = connect(&config, config.migrate_on_start).await?;
            let previews = tenants::preview(&store, &dirs).await;
            let previews = match previews {
                Ok(p) => p,
                Err(e) => {
                    store.close().await;
                    return Err(e.into());
                }
            };
            if dry_run {
                store.close().await;
                for p in &previews {
                    for line in p.lines() {
                        println!("{line}");
                    }
                }
                return Ok(());
            }
            // Settings edited in pages are about to be replaced by the files' values:
            // say which, on stderr, so an operator sees it even when stdout is parsed.
            for warning in previews.iter().filter_map(tenants::Preview::warning) {
                eprintln!("{warning}");
            }
            let result = tenants::apply(&store, &dirs, now()).await;
            store.close().await;
            for (slug, outcome) in result? {
                let what = match outcome {
                    ApplyOutcome::Created => "created",
                    ApplyOutcome::Updated => "updated",
                    ApplyOutcome::Unchanged => "unchanged",
                };
                println!("{slug}: {what}");
            }
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Export { slug, out },
        } => {
            let store = connect(&config, config.migrate_on_start).await?;
            let dir = out.unwrap_or_else(|| PathBuf::from(&slug));
            let result = tenants::export(&store, &slug, &dir).await;
            store.close().await;
            for path in result? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::List { json },
        } => {
            let store = connect(&config, config.migrate_on_start).await?;
            let list = store.list_tenants().await;
            store.close().await;
            print_tenants(&list?, json)
        }
        Command::Admin { command } => {
            let store = connect(&config, config.migrate_on_start).await?;
            let result = admin(&store, command).await;
            store.close().await;
            result
        }
        // Handled in `run` before any configuration is read.
        Command::Match { .. } => Ok(()),
        Command::Backup { path } => crate::backup::backup(&config, &path).await,
        Command::Restore { path } => crate::backup::restore(&config, &path).await,
        Command::Certificates {
            command: CertificatesCommand::RotateKey,
        } => {
            let store = connect(&config, config.migrate_on_start).await?;
            let result =
                yui_web::features::certificates::rotate_signing_key(&store, rand::random(), now())
                    .await;
            store.close().await;
            println!("new signing key: {}", result?);
            Ok(())
        }
    }
}

async fn admin(store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    use yui_authz::{NewGrant, Role, Scope};
    use yui_domain::account::Email;
    use yui_domain::audit::AuditAction;
    let now = now();
    let (email, role, scope, tenant, until) = match &command {
        AdminCommand::CreateOperator { email } => {
            (email, Role::PlatformOperator, Scope::Global, None, None)
        }
        AdminCommand::Grant {
            email,
            tenant,
            role,
            until,
            children,
        } => {
            let role = Role::parse(role).filter(|r| *r != Role::PlatformOperator).ok_or_else(|| {
                anyhow::anyhow!("--role: unknown role {role:?}; use tenant_admin, coordinator, municipal_staff, mentor, host_member or talent")
            })?;
            let until = match until {
                Some(d) => Some(
                    yui_domain::fiscal::after_day_in_tokyo(*d)
                        .ok_or_else(|| anyhow::anyhow!("--until: {d} is out of range"))?,
                ),
                None => None,
            };
            let scope = if *children {
                Scope::Children
            } else {
                Scope::Tenant
            };
            (email, role, scope, Some(tenant.clone()), until)
        }
    };
    let email = Email::parse("email", email)
        .map_err(|_| anyhow::anyhow!("--email: {email:?} is not an email address"))?;
    let tenant_id = match &tenant {
        Some(slug) => match store.tenant_by_slug(slug).await {
            Ok(t) => Some(t.id),
            Err(yui_store::StoreError::NotFound) => anyhow::bail!("--tenant: no tenant {slug:?}"),
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let mut tx = store.platform(PlatformReason::Admin).write().await?;
    let (account, verified) = match (tx.account_by_email(&email).await?, &command) {
        (Some(a), _) => (a.id, a.email_verified_at.is_some()),
        (None, AdminCommand::CreateOperator { .. }) => {
            let new = yui_store::NewAccount {
                email: &email,
                display_name: "",
                password_hash: None,
                locale: yui_domain::Locale::Ja,
            };
            let id = tx.create_account(new, now).await?;
            println!("created account {id} for {email}");
            (id, false)
        }
        (None, _) => {
            anyhow::bail!("--email: no account with address {email}; it must sign up first",)
        }
    };
    tx.commit().await?;
    if !verified {
        // Whoever registered an address may not be able to read its mail: a role
        // waits until the mailbox's owner has proved it.
        anyhow::bail!(
            "--email: {email} has not confirmed its address yet, so no role is given to it; \
             the person signs in once with a link sent by mail (/magic), which confirms it, \
             then run this command again"
        );
    }
    let grant = yui_authz::grant(
        store,
        &NewGrant {
            account_id: account,
            role,
            scope,
            tenant: tenant.clone(),
            valid_until: until,
            granted_by: None,
        },
        now,
    )
    .await?;
    let detail = serde_json::json!({
        "account": account, "role": role.as_str(), "scope": scope.as_str(), "until": until, "by": "cli",
    });
    let entry = yui_store::AuditEntry {
        actor_id: None,
        action: AuditAction::RoleGranted,
        detail,
        ip: String::new(),
    };
    match tenant_id {
        Some(t) => {
            let mut tx = store.tenant(t).write().await?;
            tx.audit(&entry, now).await?;
            tx.commit().await?;
        }
        None => {
            let mut tx = store.platform(PlatformReason::Admin).write().await?;
            tx.audit(&entry, now).await?;
            tx.commit().await?;
        }
    }
    // A children grant reaches the tenant's children, not the tenant itself: saying
    // "in iwate" would make the operator believe iwate's own pages are open to it.
    let place = match (tenant.as_deref(), scope) {
        (Some(slug), Scope::Children) => format!("the child tenants of {slug}"),
        (Some(slug), _) => slug.to_owned(),
        (None, _) => "the whole platform".to_owned(),
    };
    println!(
        "granted {} to {} in {}{}",
        role.as_str(),
        email,
        place,
        grant
            .valid_until
            .map(|u| format!(" until {}", u.with_timezone(&yui_domain::fiscal::tokyo())))
            .unwrap_or_default()
    );
    Ok(())
}

fn print_tenants(list: &[yui_store::TenantRecord], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|r| {
                serde_json::json!({
                    "slug": r.tenant.slug, "kind": r.tenant.kind.as_str(), "code": r.tenant.code,
                    "parent": r.tenant.parent, "name_ja": r.tenant.name.ja, "name_en": r.tenant.name.en,
                    "status": r.status.as_str(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        writeln!(
            out,
            "{:<12} {:<13} {:<7} {:<12} {:<10} NAME",
            "SLUG", "KIND", "CODE", "PARENT", "STATUS"
        )?;
        for r in list {
            let t = &r.tenant;
            writeln!(
                out,
                "{:<12} {:<13} {:<7} {:<12} {:<10} {} / {}",
                t.slug,
                t.kind.as_str(),
                t.code.as_ref().map_or("-", |c| c.as_str()),
                t.parent.as_deref().unwrap_or("-"),
                r.status.as_str(),
                t.name.ja,
                t.name.en
            )?;
        }
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let store = connect(&config, config.migrate_on_start).await?;
    if config.tenants_dir.is_dir() {
        let dirs = tenants::folders(&config.tenants_dir)?;
        let (applied, held) = tenants::apply_keeping_page_edits(&store, &dirs, now()).await?;
        for p in &held {
            tracing::warn!(
                tenant = %p.slug,
                keys = ?p.overwrites,
                "tenant file not applied: it would overwrite settings edited in pages; run `yui tenant apply` to overwrite them or `yui tenant export` to keep them"
            );
        }
        for (slug, outcome) in applied {
            tracing::info!(tenant = %slug, ?outcome, "tenant applied");
        }
    } else {
        tracing::warn!(dir = %config.tenants_dir.display(), "no tenants folder; serving without tenant files");
    }
    if demo {
        let n = demo::load(&store, &config.tenants_dir, now()).await?;
        tracing::info!(tenants = n, "demo content loaded");
        let accounts = demo::load_accounts(&store, now()).await?;
        tracing::info!(password = demo::DEMO_PASSWORD, accounts = %accounts.join(", "), "demo accounts ready");
        let hosts = demo::load_hosts(&store, &config.tenants_dir, now()).await?;
        let talents = demo::load_talents(&store, now()).await?;
        tracing::info!(
            hosts,
            talents_created = talents,
            "demo hosts, projects and talents ready"
        );
        let events = demo::load_events(&store, now()).await?;
        tracing::info!(events_created = events, "demo programs and events ready");
        let rounds = demo::load_rounds(&store, now()).await?;
        tracing::info!(rounds_created = rounds, "demo matching rounds ready");
        let engagements = demo::load_engagements(&store, now()).await?;
        tracing::info!(
            engagements_started = engagements,
            "demo engagements, case studies and key figures ready"
        );
    }
    let templates = yui_mail::Templates::load(Some(&config.tenants_dir))?;
    let outbox = yui_mail::Outbox::new(templates, config.mail.default_sender()?)?;
    let worker_config = config.mail.worker_config()?;
    let node = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "yui".to_owned()),
        std::process::id()
    );
    let (stop_mail, mail_stopping) = tokio::sync::watch::channel(false);
    let mail_waker = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut mail_workers = Vec::new();
    for n in 0..config.mail.worker.workers.max(1) {
        let worker = yui_mail::Worker::new(
            store.clone(),
            config.mail.transport()?,
            format!("{node}-{n}"),
            worker_config.clone(),
        )?
        .with_waker(mail_waker.clone());
        let mut stopping = mail_stopping.clone();
        mail_workers.push(tokio::spawn(worker.run(now, async move {
            let _ = stopping.wait_for(|s| *s).await;
        })));
    }
    tracing::info!(transport = ?config.mail.transport, workers = mail_workers.len(), "mail workers started");
    let settings = yui_web::WebSettings {
        public_url: config.public_url.clone(),
        secure_cookies: config.public_url.starts_with("https://"),
        trusted_proxies: config.trusted_proxies()?,
        shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
        newsletter_per_minute: config.newsletter_per_minute.max(1),
        certificate_key: config.certificate_key()?,
        metrics_token: config.metrics_token()?,
        ..yui_web::WebSettings::default()
    };
    let clock: yui_web::Clock = std::sync::Arc::new(now);
    let authz = yui_authz::SharedAuthz::new(yui_authz::Authz::load(&store, now()).await?);
    // Role changes made on other nodes arrive within a second.
    let refresher = authz.spawn_refresher(store.clone(), Duration::from_millis(500), now);
    let state =
        yui_web::AppState::with_settings(store.clone(), authz, outbox, settings, clock, mail_waker)
            .context("building the web application")?;
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?store.backend(), "listening on http://{addr}");

    // The server drains for the grace period first, then waits for requests in flight.
    let grace = Duration::from_secs(config.shutdown_grace_secs)
        + Duration::from_secs(config.shutdown_timeout_secs);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(yui_web::serve(listener, state, async move {
        shutdown_signal().await;
        tracing::info!(
            "shutting down: /readyz answers 503; new connections end after the grace period; finishing requests in flight"
        );
        let _ = stopping_tx.send(());
    }));
    let mut server = server;
    tokio::select! {
        res = &mut server => res??,
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(seconds = grace.as_secs(), "requests still in flight after the grace period; stopping");
            server.abort();
        }
    }
    refresher.abort();
    refresher.abort();
    let _ = stop_mail.send(true);
    for w in mail_workers {
        let _ = w.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn run_match(command: MatchCommand) -> ExitCode {
    let input = match read_stdin() {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: cannot read stdin: {e}");
            return ExitCode::from(2);
        }
    };
    let (out, code) = match command {
        MatchCommand::Solve => match yui_match::cli::solve_line(&input) {
            Ok(line) => (line, ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        MatchCommand::Check => match yui_match::cli::check_json(&input) {
            Ok(outcome) => {
                let mut line = outcome.json.into_bytes();
                line.push(b'\n');
                let code = if outcome.ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                };
                (line, code)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    code
}

/// All of stdin as text. Read through a duplicate of the descriptor as a `File`, so a
/// redirected file is read in one go into a buffer of its size (a round can be tens of
/// megabytes) rather than through stdin's small buffer and repeated growth.
fn read_stdin() -> std::io::Result<String> {
    let mut bytes = Vec::new();
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let mut file = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        file.read_to_end(&mut bytes)?;
    }
    #[cfg(not(unix))]
    std::io::stdin().lock().read_to_end(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}
