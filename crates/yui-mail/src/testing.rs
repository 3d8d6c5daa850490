//! Test helpers: a small SMTP server that records what it receives.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use yui_mail::testing::SmtpSink;
//!
//! let sink = SmtpSink::start().await?;
//! // point the app at sink.smtp_settings() (or sink.addr()), then:
//! let mail = sink
//!     .wait_for_mail_to("hanako@example.jp", Duration::from_secs(10))
//!     .await
//!     .map_err(std::io::Error::other)?;
//! let link = mail.links().into_iter().find(|l| l.contains("/verify"));
//! # let _ = link;
//! # Ok(())
//! # }
//! ```
//!
//! The sink speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA (with dot-unstuffing),
//! RSET, NOOP, VRFY, AUTH PLAIN (any credentials) and QUIT, without TLS. It can
//! be told to answer the next deliveries with `451` ([`Inbox::fail_next`]) or
//! `550` ([`Inbox::reject_next`]).

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::transport::SmtpSettings;

/// Longest command line accepted; longer ones end the session.
const MAX_LINE: u64 = 4096;
/// Largest message accepted (`552` beyond).
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// A running SMTP sink on 127.0.0.1. Stops when dropped. Derefs to its [`Inbox`].
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Inbox,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<SmtpSink> {
        SmtpSink::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?).await
    }

    /// Starts a sink on `addr` (port 0 for a free one).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox = Inbox::default();
        let state = Arc::clone(&inbox.state);
        let task = tokio::spawn(async move {
            // Sessions live in the set, so stopping the sink ends them too.
            let mut sessions = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let state = Arc::clone(&state);
                            sessions.spawn(async move {
                                if let Err(e) = session(stream, &state).await {
                                    tracing::debug!(error = %e, "smtp sink session ended");
                                }
                            });
                        }
                        Err(e) => tracing::warn!(error = %e, "smtp sink cannot accept"),
                    },
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        Ok(SmtpSink { addr, inbox, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Settings for [`SmtpTransport`](crate::SmtpTransport) that reach this sink.
    pub fn smtp_settings(&self) -> SmtpSettings {
        SmtpSettings::plain(self.addr)
    }

    /// A handle to the received mail that can be moved into other tasks.
    pub fn inbox(&self) -> Inbox {
        self.inbox.clone()
    }
}

impl Deref for SmtpSink {
    type Target = Inbox;
    fn deref(&self) -> &Inbox {
        &self.inbox
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default)]
struct State {
    messages: Mutex<Vec<ReceivedMail>>,
    fail_transient: AtomicUsize,
    fail_permanent: AtomicUsize,
    refused: AtomicUsize,
    arrived: Notify,
}

/// What a sink received, and how it should answer the next deliveries.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    state: Arc<State>,
}

impl Inbox {
    /// Everything accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns everything accepted so far.
    pub fn take(&self) -> Vec<ReceivedMail> {
        std::mem::take(&mut *self.lock())
    }

    /// Answers the next `n` deliveries (end of DATA) with `451`, a temporary failure.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_transient.store(n, Ordering::SeqCst);
    }

    /// Answers the next `n` deliveries with `550`, a permanent failure.
    pub fn reject_next(&self, n: usize) {
        self.state.fail_permanent.store(n, Ordering::SeqCst);
    }

    /// How many deliveries were refused on purpose so far.
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` mails have arrived; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<ReceivedMail>, String> {
        self.wait_until(timeout, |m| (m.len() >= n).then(|| m.to_vec()))
            .await
            .map_err(|got| format!("{got} of {n} mails arrived within {timeout:?}"))
    }

    /// Waits for the first mail to `address` (case-insensitive).
    pub async fn wait_for_mail_to(
        &self,
        address: &str,
        timeout: Duration,
    ) -> Result<ReceivedMail, String> {
        let address = address.to_ascii_lowercase();
        self.wait_until(timeout, |m| {
            m.iter()
                .find(|r| r.rcpt_to.iter().any(|a| a.to_ascii_lowercase() == address))
                .cloned()
        })
        .await
        .map_err(|got| format!("no mail to {address} within {timeout:?} ({got} others)"))
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        check: impl Fn(&[ReceivedMail]) -> Option<T>,
    ) -> Result<T, usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.state.arrived.notified();
            tokio::pin!(arrived);
            // Register before looking, so an arrival in between is not missed.
            arrived.as_mut().enable();
            if let Some(found) = check(&self.lock()) {
                return Ok(found);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                // Let go of the lock before `len` takes it again: the mutex is not
                // reentrant, and holding it here deadlocked every timeout.
                let found = check(&self.lock());
                return found.ok_or_else(|| self.len());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ReceivedMail>> {
        self.state
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes one from `counter` if it is above zero.
fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

async fn read_line(r: &mut Reader, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.clear();
    let n = r.take(MAX_LINE).read_until(b'\n', buf).await?;
    // lettre writes a message and its final "." in two writes; with Nagle on its
    // side, the second waits for our ACK, which Linux delays by up to 40 ms. Ask
    // for quick ACKs again after each read (the kernel keeps turning them off).
    #[cfg(target_os = "linux")]
    socket2::SockRef::from(r.get_ref().as_ref())
        .set_tcp_quickack(true)
        .ok();
    Ok(n)
}

async fn session(stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(b"220 yui-sink ESMTP ready\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut auth_user: Option<String> = None;
    let mut line = Vec::new();
    loop {
        if read_line(&mut reader, &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        let reply: String = match verb {
            "EHLO" => "250-yui-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN\r\n250 SIZE 10485760".to_owned(),
            "HELO" => "250 yui-sink".to_owned(),
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                mail_from = Some(mailbox_path(&command[10..]));
                rcpt_to.clear();
                "250 2.1.0 OK".to_owned()
            }
            "RCPT" if upper.starts_with("RCPT TO:") => {
                if mail_from.is_none() {
                    "503 5.5.1 MAIL first".to_owned()
                } else {
                    rcpt_to.push(mailbox_path(&command[8..]));
                    "250 2.1.5 OK".to_owned()
                }
            }
            "MAIL" | "RCPT" => "501 5.5.4 Syntax error in parameters".to_owned(),
            "DATA" => match &mail_from {
                Some(from) if !rcpt_to.is_empty() => {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let Some(data) = read_data(&mut reader, &mut line).await? else {
                        return Ok(());
                    };
                    let reply = if data.len() > MAX_MESSAGE {
                        "552 5.3.4 Message too big".to_owned()
                    } else if take_one(&state.fail_permanent) {
                        state.refused.fetch_add(1, Ordering::SeqCst);
                        "550 5.7.1 Refused (the test sink was told to reject)".to_owned()
                    } else if take_one(&state.fail_transient) {
                        state.refused.fetch_add(1, Ordering::SeqCst);
                        "451 4.3.0 Try again later (the test sink was told to fail)".to_owned()
                    } else {
                        let mail = ReceivedMail {
                            mail_from: from.clone(),
                            rcpt_to: std::mem::take(&mut rcpt_to),
                            auth_user: auth_user.clone(),
                            data: String::from_utf8_lossy(&data).into_owned(),
                        };
                        let n = {
                            let mut messages =
                                state.messages.lock().unwrap_or_else(PoisonError::into_inner);
                            messages.push(mail);
                            messages.len()
                        };
                        state.arrived.notify_waiters();
                        format!("250 2.0.0 OK queued as {n}")
                    };
                    mail_from = None;
                    rcpt_to.clear();
                    reply
                }
                _ => "503 5.5.1 MAIL and RCPT first".to_owned(),
            },
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 OK".to_owned()
            }
            "NOOP" => "250 2.0.0 OK".to_owned(),
            "VRFY" => "252 2.5.2 Cannot VRFY user".to_owned(),
            "AUTH" => {
                let mut words = command.split_whitespace().skip(1);
                match words.next().map(str::to_ascii_uppercase).as_deref() {
                    Some("PLAIN") => {
                        let response = match words.next() {
                            Some(r) => r.to_owned(),
                            None => {
                                writer.write_all(b"334 \r\n").await?;
                                if read_line(&mut reader, &mut line).await? == 0 {
                                    return Ok(());
                                }
                                String::from_utf8_lossy(&line).trim().to_owned()
                            }
                        };
                        match plain_user(&response) {
                            Some(user) => {
                                auth_user = Some(user);
                                "235 2.7.0 Authentication successful".to_owned()
                            }
                            None => "501 5.5.2 Cannot decode response".to_owned(),
                        }
                    }
                    _ => "504 5.5.4 Unrecognized authentication type".to_owned(),
                }
            }
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            "" => "500 5.5.2 Empty command".to_owned(),
            _ => "502 5.5.2 Command not recognized".to_owned(),
        };
        // One write per reply: split writes meet Nagle and delayed ACKs (40 ms each).
        writer.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// Reads a message up to the lone dot, undoing dot-stuffing. `None` if the
/// client went away. Stops storing past the size limit but reads to the end.
async fn read_data(reader: &mut Reader, line: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    loop {
        if read_line(reader, line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let content = line.strip_prefix(b".").unwrap_or(line);
        if data.len() <= MAX_MESSAGE {
            data.extend_from_slice(content);
        }
    }
}

/// `<a@b> BODY=8BITMIME` → `a@b`.
fn mailbox_path(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(start), Some(end)) if start < end => arg[start + 1..end].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

/// The user of an AUTH PLAIN response (`authzid \0 user \0 password`, base64).
fn plain_user(response: &str) -> Option<String> {
    let decoded = BASE64.decode(response.trim()).ok()?;
    let mut parts = decoded.split(|&b| b == 0);
    let _authzid = parts.next()?;
    let user = parts.next()?;
    parts.next()?;
    Some(String::from_utf8_lossy(user).into_owned())
}

/// One accepted message, with the envelope it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The user of AUTH PLAIN, if the client authenticated.
    pub auth_user: Option<String>,
    /// The message as sent (headers and body), dot-unstuffed.
    pub data: String,
}

impl ReceivedMail {
    /// A message read from elsewhere (an `.eml` file), without an envelope.
    pub fn from_message(data: impl Into<String>) -> ReceivedMail {
        ReceivedMail {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            auth_user: None,
            data: data.into(),
        }
    }

    /// A top-level header, unfolded and with encoded words (RFC 2047) decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_message(&self.data);
        header_in(&parse_headers(head), name).map(decode_words)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }

    /// The decoded `text/plain` part.
    pub fn text_body(&self) -> Option<String> {
        find_part(&self.data, "text/plain", 0)
    }

    /// The decoded `text/html` part.
    pub fn html_body(&self) -> Option<String> {
        find_part(&self.data, "text/html", 0)
    }

    /// The `http(s)://` links in the text part, in order.
    pub fn links(&self) -> Vec<String> {
        let text = self.text_body().unwrap_or_default();
        let mut links = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest
            .find("http://")
            .into_iter()
            .chain(rest.find("https://"))
            .min()
        {
            let tail = &rest[start..];
            let end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '」' | '）'))
                .unwrap_or(tail.len());
            links.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
        links
    }
}

fn split_message(raw: &str) -> (&str, &str) {
    for sep in ["\r\n\r\n", "\n\n"] {
        if let Some(i) = raw.find(sep) {
            return (&raw[..i], &raw[i + sep.len()..]);
        }
    }
    (raw, "")
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

fn header_in<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A parameter of a structured header: `boundary` of `multipart/alternative; boundary="x"`.
fn header_param(value: &str, param: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(param)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find_part(raw: &str, mime: &str, depth: usize) -> Option<String> {
    let (head, body) = split_message(raw);
    let headers = parse_headers(head);
    let content_type = header_in(&headers, "Content-Type").unwrap_or("text/plain");
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if kind.starts_with("multipart/") {
        if depth > 8 {
            return None;
        }
        let boundary = header_param(content_type, "boundary")?;
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let mut current: Option<String> = None;
        for line in body.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\r', '\n']);
            if bare == delimiter || bare == format!("{delimiter}--") {
                if let Some(mut part) = current.take() {
                    // The line break before a delimiter belongs to the delimiter.
                    if part.ends_with("\r\n") {
                        part.truncate(part.len() - 2);
                    } else if part.ends_with('\n') {
                        part.truncate(part.len() - 1);
                    }
                    parts.push(part);
                }
                if bare != delimiter {
                    break;
                }
                current = Some(String::new());
            } else if let Some(part) = current.as_mut() {
                part.push_str(line);
            }
        }
        return parts.iter().find_map(|p| find_part(p, mime, depth + 1));
    }
    if kind != mime {
        return None;
    }
    let encoding = header_in(&headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            BASE64.decode(compact).ok()?
        }
        "quoted-printable" => decode_quoted_printable(body, false),
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// Quoted-printable; `q_encoding` is the header variant (RFC 2047 "Q", `_` = space).
fn decode_quoted_printable(input: &str, q_encoding: bool) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'=');
                        i += 1;
                    }
                }
            }
            b'_' if q_encoding => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace
/// between two encoded words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, len)) = encoded_word(rest) {
            if !last_was_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = &rest[len..];
            last_was_word = true;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            last_was_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    if !last_was_word {
        out.push_str(&pending_space);
    }
    out
}

/// One encoded word at the start of `s`: (decoded text, length consumed).
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "b" | "B" => BASE64.decode(text).ok()?,
        "q" | "Q" => decode_quoted_printable(text, true),
        _ => return None,
    };
    let consumed = s.len() - inner.len() + end + 2;
    Some((String::from_utf8_lossy(&bytes).into_owned(), consumed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words() {
        assert_eq!(
            decode_words("=?utf-8?b?44GC44GE?= =?utf-8?b?44GG?="),
            "あいう"
        );
        assert_eq!(
            decode_words("Hello =?utf-8?q?w=C3=B6rld_x?= !"),
            "Hello wörld x !"
        );
        assert_eq!(decode_words("plain text"), "plain text");
    }

    #[test]
    fn multipart_bodies() {
        let raw = "Subject: x\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n44GC44GEIGh0dHBzOi8veS5leGFtcGxlL3Y/dD0xIGVuZA==\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>a=3Db =\r\nc</p>\r\n--b1--\r\n";
        let mail = ReceivedMail::from_message(raw);
        assert_eq!(
            mail.text_body().as_deref(),
            Some("あい https://y.example/v?t=1 end")
        );
        assert_eq!(mail.html_body().as_deref(), Some("<p>a=b c</p>"));
        assert_eq!(mail.links(), ["https://y.example/v?t=1"]);
    }

    #[test]
    fn envelope_paths() {
        assert_eq!(mailbox_path("<a@b.jp> BODY=8BITMIME"), "a@b.jp");
        assert_eq!(mailbox_path(" a@b.jp"), "a@b.jp");
        assert_eq!(
            plain_user(&BASE64.encode(b"\0yui\0secret")).as_deref(),
            Some("yui")
        );
    }
}
