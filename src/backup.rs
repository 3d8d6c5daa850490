//! `yui backup` and `yui restore`: a consistent copy of the database taken while the
//! platform serves, and bringing one back.
//!
//! SQLite: the online backup API (in `yui_store::backup`); a restore refuses while
//! the database is open anywhere, so the server is stopped first. PostgreSQL: the
//! server's own tools, `pg_dump --format=custom` and `pg_restore`, which a
//! PostgreSQL operator already knows and trusts; a restore refuses while other
//! sessions are connected to the database.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use yui_store::backup::{self, BackupPace};
use yui_store::{Backend, ConnectSettings, Store};

use crate::config::Config;

/// Copies the configured database to `dest` (a new file).
pub async fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        bail!("{} exists already; name a new file", dest.display());
    }
    match Backend::from_url(&config.database_url)? {
        Backend::Sqlite => {
            let source = backup::sqlite_path(&config.database_url)?;
            let report = backup::backup_sqlite(&source, dest, BackupPace::default()).await?;
            println!(
                "backed up {} to {} ({} pages, {} restarts, {:.2} s)",
                source.display(),
                dest.display(),
                report.pages,
                report.restarts,
                report.elapsed.as_secs_f64()
            );
        }
        Backend::Postgres => {
            let conn = Libpq::from_url(&config.database_url)?;
            // Written beside the destination and renamed once pg_dump succeeded, so a
            // failed dump never leaves a file that looks like a backup.
            let partial = partial_path(dest);
            let mut cmd = conn.command("pg_dump");
            cmd.arg("--format=custom")
                .arg("--no-password")
                .arg("--file")
                .arg(&partial)
                .arg("--dbname")
                .arg(&conn.url);
            let run = run_tool(cmd, "pg_dump");
            if let Err(e) = run.and_then(|()| {
                std::fs::rename(&partial, dest)
                    .with_context(|| format!("moving the dump to {}", dest.display()))
            }) {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            println!(
                "backed up {} to {} (pg_dump, custom format)",
                crate::config::redact_url(&config.database_url),
                dest.display()
            );
        }
    }
    Ok(())
}

/// Replaces the configured database with the backup at `from`.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("no backup file at {}", from.display());
    }
    match Backend::from_url(&config.database_url)? {
        Backend::Sqlite => {
            let target = backup::sqlite_path(&config.database_url)?;
            let report = backup::restore_sqlite(from, &target).await?;
            println!(
                "restored {} into {} ({} migrations)",
                from.display(),
                target.display(),
                report.migrations
            );
            if let Some(previous) = report.previous {
                println!("the database it replaced is kept as {}", previous.display());
            }
        }
        Backend::Postgres => {
            let settings = ConnectSettings {
                max_connections: 1,
                ..ConnectSettings::default()
            };
            let store = Store::connect(&config.database_url, &settings).await?;
            let others = store.other_sessions().await;
            store.close().await;
            if let Some(n) = others?.filter(|n| *n > 0) {
                bail!(
                    "the database is in use ({n} other sessions are connected); stop every `yui serve` on it, then restore"
                );
            }
            // The dump's migrations, read without a database: a dump this release
            // cannot serve is refused before anything is dropped.
            let applied = dump_migrations(from)?;
            backup::check_postgres_dump(&applied)?;
            let conn = Libpq::from_url(&config.database_url)?;
            let mut cmd = conn.command("pg_restore");
            // One transaction: the database is either restored whole or left as it was.
            cmd.arg("--clean")
                .arg("--if-exists")
                .arg("--single-transaction")
                .arg("--exit-on-error")
                .arg("--no-password")
                .arg("--dbname")
                .arg(&conn.url)
                .arg(from);
            run_tool(cmd, "pg_restore")?;
            let store = Store::connect(&config.database_url, &settings).await?;
            let known = store.check_migrations_known().await;
            store.close().await;
            let n = known.context(
                "restored, but this release of yui cannot serve the result; restore the same backup with the release that made it",
            )?;
            println!(
                "restored {} into {} ({n} migrations)",
                from.display(),
                crate::config::redact_url(&config.database_url)
            );
        }
    }
    Ok(())
}

/// The applied migrations in a custom-format dump (version, checksum), as
/// `pg_restore` prints the table's rows when given no database.
fn dump_migrations(dump: &Path) -> anyhow::Result<Vec<(i64, Vec<u8>)>> {
    let mut cmd = Command::new("pg_restore");
    cmd.args(["--data-only", "--table=_sqlx_migrations", "--file=-"])
        .arg(dump)
        .stdin(std::process::Stdio::null());
    let out = run_tool_output(cmd, "pg_restore")?;
    parse_copy_migrations(&String::from_utf8_lossy(&out))
}

/// The rows of `COPY public._sqlx_migrations (…) FROM stdin;` in pg_restore's script.
fn parse_copy_migrations(script: &str) -> anyhow::Result<Vec<(i64, Vec<u8>)>> {
    let mut lines = script.lines();
    let Some(header) = lines
        .by_ref()
        .find(|l| l.starts_with("COPY ") && l.contains("_sqlx_migrations"))
    else {
        bail!("the file is not a dump of a Yui database (no migrations table in it)");
    };
    let columns: Vec<&str> = header
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(cols, _)| cols.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let at = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .with_context(|| format!("the dump's migrations table has no {name} column"))
    };
    let (version, success, checksum) = (at("version")?, at("success")?, at("checksum")?);
    let mut applied = Vec::new();
    for line in lines.take_while(|l| *l != "\\.") {
        let fields: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default();
        if field(success) != "t" {
            continue;
        }
        let v: i64 = field(version)
            .parse()
            .with_context(|| format!("a migration version in the dump: {:?}", field(version)))?;
        // bytea in COPY's text form: `\\x` and hex digits.
        let hex = field(checksum).trim_start_matches("\\\\x");
        applied.push((
            v,
            decode_hex(hex).context("a migration checksum in the dump")?,
        ));
    }
    Ok(applied)
}

fn decode_hex(hex: &str) -> anyhow::Result<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        bail!("odd number of hex digits");
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .context("not hex")
        })
        .collect()
}

fn partial_path(dest: &Path) -> std::path::PathBuf {
    let mut s: OsString = dest.as_os_str().to_owned();
    s.push(format!(".partial-{}", std::process::id()));
    s.into()
}

fn run_tool(cmd: Command, name: &str) -> anyhow::Result<()> {
    run_tool_output(cmd, name).map(|_| ())
}

/// Runs a PostgreSQL tool; its standard output, or an error with what it said.
fn run_tool_output(mut cmd: Command, name: &str) -> anyhow::Result<Vec<u8>> {
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{name} is not installed (Debian: apt-get install postgresql-client)")
        }
        Err(e) => return Err(e).with_context(|| format!("running {name}")),
    };
    if !out.status.success() {
        bail!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// A database URL as libpq's tools take it: the password moved out of the command
/// line (where `ps` shows it to every user) into `PGPASSWORD`.
struct Libpq {
    url: String,
    password: Option<String>,
}

impl Libpq {
    fn from_url(raw: &str) -> anyhow::Result<Libpq> {
        let mut url = url::Url::parse(raw).context("database_url")?;
        let password = url.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        if password.is_some() && url.set_password(None).is_err() {
            bail!("database_url: cannot take the password out of it");
        }
        Ok(Libpq {
            url: url.to_string(),
            password,
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.stdin(std::process::Stdio::null());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::{Libpq, parse_copy_migrations};

    #[test]
    fn migrations_are_read_from_a_dump_script() {
        let script = "SET x = 1;\n\
            COPY public._sqlx_migrations (version, description, installed_on, success, checksum, execution_time) FROM stdin;\n\
            1\ttenants\t2026-12-01 13:51:45+00\tt\t\\\\x1da5ff\t99\n\
            2\tbroken\t2026-12-01 13:51:45+00\tf\t\\\\x00\t1\n\
            3\tauthz\t2026-12-01 13:51:45+00\tt\t\\\\x0a\t2\n\
            \\.\n\nSELECT 1;\n";
        let applied = parse_copy_migrations(script).unwrap();
        assert_eq!(applied, vec![(1, vec![0x1d, 0xa5, 0xff]), (3, vec![0x0a])]);
        assert!(parse_copy_migrations("SELECT 1;\n").is_err());
    }

    #[test]
    fn the_password_leaves_the_command_line() {
        let c =
            Libpq::from_url("postgres://yui:p%40ss@db.internal:5433/yui?sslmode=require").unwrap();
        assert_eq!(c.url, "postgres://yui@db.internal:5433/yui?sslmode=require");
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        let c = Libpq::from_url("postgres://postgres@127.0.0.1/x").unwrap();
        assert_eq!(c.password, None);
    }
}
