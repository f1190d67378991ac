//! Server secrets. One 32-byte master key (given in the configuration, or
//! in a key file outside the data folder; only `serve --demo`, the one-shot
//! commands and an explicit opt-in use `<data_dir>/master.key`, mode 0600);
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
    #[error(
        "the master key {key} is inside the data folder {data_dir}, so one copy of that folder would \
         recover every TOTP seed and code. Move it out (e.g. `mv {key} /etc/casegate/master.key`, \
         readable only by casegate) and set CASEGATE_MASTER_KEY_FILE to its new place, or put its \
         value in CASEGATE_MASTER_KEY; to keep it there knowingly, set CASEGATE_ALLOW_KEY_IN_DATA_DIR=1"
    )]
    KeyInDataDir { key: String, data_dir: String },
    #[error(
        "no master key configured: set CASEGATE_MASTER_KEY (64 hexadecimal characters) or \
         CASEGATE_MASTER_KEY_FILE (a file outside the data folder, created on first start if missing); \
         only `serve --demo` keeps its key in the data folder"
    )]
    NoKey,
}

/// Where the master key may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRule {
    /// `serve --demo` (its data is public) and the one-shot commands: a key
    /// in the data folder is read, or created there for a new folder.
    DataDirAllowed,
    /// `serve`: from configuration or a key file outside the data folder; a
    /// key inside it only with the operator's explicit opt-in.
    OutsideDataDir { allow_in_data_dir: bool },
}

/// Pure path logic: is `file` inside `dir`? Both are made absolute and, as
/// far as they exist, canonical (symbolic links resolved).
pub fn is_inside(file: &Path, dir: &Path) -> bool {
    fn resolve(p: &Path) -> std::path::PathBuf {
        if let Ok(c) = p.canonicalize() {
            return c;
        }
        // A file that does not exist yet: resolve its folder.
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                resolve(parent).join(name)
            }
            _ => std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
        }
    }
    resolve(file).starts_with(resolve(dir))
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
    /// Keys the audit log's hash chain (HMAC-SHA-256).
    pub audit_key: [u8; 32],
    /// Signs the short-lived Case Status Online tokens (`/csol-api/ui-auth`).
    pub csol_key: [u8; 32],
    /// Seals a new set of backup codes to the session that must confirm
    /// them (held only until "I have saved my codes").
    pub pending_codes_key: [u8; 32],
    /// Seals webhook signing secrets at rest.
    pub webhook_key: [u8; 32],
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
            audit_key: derive("casegate/audit-chain/v1"),
            csol_key: derive("casegate/csol-token/v1"),
            pending_codes_key: derive("casegate/pending-backup-codes/v1"),
            webhook_key: derive("casegate/webhook-seal/v1"),
        }
    }

    /// The master key by `rule`: the configured hex key; else the key file
    /// (created with mode 0600 if missing); else `<data_dir>/master.key` where
    /// the rule allows it. A key inside the data folder is refused under
    /// [`KeyRule::OutsideDataDir`] without the opt-in, with a message that
    /// says how to move it.
    pub fn load(
        configured_hex: Option<&str>,
        key_file: Option<&Path>,
        data_dir: &Path,
        rule: KeyRule,
        rng: &mut dyn RngCore,
    ) -> Result<Secrets, SecretsError> {
        if configured_hex.is_some() {
            return Self::load_or_create(configured_hex, data_dir, rng);
        }
        let strict = rule
            == KeyRule::OutsideDataDir {
                allow_in_data_dir: false,
            };
        let in_data = |key: &Path| SecretsError::KeyInDataDir {
            key: key.display().to_string(),
            data_dir: data_dir.display().to_string(),
        };
        if let Some(file) = key_file {
            if strict && is_inside(file, data_dir) {
                return Err(in_data(file));
            }
            return read_or_create_key(file, rng);
        }
        let default = data_dir.join("master.key");
        if !strict {
            return Self::load_or_create(None, data_dir, rng);
        }
        if default.exists() {
            Err(in_data(&default))
        } else {
            Err(SecretsError::NoKey)
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

/// Reads a key file, or creates it (mode 0600, its folder if needed).
fn read_or_create_key(path: &Path, rng: &mut dyn RngCore) -> Result<Secrets, SecretsError> {
    let io = |source| SecretsError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_hex(text.trim())
            .map(|m| Secrets::from_master(&m))
            .ok_or_else(|| SecretsError::Malformed(path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut master = [0u8; 32];
            rng.fill_bytes(&mut master);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(path).map_err(io)?;
            f.write_all(hex::encode(master).as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(Secrets::from_master(&master))
        }
        Err(e) => Err(io(e)),
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
    fn serve_keeps_the_key_out_of_the_data_folder() {
        let root = std::env::temp_dir().join(format!("casegate-keyrule-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut rng = rand::rngs::OsRng;
        let strict = KeyRule::OutsideDataDir {
            allow_in_data_dir: false,
        };
        let opted_in = KeyRule::OutsideDataDir {
            allow_in_data_dir: true,
        };
        assert!(matches!(
            Secrets::load(None, None, &data, strict, &mut rng),
            Err(SecretsError::NoKey)
        ));
        Secrets::load(None, None, &data, KeyRule::DataDirAllowed, &mut rng).unwrap();
        assert!(matches!(
            Secrets::load(None, None, &data, strict, &mut rng),
            Err(SecretsError::KeyInDataDir { .. })
        ));
        Secrets::load(None, None, &data, opted_in, &mut rng).unwrap();
        let sneaky = data.join("..").join("data").join("k");
        assert!(is_inside(&sneaky, &data));
        assert!(matches!(
            Secrets::load(None, Some(&sneaky), &data, strict, &mut rng),
            Err(SecretsError::KeyInDataDir { .. })
        ));
        let outside = root.join("keys").join("master.key");
        let a = Secrets::load(None, Some(&outside), &data, strict, &mut rng).unwrap();
        let b = Secrets::load(None, Some(&outside), &data, strict, &mut rng).unwrap();
        assert_eq!(a.totp_key, b.totp_key);
        std::fs::remove_dir_all(&root).unwrap();
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
