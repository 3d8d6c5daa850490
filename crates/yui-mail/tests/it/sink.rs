//! The test SMTP sink itself, spoken to by hand and through lettre.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use yui_mail::testing::SmtpSink;
use yui_mail::{SmtpSettings, SmtpTransport, TlsMode, Transport};

struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(sink: &SmtpSink) -> Client {
        let (r, w) = TcpStream::connect(sink.addr()).await.unwrap().into_split();
        let mut c = Client {
            reader: BufReader::new(r),
            writer: w,
        };
        assert!(c.reply().await.starts_with("220 "));
        c
    }

    /// One reply, multi-line replies joined.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn send(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn sink_speaks_smtp() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Client::connect(&sink).await;
    assert!(c.send("EHLO client.example").await.contains("250 SIZE"));
    assert!(c.send("HELO client.example").await.starts_with("250 "));
    assert!(c.send("NOOP").await.starts_with("250 "));
    assert!(c.send("RCPT TO:<x@example.jp>").await.starts_with("503 "));
    assert!(c.send("DATA").await.starts_with("503 "));
    assert!(c.send("FROB").await.starts_with("502 "));
    // RSET forgets the transaction.
    assert!(
        c.send("MAIL FROM:<old@example.jp>")
            .await
            .starts_with("250 ")
    );
    assert!(c.send("RSET").await.starts_with("250 "));
    assert!(c.send("RCPT TO:<x@example.jp>").await.starts_with("503 "));

    assert!(
        c.send("MAIL FROM:<from@example.jp> BODY=8BITMIME")
            .await
            .starts_with("250 ")
    );
    assert!(c.send("RCPT TO:<one@example.jp>").await.starts_with("250 "));
    assert!(c.send("rcpt to:<two@example.jp>").await.starts_with("250 "));
    assert!(c.send("DATA").await.starts_with("354 "));
    let body = "Subject: dots\r\n\r\n..leading dot\r\nplain\r\n...\r\n.";
    assert!(c.send(body).await.starts_with("250 "));
    assert!(c.send("QUIT").await.starts_with("221 "));

    let mail = &sink.wait_for(1, Duration::from_secs(5)).await.unwrap()[0];
    assert_eq!(mail.mail_from, "from@example.jp");
    assert_eq!(mail.rcpt_to, ["one@example.jp", "two@example.jp"]);
    assert_eq!(
        mail.data,
        "Subject: dots\r\n\r\n.leading dot\r\nplain\r\n..\r\n"
    );
    assert_eq!(mail.subject().as_deref(), Some("dots"));
}

#[tokio::test]
async fn sink_fails_and_rejects_on_request() {
    let sink = SmtpSink::start().await.unwrap();
    sink.fail_next(1);
    sink.reject_next(1);
    let mut c = Client::connect(&sink).await;
    c.send("EHLO c").await;
    for expected in ["550 ", "451 ", "250 "] {
        c.send("MAIL FROM:<a@example.jp>").await;
        c.send("RCPT TO:<b@example.jp>").await;
        c.send("DATA").await;
        let reply = c.send("Subject: x\r\n\r\nhi\r\n.").await;
        assert!(reply.starts_with(expected), "{reply}");
    }
    assert_eq!((sink.refused(), sink.len()), (2, 1));
}

#[tokio::test]
async fn credentials_reach_the_server() {
    let sink = SmtpSink::start().await.unwrap();
    let settings = SmtpSettings {
        username: Some("iwate-relay".to_owned()),
        password: Some("s3cret".to_owned()),
        tls: TlsMode::None,
        ..sink.smtp_settings()
    };
    assert!(!format!("{settings:?}").contains("s3cret"));
    let transport = Transport::Smtp(SmtpTransport::new(&settings).unwrap());
    let db = crate::db::TestDb::sqlite().await;
    let ids = crate::enqueue_committed(
        &db,
        &crate::outbox(),
        &[crate::verify_mail("auth@example.jp", yui_mail::Locale::En)],
    )
    .await;
    let worker =
        yui_mail::Worker::new(db.store.clone(), transport, "n", crate::test_config()).unwrap();
    assert_eq!(worker.run_once(crate::t0()).await.unwrap().sent, 1);
    let mail = sink
        .wait_for_mail_to("auth@example.jp", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(mail.auth_user.as_deref(), Some("iwate-relay"));
    assert_eq!(ids.len(), 1);
}
