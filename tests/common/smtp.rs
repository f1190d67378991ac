//! A real SMTP server for tests, on 127.0.0.1 (RFC 5321 subset): greeting,
//! EHLO/HELO, optional AUTH PLAIN, MAIL FROM, RCPT TO, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT. It records every accepted message, can
//! be told to fail temporarily (421 greeting, 451 on MAIL or after DATA) or
//! permanently (550 on RCPT), can advertise STARTTLS (and then refuses it with
//! 454, recording the attempt: it speaks no TLS), and can be stopped and
//! started again on the same port. Messages and settings survive a restart.
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! let url = sink.url();                      // "smtp://127.0.0.1:PORT"
//! sink.set_behavior(Behavior::Data451);      // simulate an outage
//! sink.stop().await;                          // connection refused
//! sink.restart().await;                       // same port, same records
//! let msgs = sink.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(msgs[0].subject().as_deref(), Some("Código"));
//! assert!(msgs[0].text().contains("señora"));
//! ```

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Accept every message.
    Accept,
    /// Greet with `421` and hang up (service not available).
    Greet421,
    /// Answer `451` to MAIL FROM.
    Mail451,
    /// Take the whole message, then answer `451` (not stored).
    Data451,
    /// Answer `550` (no such user) to RCPT TO.
    Rcpt550,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The EHLO/HELO name the client gave.
    pub helo: String,
    /// Reverse path, without angle brackets.
    pub mail_from: String,
    /// Forward paths, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, dot-unstuffed, CRLF line ends, without
    /// the final `.` line.
    pub data: Vec<u8>,
    /// Credentials of an AUTH PLAIN on this connection, if any.
    pub auth: Option<(String, String)>,
}

#[derive(Default)]
struct State {
    behavior: Option<Behavior>,
    messages: Vec<ReceivedMessage>,
    commands: Vec<String>,
    connections: usize,
    starttls: bool,
    auth: Option<(String, String)>,
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }
    fn behavior(&self) -> Behavior {
        self.with(|s| s.behavior.unwrap_or(Behavior::Accept))
    }
}

pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(h) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.abort();
        }
    }
}

impl SmtpSink {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> SmtpSink {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await;
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        SmtpSink {
            addr,
            shared,
            server: Mutex::new(Some(server)),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn set_behavior(&self, b: Behavior) {
        self.shared.with(|s| s.behavior = Some(b));
    }

    /// Advertise STARTTLS in the EHLO reply (the STARTTLS command itself is
    /// answered `454`, since the sink speaks no TLS).
    pub fn set_starttls(&self, on: bool) {
        self.shared.with(|s| s.starttls = on);
    }

    /// Require AUTH PLAIN with these credentials before MAIL (`None`: no AUTH).
    pub fn set_auth(&self, creds: Option<(&str, &str)>) {
        self.shared
            .with(|s| s.auth = creds.map(|(u, p)| (u.to_string(), p.to_string())));
    }

    /// Closes the port and every open connection. Idempotent.
    pub async fn stop(&self) {
        let h = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = h {
            h.abort();
            let _ = h.await;
        }
    }

    /// Listens again on the same port (stops first if running).
    pub async fn restart(&self) {
        self.stop().await;
        let listener = bind(self.addr).await;
        let h = tokio::spawn(serve(listener, self.shared.clone()));
        *self.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
    }

    pub fn is_running(&self) -> bool {
        self.server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Accepted messages, in order.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.shared.with(|s| s.messages.clone())
    }

    pub fn count(&self) -> usize {
        self.shared.with(|s| s.messages.len())
    }

    pub fn clear(&self) {
        self.shared.with(|s| s.messages.clear());
    }

    /// Every command line received (verb and arguments), across connections.
    pub fn commands(&self) -> Vec<String> {
        self.shared.with(|s| s.commands.clone())
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.with(|s| s.connections)
    }

    /// Waits until at least `n` messages arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let until = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= until {
                panic!(
                    "SMTP sink: wanted {n} messages, got {} in {timeout:?}",
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn bind(addr: SocketAddr) -> TcpListener {
    // The same port must be reusable right after stop(), despite TIME_WAIT.
    let mut tries = 0;
    loop {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        match socket.bind(addr).and_then(|()| socket.listen(64)) {
            Ok(l) => return l,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("SMTP sink cannot listen on {addr}: {e}"),
        }
    }
}

/// Accepts until aborted; aborting drops the listener and, with the JoinSet,
/// every connection.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    shared.with(|s| s.connections += 1);
                    conns.spawn(session(stream, shared.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

struct Envelope {
    from: Option<String>,
    rcpt: Vec<String>,
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let _ = session_inner(stream, shared).await;
}

async fn session_inner(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    if shared.behavior() == Behavior::Greet421 {
        wr.write_all(b"421 4.3.2 casegate-sink service not available\r\n")
            .await?;
        return Ok(());
    }
    wr.write_all(b"220 casegate-sink ESMTP ready\r\n").await?;
    let mut helo: Option<String> = None;
    let mut authed: Option<(String, String)> = None;
    let mut env = Envelope {
        from: None,
        rcpt: vec![],
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        if rd.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        shared.with(|s| s.commands.push(text.clone()));
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        let reply: String = match verb.as_str() {
            "EHLO" => {
                helo = Some(arg.clone());
                env = Envelope {
                    from: None,
                    rcpt: vec![],
                };
                let (tls, auth) = shared.with(|s| (s.starttls, s.auth.is_some()));
                let mut r = String::from(
                    "250-casegate-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE 10485760\r\n",
                );
                if tls {
                    r.push_str("250-STARTTLS\r\n");
                }
                if auth {
                    r.push_str("250-AUTH PLAIN\r\n");
                }
                r.push_str("250 HELP\r\n");
                r
            }
            "HELO" => {
                helo = Some(arg.clone());
                "250 casegate-sink\r\n".into()
            }
            "STARTTLS" => "454 4.7.0 TLS not available\r\n".into(),
            "AUTH" => {
                let mut parts = arg.split_whitespace();
                let mech = parts.next().unwrap_or("").to_ascii_uppercase();
                let mut initial = parts.next().map(str::to_string);
                if mech != "PLAIN" {
                    "504 5.5.4 Unrecognized authentication type\r\n".into()
                } else {
                    if initial.is_none() {
                        wr.write_all(b"334 \r\n").await?;
                        line.clear();
                        rd.read_until(b'\n', &mut line).await?;
                        initial = Some(String::from_utf8_lossy(&line).trim().to_string());
                    }
                    let creds = initial.as_deref().and_then(decode_base64).and_then(|raw| {
                        let mut f = raw.split(|b| *b == 0);
                        let _authz = f.next()?;
                        let user = String::from_utf8(f.next()?.to_vec()).ok()?;
                        let pass = String::from_utf8(f.next()?.to_vec()).ok()?;
                        Some((user, pass))
                    });
                    let wanted = shared.with(|s| s.auth.clone());
                    match (creds, wanted) {
                        (Some(c), Some(w)) if c == w => {
                            authed = Some(c);
                            "235 2.7.0 Authentication successful\r\n".into()
                        }
                        _ => "535 5.7.8 Authentication credentials invalid\r\n".into(),
                    }
                }
            }
            "MAIL" => {
                let needs_auth = shared.with(|s| s.auth.is_some());
                if helo.is_none() {
                    "503 5.5.1 Say hello first\r\n".into()
                } else if needs_auth && authed.is_none() {
                    "530 5.7.0 Authentication required\r\n".into()
                } else if shared.behavior() == Behavior::Mail451 {
                    "451 4.3.0 Mailbox temporarily unavailable\r\n".into()
                } else {
                    match path_arg(&arg, "FROM:") {
                        Some(p) => {
                            env = Envelope {
                                from: Some(p),
                                rcpt: vec![],
                            };
                            "250 2.1.0 Ok\r\n".into()
                        }
                        None => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".into(),
                    }
                }
            }
            "RCPT" => {
                if env.from.is_none() {
                    "503 5.5.1 Need MAIL first\r\n".into()
                } else if shared.behavior() == Behavior::Rcpt550 {
                    "550 5.1.1 No such user here\r\n".into()
                } else {
                    match path_arg(&arg, "TO:") {
                        Some(p) => {
                            env.rcpt.push(p);
                            "250 2.1.5 Ok\r\n".into()
                        }
                        None => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".into(),
                    }
                }
            }
            "DATA" => {
                if env.from.is_none() || env.rcpt.is_empty() {
                    "503 5.5.1 Need MAIL and RCPT first\r\n".into()
                } else {
                    wr.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(&mut rd).await?;
                    let from = env.from.take().unwrap_or_default();
                    let rcpt = std::mem::take(&mut env.rcpt);
                    if shared.behavior() == Behavior::Data451 {
                        "451 4.3.0 Temporary failure, try again later\r\n".into()
                    } else {
                        let n = shared.with(|s| {
                            s.messages.push(ReceivedMessage {
                                helo: helo.clone().unwrap_or_default(),
                                mail_from: from,
                                rcpt_to: rcpt,
                                data,
                                auth: authed.clone(),
                            });
                            s.messages.len()
                        });
                        format!("250 2.0.0 Ok: queued as {n}\r\n")
                    }
                }
            }
            "RSET" => {
                env = Envelope {
                    from: None,
                    rcpt: vec![],
                };
                "250 2.0.0 Ok\r\n".into()
            }
            "NOOP" => "250 2.0.0 Ok\r\n".into(),
            "VRFY" => "252 2.0.0 Cannot verify\r\n".into(),
            "QUIT" => {
                wr.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized\r\n".into(),
        };
        wr.write_all(reply.as_bytes()).await?;
    }
}

/// `FROM:<a@b> SIZE=…` → `a@b`.
fn path_arg(arg: &str, key: &str) -> Option<String> {
    let head = arg.get(..key.len())?;
    if !head.eq_ignore_ascii_case(key) {
        return None;
    }
    let rest = arg[key.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

/// Reads message lines up to the lone `.`; removes the leading dot of
/// dot-stuffed lines (RFC 5321 §4.5.2). Bare LF line ends become CRLF.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(rd: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if rd.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let content = line
            .strip_suffix(b"\r\n")
            .or_else(|| line.strip_suffix(b"\n"))
            .unwrap_or(&line);
        if content == b"." {
            return Ok(data);
        }
        let content = content.strip_prefix(b".").unwrap_or(content);
        data.extend_from_slice(content);
        data.extend_from_slice(b"\r\n");
    }
}

impl ReceivedMessage {
    pub fn raw(&self) -> &[u8] {
        &self.data
    }

    fn split(&self) -> (&[u8], &[u8]) {
        let d = &self.data[..];
        match d.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(i) => (&d[..i + 2], &d[i + 4..]),
            None => (d, &[]),
        }
    }

    /// Header fields in order, unfolded, names as sent.
    pub fn headers(&self) -> Vec<(String, String)> {
        let (head, _) = self.split();
        let head = String::from_utf8_lossy(head);
        let mut out: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n").filter(|l| !l.is_empty()) {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(last) = out.last_mut() {
                    last.1.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                out.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        out
    }

    /// The first header named `name` (any case), unfolded, still encoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header named `name`.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect()
    }

    /// The header with RFC 2047 encoded words (UTF-8, B or Q) decoded.
    pub fn header_decoded(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| decode_words(&v))
    }

    pub fn subject(&self) -> Option<String> {
        self.header_decoded("Subject")
    }

    /// The body as sent (still transfer-encoded).
    pub fn body_raw(&self) -> &[u8] {
        self.split().1
    }

    /// The body with its Content-Transfer-Encoding (7bit, 8bit,
    /// quoted-printable, base64) undone, as UTF-8 with LF line ends.
    pub fn text(&self) -> String {
        let cte = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_else(|| "7bit".into())
            .to_ascii_lowercase();
        let raw = self.body_raw();
        let bytes = match cte.as_str() {
            "quoted-printable" => decode_qp(raw, false),
            "base64" => {
                let s: String = String::from_utf8_lossy(raw)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                decode_base64(&s).expect("valid base64 body")
            }
            _ => raw.to_vec(),
        };
        String::from_utf8(bytes)
            .expect("UTF-8 body")
            .replace("\r\n", "\n")
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Quoted-printable (RFC 2045) or, with `header`, the Q encoding (RFC 2047).
fn decode_qp(raw: &[u8], header: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'=' if raw[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if raw[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if i + 2 < raw.len() => match (hex_val(raw[i + 1]), hex_val(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            },
            b'_' if header => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Decodes `=?utf-8?B?…?=` / `=?utf-8?Q?…?=` words; whitespace between two
/// encoded words is dropped (RFC 2047 §6.2).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        let parsed = (|| {
            let body = &from[2..];
            let (charset, body) = body.split_once('?')?;
            let (enc, body) = body.split_once('?')?;
            let end = body.find("?=")?;
            let text = &body[..end];
            if !charset.eq_ignore_ascii_case("utf-8") {
                return None;
            }
            let bytes = match enc {
                "B" | "b" => decode_base64(text)?,
                "Q" | "q" => decode_qp(text.as_bytes(), true),
                _ => return None,
            };
            let consumed = 2 + charset.len() + 1 + enc.len() + 1 + end + 2;
            Some((String::from_utf8(bytes).ok()?, consumed))
        })();
        match parsed {
            Some((word, consumed)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&word);
                rest = &from[consumed..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}
