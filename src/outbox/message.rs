//! Turns an outbox row into a complete RFC 5322 message. The SMTP and the
//! files transport send the very same bytes, headers included.

use std::time::{Duration, UNIX_EPOCH};

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use rand::RngCore;

use super::SendError;
use crate::crypto::random_hex;

/// A fresh RFC 5322 Message-ID, `<32 hex digits@casegate>`. It is chosen at
/// enqueue time and never changes, so a resend after a crash carries the same
/// id and receivers can drop the duplicate.
pub fn new_message_id<R: RngCore + ?Sized>(rng: &mut R) -> String {
    format!("<{}@casegate>", random_hex(rng, 16))
}

/// Whether `addr` is an address (or `Name <address>` mailbox) the outbox can
/// send to. Callers may check before enqueueing; the worker gives up on a row
/// whose address does not parse.
pub fn is_valid_address(addr: &str) -> bool {
    addr.parse::<Mailbox>().is_ok()
}

/// What a message is built from: the row's stable fields and the opened body.
pub(super) struct Parts<'a> {
    pub from: &'a Mailbox,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub created_at: i64,
    pub text: String,
}

/// Builds the message: MIME-Version, Message-ID, Date (enqueue time, stable across
/// retries), From, To, Subject (RFC 2047-encoded when not ASCII),
/// `Content-Type: text/plain; charset=utf-8`, and a 7-bit transfer encoding
/// chosen by lettre (quoted-printable or base64 for non-ASCII text), so any
/// relay accepts it.
pub(super) fn build(p: Parts<'_>) -> Result<Message, SendError> {
    let to: Mailbox =
        p.to.parse()
            .map_err(|_| SendError::Permanent("invalid recipient address".into()))?;
    let date = UNIX_EPOCH + Duration::from_secs(p.created_at.max(0) as u64);
    Message::builder()
        .message_id(Some(p.message_id.to_string()))
        .date(date)
        .from(p.from.clone())
        .to(to)
        .subject(one_line(p.subject))
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(p.text)
        .map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))
}

/// Header text must not carry line breaks or other control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn message_ids_are_rfc5322_and_unique() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let a = new_message_id(&mut rng);
        let b = new_message_id(&mut rng);
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@casegate>"));
        assert_eq!(a.len(), 1 + 32 + "@casegate>".len());
    }

    #[test]
    fn addresses_are_checked() {
        assert!(is_valid_address("ana@example.org"));
        assert!(is_valid_address("Ana Pérez <ana@example.org>"));
        assert!(!is_valid_address("not an address"));
        assert!(!is_valid_address("a@example.org\r\nBcc: x@example.org"));
    }

    #[test]
    fn builds_utf8_text_with_all_headers() {
        let from: Mailbox = "Agencia <no-reply@casegate.invalid>".parse().unwrap();
        let msg = build(Parts {
            from: &from,
            to: "ana@example.org",
            subject: "Su código\r\nBcc: evil@example.org",
            message_id: "<00ff@casegate>",
            created_at: 1_795_000_000,
            text: "Hola, señora. Código: 123456\n".into(),
        })
        .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(raw.is_ascii(), "7-bit clean on the wire");
        assert!(head.contains("Message-ID: <00ff@casegate>"));
        assert!(head.contains("From: Agencia <no-reply@casegate.invalid>"));
        assert!(head.contains("To: ana@example.org"));
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(head.contains("Date: "));
        assert!(head.contains("MIME-Version: 1.0"));
        assert!(!head.contains("\r\nBcc:"), "no header injection: {head}");
        assert!(
            build(Parts {
                from: &from,
                to: "nope",
                subject: "x",
                message_id: "<1@casegate>",
                created_at: 0,
                text: String::new(),
            })
            .is_err()
        );
    }
}
