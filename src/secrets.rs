//! Server secrets. One 32-byte master key (given in the configuration or
//! generated into `<data_dir>/master.key` with mode 0600 on first start);
//! every purpose-specific key is derived from it with HMAC, so rotating a
//! purpose means changing its label. Never logged: `Debug` is redacted.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::crypto::hmac_sha256;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read or create the master key at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the master key file {0} does not hold 64 hexadecimal characters")]
    Malformed(String),
}

#[derive(Clone)]
pub struct Secrets {
    /// Keyed hash of online access codes.
    pub access_code_key: [u8; 32],
    /// Keyed hash of identifiers (A-Numbers, receipt numbers) in audit and limits.
    pub identifier_key: [u8; 32],
    /// Keyed hash of API client secrets and bearer tokens.
    pub api_key: [u8; 32],
    /// Seals access codes on letters until they are mailed.
    pub letter_key: [u8; 32],
    /// Pepper added to password hashes.
    pub password_pepper: [u8; 32],
    /// Keyed hash of session ids and one-time tokens.
    pub session_key: [u8; 32],
    /// Signs CAPTCHA challenges.
    pub captcha_key: [u8; 32],
    /// Seals TOTP secrets at rest.
    pub totp_key: [u8; 32],
    /// Signs the short-lived Case Status Online tokens (`/csol-api/ui-auth`).
    pub csol_key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    pub fn from_master(master: &[u8; 32]) -> Secrets {
        let derive = |label: &str| hmac_sha256(master, label.as_bytes());
        Secrets {
            access_code_key: derive("casegate/access-code/v1"),
            identifier_key: derive("casegate/identifier/v1"),
            api_key: derive("casegate/api/v1"),
            letter_key: derive("casegate/letter-seal/v1"),
            password_pepper: derive("casegate/password-pepper/v1"),
            session_key: derive("casegate/session/v1"),
            captcha_key: derive("casegate/captcha/v1"),
            totp_key: derive("casegate/totp-seal/v1"),
            csol_key: derive("casegate/csol-token/v1"),
        }
    }

    /// Uses the configured hex key, else reads or creates `<data_dir>/master.key`.
    pub fn load_or_create(
        configured_hex: Option<&str>,
        data_dir: &Path,
        rng: &mut dyn RngCore,
    ) -> Result<Secrets, SecretsError> {
        if let Some(h) = configured_hex {
            return parse_hex(h)
                .map(|m| Secrets::from_master(&m))
                .ok_or_else(|| SecretsError::Malformed("CASEGATE_MASTER_KEY".into()));
        }
        let path = data_dir.join("master.key");
        let io = |source| SecretsError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_hex(text.trim())
                .map(|m| Secrets::from_master(&m))
                .ok_or_else(|| SecretsError::Malformed(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let mut master = [0u8; 32];
                rng.fill_bytes(&mut master);
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                match opts.open(&path) {
                    Ok(mut f) => {
                        f.write_all(hex::encode(master).as_bytes()).map_err(io)?;
                        f.sync_all().map_err(io)?;
                        Ok(Secrets::from_master(&master))
                    }
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(None, data_dir, rng)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }
}

fn parse_hex(h: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(h).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("casegate-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut rng = rand::rngs::OsRng;
        let a = Secrets::load_or_create(None, &dir, &mut rng).unwrap();
        let b = Secrets::load_or_create(None, &dir, &mut rng).unwrap();
        assert_eq!(a.access_code_key, b.access_code_key);
        assert_ne!(a.access_code_key, a.identifier_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{a:?}"), "Secrets(<redacted>)");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn configured_key_wins_and_is_checked() {
        let dir = std::env::temp_dir();
        let mut rng = rand::rngs::OsRng;
        let k = "11".repeat(32);
        let s = Secrets::load_or_create(Some(&k), &dir, &mut rng).unwrap();
        assert_eq!(s.api_key, Secrets::from_master(&[0x11; 32]).api_key);
        assert!(Secrets::load_or_create(Some("zz"), &dir, &mut rng).is_err());
    }
}
