//! Small cryptographic helpers: keyed hashes, sealing, constant-time comparison.
//! Randomness is always passed in by the caller.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Compares two byte strings without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A random token of `bytes` bytes, hex-encoded.
pub fn random_hex<R: RngCore + ?Sized>(rng: &mut R, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened")]
pub struct UnsealError;

/// Encrypts `plain` with AES-256-GCM; output is nonce ‖ ciphertext ‖ tag.
/// `aad` binds the ciphertext to its context (e.g. the notice it belongs to).
pub fn seal<R: RngCore + ?Sized>(key: &[u8; 32], rng: &mut R, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let payload = aes_gcm::aead::Payload { msg: plain, aad };
    match cipher.encrypt(Nonce::from_slice(&nonce), payload) {
        Ok(ct) => {
            let mut out = nonce.to_vec();
            out.extend_from_slice(&ct);
            out
        }
        // Encryption only fails for inputs larger than GCM's 64 GiB limit.
        Err(_) => unreachable!("AES-GCM encryption of a short message"),
    }
}

pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, UnsealError> {
    if sealed.len() < 12 + 16 {
        return Err(UnsealError);
    }
    let cipher = Aes256Gcm::new(key.into());
    let (nonce, ct) = sealed.split_at(12);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            aes_gcm::aead::Payload { msg: ct, aad },
        )
        .map_err(|_| UnsealError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn seal_round_trips_and_rejects_tampering() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let key = [9u8; 32];
        let sealed = seal(&key, &mut rng, b"notice:1", b"ABCD");
        assert_eq!(open(&key, b"notice:1", &sealed).unwrap(), b"ABCD");
        assert!(open(&key, b"notice:2", &sealed).is_err());
        let mut bad = sealed.clone();
        bad[14] ^= 1;
        assert!(open(&key, b"notice:1", &bad).is_err());
        assert!(open(&[8u8; 32], b"notice:1", &sealed).is_err());
    }

    #[test]
    fn constant_time_eq_behaves() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
