//! A minimal ClamAV `clamd` client over TCP.
//!
//! Protocol (see clamd(8)): a command prefixed with `z` is terminated by a
//! NUL byte and so is its reply.
//!
//! * `zPING\0` → `PONG\0`
//! * `zINSTREAM\0`, then the data as chunks of a 4-byte big-endian length
//!   followed by that many bytes, then a zero-length chunk; the reply is
//!   `stream: OK`, `stream: <Signature> FOUND`, or `<message> ERROR` (for
//!   example `INSTREAM size limit exceeded. ERROR` when the data is larger
//!   than clamd's `StreamMaxLength`, 25 MiB by default).
//!
//! Treat every `Err` as "not scanned": the caller must fail closed (keep the
//! upload pending or refuse it), never treat an error as clean.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes per INSTREAM chunk.
const CHUNK: usize = 64 * 1024;

/// Longest reply accepted from clamd, in bytes.
const MAX_REPLY: usize = 4096;

/// Timeout used by [`ping`].
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The result of a completed scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// No signature matched.
    Clean,
    /// A signature matched; the name as clamd reported it (printable ASCII).
    Infected(String),
}

/// Why no verdict was obtained.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The connection to clamd could not be made.
    #[error("cannot connect to clamd at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The connection failed while talking to clamd.
    #[error("I/O error talking to clamd: {0}")]
    Io(#[from] std::io::Error),
    /// The whole operation took longer than the timeout.
    #[error("clamd did not answer in time")]
    Timeout,
    /// clamd reported an error (e.g. the stream was too large).
    #[error("clamd error: {0}")]
    Clamd(String),
    /// clamd sent something this client does not understand.
    #[error("unexpected reply from clamd: {0:?}")]
    Protocol(String),
}

/// Scan `bytes` with the clamd listening at `addr` (`host:port`). The whole
/// exchange, connection included, must finish within `timeout`.
pub async fn scan(addr: &str, bytes: &[u8], timeout: Duration) -> Result<ScanVerdict, ScanError> {
    let reply = tokio::time::timeout(timeout, instream(addr, bytes))
        .await
        .map_err(|_| ScanError::Timeout)??;
    parse_scan_reply(&reply)
}

/// Check that clamd at `addr` answers `PONG`, within [`PING_TIMEOUT`].
pub async fn ping(addr: &str) -> Result<(), ScanError> {
    let exchange = async {
        let mut stream = connect(addr).await?;
        stream.write_all(b"zPING\0").await?;
        read_reply(&mut stream).await
    };
    let reply = tokio::time::timeout(PING_TIMEOUT, exchange)
        .await
        .map_err(|_| ScanError::Timeout)??;
    if reply == "PONG" {
        Ok(())
    } else {
        Err(ScanError::Protocol(reply))
    }
}

async fn connect(addr: &str) -> Result<TcpStream, ScanError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| ScanError::Connect {
            addr: addr.to_owned(),
            source,
        })?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn instream(addr: &str, bytes: &[u8]) -> Result<String, ScanError> {
    let mut stream = connect(addr).await?;
    if let Err(write_err) = send_instream(&mut stream, bytes).await {
        // clamd closes the connection after an error such as "INSTREAM size
        // limit exceeded"; prefer its explanation to a bare broken pipe.
        return match read_reply(&mut stream).await {
            Ok(reply) if !reply.is_empty() => Ok(reply),
            _ => Err(ScanError::Io(write_err)),
        };
    }
    read_reply(&mut stream).await
}

async fn send_instream(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(b"zINSTREAM\0").await?;
    for chunk in bytes.chunks(CHUNK) {
        // CHUNK fits in u32, so the cast is lossless.
        stream
            .write_all(&(chunk.len() as u32).to_be_bytes())
            .await?;
        stream.write_all(chunk).await?;
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    stream.flush().await
}

/// Read up to the terminating NUL (or end of stream), at most [`MAX_REPLY`].
async fn read_reply(stream: &mut TcpStream) -> Result<String, ScanError> {
    let mut reply = Vec::with_capacity(64);
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            reply.extend_from_slice(&buf[..end]);
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.len() > MAX_REPLY {
            return Err(ScanError::Protocol("reply too long".to_owned()));
        }
    }
    Ok(printable(&reply))
}

/// Keep printable ASCII only, trimmed: replies end up in logs and admin pages.
fn printable(raw: &[u8]) -> String {
    let s: String = raw
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    s.trim().to_owned()
}

fn parse_scan_reply(reply: &str) -> Result<ScanVerdict, ScanError> {
    if let Some(rest) = reply.strip_prefix("stream: ") {
        if rest == "OK" {
            return Ok(ScanVerdict::Clean);
        }
        if let Some(name) = rest.strip_suffix(" FOUND") {
            let name = name.trim();
            if !name.is_empty() {
                return Ok(ScanVerdict::Infected(name.to_owned()));
            }
        }
    }
    if reply.ends_with("ERROR") {
        return Err(ScanError::Clamd(reply.to_owned()));
    }
    Err(ScanError::Protocol(reply.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uploads::kind::samples;
    use tokio::net::TcpListener;

    /// The EICAR test string, assembled at run time so that this source file
    /// itself does not trip antivirus scanners on developer machines.
    fn eicar() -> Vec<u8> {
        let mut s = String::from("X5O!P%@AP[4\\PZX54(P^)7CC)7}$");
        s.push_str("EICAR-STANDARD-ANTIVIRUS-");
        s.push_str("TEST-FILE!$H+H*");
        s.into_bytes()
    }

    #[test]
    fn parses_replies() {
        assert_eq!(parse_scan_reply("stream: OK").unwrap(), ScanVerdict::Clean);
        assert_eq!(
            parse_scan_reply("stream: Eicar-Test-Signature FOUND").unwrap(),
            ScanVerdict::Infected("Eicar-Test-Signature".to_owned())
        );
        assert!(matches!(
            parse_scan_reply("INSTREAM size limit exceeded. ERROR"),
            Err(ScanError::Clamd(_))
        ));
        assert!(matches!(
            parse_scan_reply("stream: FOUND"),
            Err(ScanError::Protocol(_))
        ));
        assert!(matches!(parse_scan_reply(""), Err(ScanError::Protocol(_))));
        assert!(matches!(
            parse_scan_reply("PONG"),
            Err(ScanError::Protocol(_))
        ));
    }

    /// A one-connection fake clamd: records what it received (decoding the
    /// INSTREAM framing) and answers `reply`.
    async fn fake_clamd(reply: &'static [u8]) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut cmd = Vec::new();
            loop {
                let b = s.read_u8().await.unwrap();
                if b == 0 {
                    break;
                }
                cmd.push(b);
            }
            let mut payload = Vec::new();
            if cmd == b"zINSTREAM" {
                loop {
                    let len = s.read_u32().await.unwrap() as usize;
                    if len == 0 {
                        break;
                    }
                    assert!(len <= CHUNK);
                    let mut chunk = vec![0u8; len];
                    s.read_exact(&mut chunk).await.unwrap();
                    payload.extend_from_slice(&chunk);
                }
            } else {
                assert_eq!(cmd, b"zPING");
            }
            s.write_all(reply).await.unwrap();
            payload
        });
        (addr, task)
    }

    #[tokio::test]
    async fn instream_framing_against_fake_server() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (addr, server) = fake_clamd(b"stream: OK\0").await;
        let verdict = scan(&addr, &data, Duration::from_secs(5)).await.unwrap();
        assert_eq!(verdict, ScanVerdict::Clean);
        assert_eq!(server.await.unwrap(), data);

        let (addr, server) = fake_clamd(b"stream: Some.Sig-1 FOUND\0").await;
        let verdict = scan(&addr, b"", Duration::from_secs(5)).await.unwrap();
        assert_eq!(verdict, ScanVerdict::Infected("Some.Sig-1".to_owned()));
        assert_eq!(server.await.unwrap(), b"");

        let (addr, _server) = fake_clamd(b"PONG\0").await;
        ping(&addr).await.unwrap();

        let (addr, _server) = fake_clamd(b"PANG\0").await;
        assert!(matches!(ping(&addr).await, Err(ScanError::Protocol(r)) if r == "PANG"));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let _server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(s);
        });
        let r = scan(&addr, b"data", Duration::from_millis(200)).await;
        assert!(matches!(r, Err(ScanError::Timeout)), "{r:?}");
    }

    #[tokio::test]
    async fn refused_connection_is_an_error() {
        // Bind then drop to get a port that is (very likely) closed.
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().to_string()
        };
        let r = scan(&addr, b"data", Duration::from_secs(2)).await;
        assert!(matches!(r, Err(ScanError::Connect { .. })), "{r:?}");
    }

    /// Runs against a real clamd only when `CASEGATE_TEST_CLAMD=host:port` is
    /// set (the project's test script starts one, loaded with an EICAR-only
    /// signature database); otherwise it is a no-op that says so.
    #[tokio::test]
    async fn real_clamd() {
        let Ok(addr) = std::env::var("CASEGATE_TEST_CLAMD") else {
            eprintln!("real_clamd: CASEGATE_TEST_CLAMD not set, skipping");
            return;
        };
        let timeout = Duration::from_secs(30);
        ping(&addr).await.unwrap();
        let pdf = samples::pdf();
        assert_eq!(
            scan(&addr, &pdf, timeout).await.unwrap(),
            ScanVerdict::Clean
        );
        assert_eq!(
            scan(&addr, &samples::png(), timeout).await.unwrap(),
            ScanVerdict::Clean
        );
        match scan(&addr, &eicar(), timeout).await.unwrap() {
            ScanVerdict::Infected(name) => assert!(name.contains("Eicar"), "{name}"),
            other => panic!("EICAR not detected: {other:?}"),
        }
        // Larger than one chunk, clean.
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        assert_eq!(
            scan(&addr, &big, timeout).await.unwrap(),
            ScanVerdict::Clean
        );
    }
}
