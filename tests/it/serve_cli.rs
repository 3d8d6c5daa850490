//! The `yui` binary as an operator runs it: `serve`, `tenant`, configuration errors,
//! graceful shutdown, OTLP export.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{Backend, TestDb, repo_tenants};

fn yui(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yui"));
    cmd.current_dir(cwd)
        .env_remove("YUI_DATABASE_URL")
        .env_remove("YUI_ADDR")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("YUI_TENANTS_DIR", repo_tenants())
        .env("RUST_LOG", "info")
        // Stop at once; the drain test sets its own grace period.
        .env("YUI_SHUTDOWN_GRACE_SECS", "0")
        .stdin(Stdio::null());
    cmd
}

/// A running `yui serve`, its address read from the "listening" log line.
struct Server {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("yui serve did not start; it said:\n{}", seen.join("\n"));
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap().to_owned();
                return Server {
                    child,
                    addr,
                    lines: rx,
                };
            }
            seen.push(line);
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM and returns the exit status and the remaining log lines.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        (status, self.lines.try_iter().collect())
    }
}

#[tokio::test]
async fn serve_with_no_configuration_creates_yui_db_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    assert!(
        tmp.path().join("yui.db").is_file(),
        "yui.db created in the working directory"
    );
    let body = reqwest::get(server.url("/t/iwate/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("岩手県"));
    assert_eq!(
        reqwest::get(server.url("/readyz")).await.unwrap().status(),
        200
    );
    // The demo's hosts and projects: the seed hosts' open projects are public.
    let projects = |server: &Server| {
        let url = server.url("/api/v1/tenants/iwate/projects");
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Vec<serde_json::Value>>()
                .await
                .unwrap()
        }
    };
    let first = projects(&server).await;
    assert!(
        first
            .iter()
            .any(|p| p["host"]["name"] == "かんたはうす運営組合"),
        "{first:?}"
    );
    let (status, lines) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(lines.iter().any(|l| l.contains("stopped")), "{lines:?}");

    // Demo and tenant apply are idempotent: a second start changes nothing.
    let mut cmd = yui(tmp.path());
    cmd.args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    let list: Vec<serde_json::Value> = reqwest::get(server.url("/api/v1/tenants"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(projects(&server).await, first, "no project twice");
    assert!(server.terminate().0.success());
}

#[tokio::test]
async fn serve_on_postgres_behaves_the_same() {
    let Some(db) = TestDb::create_empty(Backend::Postgres).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.env("YUI_DATABASE_URL", &db.url)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    assert!(!tmp.path().join("yui.db").exists());
    let body = reqwest::get(server.url("/t/amami/?lang=en"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Amami"));
    assert!(server.terminate().0.success());

    // As ops/README.md describes: migrations as the owner, the node as a role that owns
    // nothing and cannot bypass row-level security, skipping migrations at start.
    db.app_store().await.close().await;
    let out = yui(tmp.path())
        .env("YUI_DATABASE_URL", &db.url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut cmd = yui(tmp.path());
    cmd.env("YUI_DATABASE_URL", db.app_url())
        .env("YUI_MIGRATE_ON_START", "false")
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    let body = reqwest::get(server.url("/t/iwate/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("遠恋複業 — 岩手と首都圏をつなぐ複業"),
        "the introduction is read through row-level security"
    );
    assert!(server.terminate().0.success());
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    // Open a connection and send half a request, so it is in flight at SIGTERM.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Long enough for the server to have accepted the connection even on a busy machine.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let mut server = server;
    assert!(server.child.wait().unwrap().success());
}

/// From SIGTERM on, `/readyz` answers 503 while the node still serves requests for
/// its grace period, so a balancer stops sending before connections are refused.
#[tokio::test]
async fn readyz_answers_503_while_draining_after_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.env("YUI_SHUTDOWN_GRACE_SECS", "3")
        .args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let pid = server.child.id().to_string();
    let started = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // New connections too: a balancer's next probe opens one.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let res = fresh.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "draining"
    );
    // …while requests are still answered.
    assert_eq!(
        fresh
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = fresh.get(server.url("/signup")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut server = server;
    assert!(server.child.wait().unwrap().success());
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "stopped after the grace period, not before: {:?}",
        started.elapsed()
    );
}

/// Deleting the SQLite file under a running server: `/readyz` says so and a sign-up
/// answers an error page instead of succeeding into the deleted file (old
/// connections) or into a new empty one (new connections).
#[tokio::test]
async fn a_deleted_database_file_is_noticed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A sign-up opens pooled connections that stay idle afterwards.
    let signup = |email: &'static str| {
        let client = client.clone();
        let url = server.url("/signup");
        async move {
            crate::support::Page::get(&client, &url)
                .await
                .form("/signup")
                .set("display_name", "Deleted")
                .set("email", email)
                .set("password", "a passphrase long enough")
                .set("password_confirm", "a passphrase long enough")
                .submit(&client)
                .await
        }
    };
    assert_eq!(signup("before@example.jp").await.status(), 303);
    let page = crate::support::Page::get(&client, &server.url("/signup")).await;
    for file in ["yui.db", "yui.db-wal", "yui.db-shm"] {
        let _ = std::fs::remove_file(tmp.path().join(file));
    }
    let res = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "unavailable"
    );
    let res = page
        .form("/signup")
        .set("display_name", "Lost")
        .set("email", "lost@example.jp")
        .set("password", "a passphrase long enough")
        .set("password_confirm", "a passphrase long enough")
        .submit(&client)
        .await;
    assert_eq!(
        res.status(),
        503,
        "not a silent success into a deleted file"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        !tmp.path().join("yui.db").exists(),
        "no new empty database appears"
    );
    // A file put back in its place (another database) is not taken for the old one.
    std::fs::write(tmp.path().join("yui.db"), b"").unwrap();
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    assert!(server.terminate().0.success());
}

fn run_failing(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_database_urls_give_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let err = run_failing(yui(tmp.path()).args([
        "serve",
        "--database-url",
        "postgres://yui:secret@127.0.0.1:1/yui",
    ]));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot connect to PostgreSQL at 127.0.0.1:1 (database yui)"),
        "{err}"
    );
    assert!(!err.contains("secret"));

    let err = run_failing(
        yui(tmp.path())
            .env("YUI_DATABASE_URL", "mysql://localhost/yui")
            .arg("serve"),
    );
    assert_eq!(
        err.trim(),
        "error: database_url: unsupported scheme \"mysql\"; use sqlite://… or postgres://…"
    );

    let err = run_failing(yui(tmp.path()).args([
        "migrate",
        "--database-url",
        "sqlite:///nonexistent-dir/x/yui.db",
    ]));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot open SQLite database"), "{err}");
}

#[test]
fn unknown_configuration_keys_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("yui.toml"),
        "addr = \"127.0.0.1:0\"\ndatabase_ur = \"sqlite://x.db\"\n",
    )
    .unwrap();
    let err = run_failing(yui(tmp.path()).arg("serve"));
    assert!(err.contains("database_ur"), "{err}");
    assert!(!tmp.path().join("x.db").exists() && !tmp.path().join("yui.db").exists());

    let other = tempfile::tempdir().unwrap();
    let err = run_failing(yui(other.path()).env("YUI_LISTEN", "x").arg("serve"));
    assert!(err.contains("listen"), "{err}");
    let err = run_failing(yui(other.path()).args(["serve", "--config", "missing.toml"]));
    assert!(err.contains("missing.toml does not exist"), "{err}");
}

#[test]
fn tenant_apply_and_list_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let apply = |dirs: &[&str]| {
        let mut cmd = yui(tmp.path());
        cmd.args(["tenant", "apply"]);
        for d in dirs {
            cmd.arg(repo_tenants().join(d));
        }
        cmd.output().unwrap()
    };
    let out = apply(&["ichinoseki"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ichinoseki/tenant.toml: parent: tenant \"iwate\" does not exist"),
        "{err}"
    );

    let out = apply(&["iwate", "ichinoseki"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "iwate: created\nichinoseki: created\n"
    );
    let out = apply(&["iwate", "ichinoseki"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "iwate: unchanged\nichinoseki: unchanged\n"
    );

    let out = yui(tmp.path()).args(["tenant", "list"]).output().unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("iwate")
            && table.contains("030007")
            && table.contains("一関市 / Ichinoseki City"),
        "{table}"
    );
    let out = yui(tmp.path())
        .args(["tenant", "list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["parent"], "iwate");
}

/// A minimal OTLP/HTTP collector: accepts POSTs and hands their paths and bodies over.
async fn otlp_sink() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    use axum::body::Bytes;
    use axum::http::Uri;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((uri.path().to_owned(), body.to_vec()));
            ""
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rx)
}

#[tokio::test]
async fn spans_are_exported_over_otlp_when_an_endpoint_is_set() {
    let (endpoint, mut received) = otlp_sink().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    assert_eq!(
        reqwest::get(server.url("/t/kamaishi/"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(server.terminate().0.success());
    let mut bodies = Vec::new();
    while let Ok(Some((path, body))) =
        tokio::time::timeout(Duration::from_secs(5), received.recv()).await
    {
        assert_eq!(path, "/v1/traces");
        bodies.push(body);
        let all: Vec<u8> = bodies.concat();
        if contains(&all, b"GET /t/{slug}/") && contains(&all, b"kamaishi") {
            return;
        }
    }
    panic!("no span named by its route with the tenant reached the collector");
}

#[tokio::test]
async fn an_unreachable_collector_does_not_hold_up_start_or_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = yui(tmp.path());
    // Nothing listens on port 9 (discard) here: every export fails.
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(cmd);
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
    assert!(server.terminate().0.success());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn migrate_runs_separately_when_serve_may_not_migrate() {
    let tmp = tempfile::tempdir().unwrap();
    let list = |dir: &Path| {
        yui(dir)
            .env("YUI_MIGRATE_ON_START", "false")
            .args(["tenant", "list"])
            .output()
            .unwrap()
    };
    let out = list(tmp.path());
    assert_eq!(out.status.code(), Some(1), "no schema yet: {out:?}");
    assert!(yui(tmp.path()).arg("migrate").status().unwrap().success());
    let out = list(tmp.path());
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn json_log_lines_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = yui(tmp.path())
        .env("YUI_LOG_FORMAT", "json")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "database is up to date"),
        "{stderr}"
    );
}

#[tokio::test]
async fn admin_bootstrap_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let apply = yui(tmp.path())
        .args(["tenant", "apply"])
        .arg(repo_tenants().join("iwate"))
        .arg(repo_tenants().join("kamaishi"))
        .output()
        .unwrap();
    assert!(apply.status.success());
    let db_url = format!("sqlite://{}", tmp.path().join("yui.db").display());
    // A new address gets an account, but no role until its owner proves the mailbox.
    let out = yui(tmp.path())
        .args(["admin", "create-operator", "--email", "Ops@Yui.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("created account"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has not confirmed its address yet"),
        "{out:?}"
    );
    {
        // As the link by mail does.
        let store = yui_store::Store::connect(&db_url, &Default::default())
            .await
            .unwrap();
        let e = yui_domain::account::Email::parse("email", "ops@yui.example").unwrap();
        let id = crate::support::account_by_email(&store, &e)
            .await
            .unwrap()
            .id;
        let mut tx = store.account(id).write().await.unwrap();
        tx.mark_email_verified(chrono::Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
        store.close().await;
    }
    let out = yui(tmp.path())
        .args(["admin", "create-operator", "--email", "Ops@Yui.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("granted platform_operator to Ops@yui.example")
    );

    let fail = |args: &[&str]| {
        let out = yui(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let err = fail(&[
        "admin",
        "grant",
        "--email",
        "nobody@example.jp",
        "--tenant",
        "iwate",
        "--role",
        "coordinator",
    ]);
    assert!(
        err.contains("--email: no account with address nobody@example.jp"),
        "{err}"
    );
    for hostile in ["role::x", "*", "r:tenant_admin", "platform_operator"] {
        let err = fail(&[
            "admin",
            "grant",
            "--email",
            "ops@yui.example",
            "--tenant",
            "iwate",
            "--role",
            hostile,
        ]);
        assert!(err.contains("--role: unknown role"), "{hostile}: {err}");
    }
    let err = fail(&[
        "admin",
        "grant",
        "--email",
        "ops@yui.example",
        "--tenant",
        "iwate/*",
        "--role",
        "coordinator",
    ]);
    assert!(err.contains("--tenant: no tenant \"iwate/*\""), "{err}");

    let out = yui(tmp.path())
        .args([
            "admin",
            "grant",
            "--email",
            "ops@yui.example",
            "--tenant",
            "kamaishi",
            "--role",
            "coordinator",
            "--until",
            "2027-03-31",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("until 2027-04-01 00:00:00 +09:00"),
        "{out:?}"
    );

    // A children grant names what it opens: iwate's children, not iwate.
    let out = yui(tmp.path())
        .args([
            "admin",
            "grant",
            "--email",
            "ops@yui.example",
            "--tenant",
            "iwate",
            "--role",
            "tenant_admin",
            "--children",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("granted tenant_admin to ops@yui.example in the child tenants of iwate"),
        "{said}"
    );

    let store = yui_store::Store::connect(&db_url, &Default::default())
        .await
        .unwrap();
    let grants = yui_authz::list_grants(&store, Some("kamaishi"))
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].role.as_str(), "coordinator");
    let audit = crate::support::audit_entries(&store, None, 10)
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.action == "role_granted").count(),
        3
    );
    store.close().await;
}
