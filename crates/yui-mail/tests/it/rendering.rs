//! Templates in Japanese and English, tenant senders and overrides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use yui_mail::testing::SmtpSink;
use yui_mail::{Locale, MailError, MailKind, MailTenant, NewMail, Outbox, Templates};
use yui_store::StoreError;
use yui_testkit::on_both_backends;

use crate::db::TestDb;
use crate::{enqueue_committed, smtp_worker, t0, test_config};

fn vars(kind: MailKind) -> serde_json::Value {
    let mut v = json!({
        "display_name": "佐藤 & <健>",
        "link": "https://yui.example/t/abc?x=1&y=2",
        "expires_minutes": 30,
    });
    if kind == MailKind::StaffInvitation {
        v["inviter_name"] = json!("岩手県 ふるさと振興課");
        v["role_name"] = json!("コーディネーター");
    }
    v
}

fn sample_tenant() -> MailTenant {
    MailTenant {
        id: yui_domain::TenantId::new(1),
        slug: "iwate".to_owned(),
        names: yui_domain::locale::Localized {
            ja: "岩手県".to_owned(),
            en: "Iwate Prefecture".to_owned(),
        },
        sender: yui_mail::MailSender {
            sender_name: "岩手県 遠恋複業 事務局".to_owned(),
            sender_address: "iwate@mail.yui.example".to_owned(),
        },
    }
}

#[test]
fn japanese_and_english_templates() {
    let t = Templates::builtin().unwrap();
    let tenant = sample_tenant();
    let expected = [
        (
            MailKind::VerifyEmail,
            "【岩手県】メールアドレス確認のお願い",
            "Please confirm your email address for Iwate Prefecture",
            "メールアドレスの確認を完了してください",
            "confirm your email address",
        ),
        (
            MailKind::PasswordReset,
            "【岩手県】パスワード再設定のご案内",
            "Reset your Iwate Prefecture password",
            "新しいパスワードを設定してください",
            "choose a new one",
        ),
        (
            MailKind::MagicLink,
            "【岩手県】ログイン用リンクのお知らせ",
            "Your sign-in link for Iwate Prefecture",
            "パスワードを入力せずにログインできます",
            "sign in without a password",
        ),
        (
            MailKind::StaffInvitation,
            "【岩手県】運営メンバーへのご招待",
            "You are invited to help run Iwate Prefecture",
            "「コーディネーター」として参加するよう招待",
            "as コーディネーター",
        ),
    ];
    for (kind, ja_subject, en_subject, ja_phrase, en_phrase) in expected {
        let ja = t
            .render(Some(&tenant), Locale::Ja, kind, &vars(kind))
            .unwrap();
        assert_eq!(ja.subject, ja_subject);
        assert!(ja.text.contains(ja_phrase), "{kind} ja: {}", ja.text);
        assert!(
            ja.text.starts_with("佐藤 & <健> 様\n"),
            "{kind} ja: {}",
            ja.text
        );
        assert!(ja.text.contains("有効期限は30分"), "{kind} ja: {}", ja.text);
        assert!(ja.text.contains("https://yui.example/t/abc?x=1&y=2"));
        assert!(ja.html.contains("<html lang=\"ja\">"));
        assert!(
            ja.html.contains("佐藤 &amp; &lt;健&gt; 様"),
            "{kind} ja html"
        );
        assert!(
            ja.html
                .contains("href=\"https://yui.example/t/abc?x=1&amp;y=2\"")
        );

        let en = t
            .render(Some(&tenant), Locale::En, kind, &vars(kind))
            .unwrap();
        assert_eq!(en.subject, en_subject);
        assert!(en.text.contains(en_phrase), "{kind} en: {}", en.text);
        assert!(
            en.text.starts_with("Hello 佐藤 & <健>,\n"),
            "{kind} en: {}",
            en.text
        );
        assert!(
            en.text.contains("expires in 30 minutes"),
            "{kind} en: {}",
            en.text
        );
        assert!(en.html.contains("<html lang=\"en\">"));
        assert!(en.html.contains("Hello 佐藤 &amp; &lt;健&gt;,"));
        assert!(!en.text.contains("&amp;"));
    }
    // Without a name the greeting still reads naturally.
    let mut anonymous = vars(MailKind::VerifyEmail);
    anonymous["display_name"] = json!("");
    let ja = t
        .render(None, Locale::Ja, MailKind::VerifyEmail, &anonymous)
        .unwrap();
    assert!(ja.text.starts_with("ご登録いただいた方へ\n"), "{}", ja.text);
    assert_eq!(ja.subject, "【Yui（結）】メールアドレス確認のお願い");
    let en = t
        .render(None, Locale::En, MailKind::VerifyEmail, &anonymous)
        .unwrap();
    assert!(en.text.starts_with("Hello,\n"), "{}", en.text);
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn override_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "iwate/tenant.toml", "# not read by yui-mail\n");
    write(
        dir.path(),
        "iwate/mail/ja/verify_email.subject",
        "【{{ tenant_name }} 遠恋複業】\nご登録の確認\n",
    );
    write(
        dir.path(),
        "iwate/mail/ja/verify_email.html",
        "{% extends \"ja/layout.html\" %}{% block content %}<p>{{ display_name }} 様、いわてへようこそ。<a href=\"{{ link }}\">確認する</a></p>{% endblock content %}",
    );
    write(dir.path(), "kamaishi/tenant.toml", "");
    dir
}

#[test]
fn overrides_replace_only_the_parts_they_provide() {
    let root = override_root();
    let t = Templates::load(Some(root.path())).unwrap();
    assert_eq!(
        t.overrides().collect::<Vec<_>>(),
        [
            "tenants/iwate/ja/verify_email.html",
            "tenants/iwate/ja/verify_email.subject"
        ]
    );
    let iwate = sample_tenant();
    let v = vars(MailKind::VerifyEmail);
    let r = t
        .render(Some(&iwate), Locale::Ja, MailKind::VerifyEmail, &v)
        .unwrap();
    assert_eq!(r.subject, "【岩手県 遠恋複業】 ご登録の確認");
    // The text part was not overridden.
    assert!(
        r.text
            .contains("岩手県にご登録いただき、ありがとうございます。"),
        "{}",
        r.text
    );
    assert!(
        r.html
            .contains("佐藤 &amp; &lt;健&gt; 様、いわてへようこそ。"),
        "{}",
        r.html
    );
    assert!(
        r.html.contains("<html lang=\"ja\">"),
        "the override extends the layout"
    );

    // English, other kinds and other tenants keep the built-in templates.
    let en = t
        .render(Some(&iwate), Locale::En, MailKind::VerifyEmail, &v)
        .unwrap();
    assert_eq!(
        en.subject,
        "Please confirm your email address for Iwate Prefecture"
    );
    let reset = t
        .render(Some(&iwate), Locale::Ja, MailKind::PasswordReset, &v)
        .unwrap();
    assert_eq!(reset.subject, "【岩手県】パスワード再設定のご案内");
    let kamaishi = MailTenant {
        slug: "kamaishi".to_owned(),
        names: yui_domain::locale::Localized {
            ja: "釜石市".to_owned(),
            en: "Kamaishi City".to_owned(),
        },
        ..sample_tenant()
    };
    let other = t
        .render(Some(&kamaishi), Locale::Ja, MailKind::VerifyEmail, &v)
        .unwrap();
    assert_eq!(other.subject, "【釜石市】メールアドレス確認のお願い");
}

#[test]
fn bad_overrides_stop_the_start_up() {
    // A subject may not use what a user typed.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "iwate/mail/ja/magic_link.subject",
        "{{ display_name }}様へ",
    );
    let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("tenants/iwate/ja/magic_link.subject"), "{err}");
    assert!(err.contains("display_name"), "{err}");

    // A misspelt file name is named.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "iwate/mail/en/verify_mail.txt", "x");
    let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("verify_mail.txt"), "{err}");

    // So is a locale we do not speak, and a variable no caller passes.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "iwate/mail/fr/verify_email.txt", "x");
    assert!(
        Templates::load(Some(dir.path()))
            .unwrap_err()
            .to_string()
            .contains("fr")
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "iwate/mail/ja/verify_email.txt",
        "{{ nickname }}",
    );
    let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("nickname"), "{err}");
}

fn repo_tenants() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants")
}

#[test]
fn the_repository_tenant_folders_load() {
    Templates::load(Some(&repo_tenants())).unwrap();
}

on_both_backends!(TestDb::on, worker_threads = 4 => tenant_sender_and_overrides_over_smtp);
async fn tenant_sender_and_overrides_over_smtp(db: &TestDb) {
    // The real Iwate tenant, applied as `yui tenant apply` would.
    let folder = repo_tenants().join("iwate");
    let tenant = yui_domain::tenant::parse_tenant_file(
        &std::fs::read_to_string(folder.join("tenant.toml")).unwrap(),
    )
    .unwrap();
    let logo = std::fs::read_to_string(folder.join("logo.svg")).unwrap();
    db.store.apply_tenant(&tenant, &logo, t0()).await.unwrap();
    let id = db.store.tenant_by_slug("iwate").await.unwrap().id;
    let mail_tenant = MailTenant::from_tenant(id, &tenant);

    let root = override_root();
    let outbox = Outbox::new(
        Templates::load(Some(root.path())).unwrap(),
        yui_mail::MailSender {
            sender_name: "Yui".to_owned(),
            sender_address: "no-reply@yui.example".to_owned(),
        },
    )
    .unwrap();
    let mail = |to: &str, locale| NewMail {
        tenant: Some(mail_tenant.clone()),
        to: to.to_owned(),
        locale,
        kind: MailKind::VerifyEmail,
        vars: json!({"display_name": "", "link": "https://yui.example/iwate/verify?t=1", "expires_minutes": 60}),
        attachment: None,
    };
    let ids = enqueue_committed(
        db,
        &outbox,
        &[
            mail("ja@example.jp", Locale::Ja),
            mail("en@example.jp", Locale::En),
        ],
    )
    .await;

    let sink = SmtpSink::start().await.unwrap();
    let worker = smtp_worker(db, &sink, "node-a", test_config());
    assert_eq!(worker.run_once(t0()).await.unwrap().sent, 2);
    let ja = sink
        .wait_for_mail_to("ja@example.jp", Duration::from_secs(5))
        .await
        .unwrap();
    let en = sink
        .wait_for_mail_to("en@example.jp", Duration::from_secs(5))
        .await
        .unwrap();

    assert_eq!(ja.mail_from, "iwate@mail.yui.example");
    let from = ja.header("From").unwrap();
    assert!(
        from.contains("岩手県 遠恋複業 事務局") && from.contains("<iwate@mail.yui.example>"),
        "{from}"
    );
    assert_eq!(
        ja.subject().as_deref(),
        Some("【岩手県 遠恋複業】 ご登録の確認")
    );
    assert!(ja.text_body().unwrap().contains("岩手県にご登録いただき"));
    assert!(ja.html_body().unwrap().contains("いわてへようこそ"));
    assert!(ja.message_id().unwrap().ends_with("@mail.yui.example>"));
    assert_eq!(
        en.subject().as_deref(),
        Some("Please confirm your email address for Iwate Prefecture")
    );
    assert!(en.text_body().unwrap().contains("expires in 1 hour."));

    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(entry.tenant_id, Some(id));
    assert_eq!(entry.from_name, "岩手県 遠恋複業 事務局");
}

/// Applies a tenant folder of the repository; its mail identity.
async fn apply_repo_tenant(db: &TestDb, slug: &str) -> MailTenant {
    let text = std::fs::read_to_string(repo_tenants().join(slug).join("tenant.toml")).unwrap();
    let tenant = yui_domain::tenant::parse_tenant_file(&text).unwrap();
    db.store
        .apply_tenant(&tenant, "<svg/>", t0())
        .await
        .unwrap();
    let id = db.store.tenant_by_slug(slug).await.unwrap().id;
    MailTenant::from_tenant(id, &tenant)
}

on_both_backends!(TestDb::on => a_tenant_transaction_queues_its_own_mail);
async fn a_tenant_transaction_queues_its_own_mail(db: &TestDb) {
    let iwate = apply_repo_tenant(db, "iwate").await;
    let kamaishi = apply_repo_tenant(db, "kamaishi").await;
    let outbox = crate::outbox();
    let mail = |tenant: Option<&MailTenant>| NewMail {
        tenant: tenant.cloned(),
        ..crate::verify_mail("staff@example.jp", Locale::Ja)
    };
    let mut tx = db.store.tenant(iwate.id).write().await.unwrap();
    let own = outbox
        .enqueue(&mut tx, &mail(Some(&iwate)), t0())
        .await
        .unwrap();
    // Mail without a tenant, queued in a tenant's transaction, is still the tenant's row
    // (rendered with the platform's sender).
    let plain = outbox.enqueue(&mut tx, &mail(None), t0()).await.unwrap();
    // Another tenant's mail is refused, and the transaction goes on.
    let err = outbox
        .enqueue(&mut tx, &mail(Some(&kamaishi)), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MailError::Store(StoreError::Invalid(_))),
        "{err}"
    );
    tx.commit().await.unwrap();

    let own = Outbox::entry(&db.store, own).await.unwrap();
    assert_eq!(own.tenant_id, Some(iwate.id));
    assert_eq!(own.from_address, "iwate@mail.yui.example");
    let plain = Outbox::entry(&db.store, plain).await.unwrap();
    assert_eq!(plain.tenant_id, Some(iwate.id));
    assert_eq!(plain.from_address, "no-reply@yui.example");
    assert_eq!(Outbox::counts(&db.store).await.unwrap().pending, 2);
}

#[tokio::test]
async fn invalid_addresses_are_refused_at_enqueue() {
    let db = TestDb::sqlite().await;
    let outbox = crate::outbox();
    let mut tx = crate::platform_write(&db.store).await;
    for to in ["not an address", "a@b.jp\r\nBcc: x@y.jp", ""] {
        let mail = NewMail {
            to: to.to_owned(),
            ..crate::verify_mail("x@example.jp", Locale::Ja)
        };
        let err = outbox.enqueue(&mut tx, &mail, t0()).await.unwrap_err();
        assert!(
            matches!(err, yui_mail::MailError::Address(_)),
            "{to:?}: {err}"
        );
    }
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn hostile_attachments_are_refused_at_enqueue() {
    let db = TestDb::sqlite().await;
    let outbox = crate::outbox();
    let ics = |name: &str, content_type: &str, body: String| NewMail {
        attachment: Some(yui_mail::Attachment {
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            body,
        }),
        ..crate::verify_mail("x@example.jp", Locale::Ja)
    };
    let calendar = "text/calendar; charset=utf-8; method=PUBLISH";
    let long_name = format!("{}.ics", "あ".repeat(97));
    let refused = [
        ics("../../etc/passwd", calendar, String::new()),
        ics("a/b.ics", calendar, String::new()),
        ics("a\\b.ics", calendar, String::new()),
        ics("a.ics\r\nBcc: x@y.jp", calendar, String::new()),
        ics("a\u{0}.ics", calendar, String::new()),
        ics("a\u{202e}.ics", calendar, String::new()),
        ics("", calendar, String::new()),
        ics("  ", calendar, String::new()),
        ics("..", calendar, String::new()),
        ics(&long_name, calendar, String::new()),
        ics("a.ics", "", String::new()),
        ics("a.ics", "calendar", String::new()),
        ics("a.ics", "text/calendar\r\nBcc: x@y.jp", String::new()),
        ics("a.ics", calendar, "x".repeat(256 * 1024 + 1)),
    ];
    let mut tx = crate::platform_write(&db.store).await;
    for mail in &refused {
        let err = outbox.enqueue(&mut tx, mail, t0()).await.unwrap_err();
        assert!(
            matches!(err, MailError::Attachment(_)),
            "{:?}: {err}",
            mail.attachment
        );
    }
    // A long Japanese name is counted in characters, not bytes.
    let fits = format!("{}.ics", "あ".repeat(96));
    outbox
        .enqueue(
            &mut tx,
            &ics(&fits, calendar, "BEGIN:VCALENDAR".to_owned()),
            t0(),
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
}

#[test]
fn event_mails_in_japanese_and_english() {
    let t = Templates::builtin().unwrap();
    let tenant = sample_tenant();
    let vars = json!({
        "display_name": "佐藤 & <健>",
        "event_title": "釜石 <フィールドワーク>",
        "when": "2025年9月6日(土) 10:00 – 9月7日(日) 15:00",
        "place": "釜石市 大町 1-1",
        "online_url": "https://meet.example/k?x=1&y=2",
        "checkin_code": "K7QX-42",
        "link": "https://yui.example/t/abc?x=1&y=2",
        "lead": "2日後",
    });
    let expected = [
        (
            MailKind::EventConfirmed,
            "【岩手県】イベントへの参加が確定しました",
            "Iwate Prefecture: your place at the event is confirmed",
            "参加が確定しました",
            "Your place is confirmed",
        ),
        (
            MailKind::EventWaitlisted,
            "【岩手県】キャンセル待ちとして受け付けました",
            "Iwate Prefecture: you are on the waiting list",
            "キャンセル待ちとして受け付けました",
            "waiting list",
        ),
        (
            MailKind::EventPending,
            "【岩手県】イベントへのお申し込みを受け付けました",
            "Iwate Prefecture: we have received your application",
            "結果が決まりしだい",
            "once a decision has been made",
        ),
        (
            MailKind::EventPromoted,
            "【岩手県】キャンセル待ちから参加が確定しました",
            "Iwate Prefecture: a place has opened up for you",
            "お席に空きが出たため",
            "it is now yours",
        ),
        (
            MailKind::EventDeclined,
            "【岩手県】イベントへのお申し込みの結果について",
            "Iwate Prefecture: about your application for the event",
            "今回はご参加いただけないこととなりました",
            "cannot offer you a place this time",
        ),
        (
            MailKind::EventReminder,
            "【岩手県】お申し込みのイベントが近づいています",
            "Iwate Prefecture: your event is coming up",
            "は、2日後の開催です",
            "takes place 2日後",
        ),
        (
            MailKind::EventCancelled,
            "【岩手県】イベント中止のお知らせ",
            "Iwate Prefecture: an event you registered for has been called off",
            "開催を中止することになりました",
            "has been called off",
        ),
    ];
    for (kind, ja_subject, en_subject, ja_phrase, en_phrase) in expected {
        let ja = t.render(Some(&tenant), Locale::Ja, kind, &vars).unwrap();
        assert_eq!(ja.subject, ja_subject);
        assert!(
            ja.text.starts_with("佐藤 & <健> 様\n"),
            "{kind}: {}",
            ja.text
        );
        assert!(
            ja.text.contains("「釜石 <フィールドワーク>」"),
            "{kind}: {}",
            ja.text
        );
        assert!(ja.text.contains(ja_phrase), "{kind}: {}", ja.text);
        assert!(
            ja.html.contains("「釜石 &lt;フィールドワーク&gt;」"),
            "{kind}: {}",
            ja.html
        );
        assert!(ja.html.contains(ja_phrase), "{kind}: {}", ja.html);

        let en = t.render(Some(&tenant), Locale::En, kind, &vars).unwrap();
        assert_eq!(en.subject, en_subject);
        assert!(
            en.text.starts_with("Hello 佐藤 & <健>,\n"),
            "{kind}: {}",
            en.text
        );
        assert!(
            en.text.contains("\"釜石 <フィールドワーク>\""),
            "{kind}: {}",
            en.text
        );
        assert!(en.text.contains(en_phrase), "{kind}: {}", en.text);
        assert!(en.html.contains("<html lang=\"en\">"));
        assert!(en.html.contains(en_phrase), "{kind}: {}", en.html);
        for r in [&ja, &en] {
            assert!(r.text.contains("https://yui.example/t/abc?x=1&y=2"));
            assert!(
                r.html
                    .contains("href=\"https://yui.example/t/abc?x=1&amp;y=2\"")
            );
        }
    }
}
