//! Standard Webhooks signing (<https://www.standardwebhooks.com/>): the
//! secret is `whsec_` + base64 of 32 random bytes; a delivery carries
//! `webhook-id`, `webhook-timestamp` (unix seconds of this attempt) and
//! `webhook-signature: v1,<base64 HMAC-SHA256("id.timestamp.body")>` keyed
//! with the secret's decoded bytes.

use data_encoding::BASE64;
use rand::RngCore;

use crate::crypto::hmac_sha256;

pub const SECRET_PREFIX: &str = "whsec_";

/// A subscription's signing key (the decoded bytes).
#[derive(Clone)]
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

impl SigningSecret {
    pub fn generate(rng: &mut (dyn RngCore + Send)) -> SigningSecret {
        let mut b = vec![0u8; 32];
        rng.fill_bytes(&mut b);
        SigningSecret(b)
    }

    /// 24 to 64 bytes (the specification's range).
    pub fn from_bytes(b: &[u8]) -> Option<SigningSecret> {
        (24..=64)
            .contains(&b.len())
            .then(|| SigningSecret(b.to_vec()))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_…`, shown to the subscriber once.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.0))
    }

    /// Parses `whsec_…` (what a receiver does with the secret it was given).
    pub fn from_whsec(s: &str) -> Option<SigningSecret> {
        let b = BASE64
            .decode(s.strip_prefix(SECRET_PREFIX)?.as_bytes())
            .ok()?;
        SigningSecret::from_bytes(&b)
    }

    /// The `webhook-signature` header value.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut signed = Vec::with_capacity(msg_id.len() + body.len() + 24);
        signed.extend_from_slice(msg_id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(timestamp.to_string().as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        format!("v1,{}", BASE64.encode(&hmac_sha256(&self.0, &signed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn matches_the_specifications_test_vector() {
        let secret = SigningSecret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secret_round_trips_and_signs_id_timestamp_body() {
        let s = SigningSecret(vec![7; 32]);
        let w = s.to_whsec();
        assert!(w.starts_with("whsec_"));
        let back = SigningSecret::from_whsec(&w).unwrap();
        assert_eq!(back.bytes(), s.bytes());
        let sig = s.sign("msg_1", 1_700_000_000, b"{}");
        let mac = hmac_sha256(&[7; 32], b"msg_1.1700000000.{}");
        assert_eq!(sig, format!("v1,{}", BASE64.encode(&mac)));
    }
}
