//! Where uploaded documents are kept.
//!
//! [`Storage`] is the seam for other back ends (an S3-compatible store can
//! implement it later); [`LocalStorage`] keeps objects on the local disk.
//! Objects are addressed only by a random key that this module generates, so
//! no applicant-supplied text ever becomes part of a path.
//!
//! The trait uses return-position `impl Future` (stable since Rust 1.75)
//! instead of the `async-trait` crate. Such a trait is not object safe: use
//! it through generics (`S: Storage`) or an enum of back ends, not
//! `dyn Storage`. Implementations may write `async fn` for each method as
//! long as the future is `Send`.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Name of the folder, inside the storage directory, that holds quarantined
/// objects. Not two hex digits, so it never collides with a fan-out folder.
pub const QUARANTINE_DIR: &str = "quarantine";

/// A stored object, as returned by [`Storage::put`]. Keep all three fields in
/// the database: `sha256` lets a later reader verify the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Random key: 32 lowercase hex characters (128 bits from the OS RNG).
    pub key: String,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key is not 32 lowercase hex characters. Nothing was touched.
    #[error("invalid storage key")]
    InvalidKey,
    /// No object with that key (for `quarantine` and `get`).
    #[error("no stored object with that key")]
    NotFound,
    /// The back end failed.
    #[error("storage I/O error: {0}")]
    Io(#[from] io::Error),
}

/// A store of immutable, randomly keyed blobs.
pub trait Storage: Send + Sync {
    /// Store `bytes` under a fresh random key. On success the object is
    /// durable (written, flushed and fsynced on local disk).
    fn put(&self, bytes: &[u8]) -> impl Future<Output = Result<StoredObject, StorageError>> + Send;

    /// Read a live (not quarantined) object.
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StorageError>> + Send;

    /// Delete a live object. Deleting a missing object succeeds (like S3).
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Move a live object into quarantine under the same key: it can no
    /// longer be read with [`Storage::get`] but is kept for review.
    fn quarantine(&self, key: &str) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// Is `key` exactly 32 lowercase hex characters?
pub fn is_valid_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh random key from the operating system's RNG.
fn new_key() -> String {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

/// Objects on the local file system, as `dir/ab/abcdef…` (the first two hex
/// characters of the key name a fan-out folder), and `dir/quarantine/<key>`.
///
/// `dir` must not be inside anything served over HTTP; casegate uses
/// `<data_dir>/uploads`. Folders are created on demand (mode 0700 on unix)
/// and files are created with mode 0600 on unix.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    dir: PathBuf,
}

impl LocalStorage {
    /// Storage rooted at `dir`. Does no I/O; `dir` is created on first `put`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The root folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of a live object. Validates the key before building any path.
    fn object_path(&self, key: &str) -> Result<PathBuf, StorageError> {
        if !is_valid_key(key) {
            return Err(StorageError::InvalidKey);
        }
        Ok(self.dir.join(&key[..2]).join(key))
    }

    /// Path of a quarantined object. Validates the key first.
    fn quarantine_path(&self, key: &str) -> Result<PathBuf, StorageError> {
        if !is_valid_key(key) {
            return Err(StorageError::InvalidKey);
        }
        Ok(self.dir.join(QUARANTINE_DIR).join(key))
    }

    /// Removes the temporary files of writes that never finished (the process
    /// was killed or crashed between creating `.<key>.tmp` and renaming it):
    /// such a file is no object, nobody can read it, and it may hold part of
    /// an applicant's document. Run at start-up. A temporary file whose lock
    /// is held belongs to a write still running (in another instance sharing
    /// the folder) and is left alone. Returns how many were removed.
    pub async fn sweep_temp(&self) -> Result<usize, StorageError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || sweep_temp_blocking(&dir))
            .await
            .map_err(|e| StorageError::Io(io::Error::other(e)))?
            .map_err(StorageError::Io)
    }

    /// Read a quarantined object (for an administrator's review).
    pub async fn get_quarantined(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.quarantine_path(key)?;
        tokio::fs::read(&path).await.map_err(not_found)
    }

    async fn write_new(&self, tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(tmp).await?;
        // Held until the file has its final name: [`LocalStorage::sweep_temp`]
        // leaves locked temporary files alone. The operating system drops the
        // lock when the process dies, however it dies.
        let file = file.into_std().await;
        file.lock()?;
        let mut file = tokio::fs::File::from_std(file);
        file.write_all(bytes).await?;
        file.flush().await?;
        file.sync_all().await?;
        let renamed = tokio::fs::rename(tmp, path).await;
        drop(file);
        renamed
    }
}

fn sweep_temp_blocking(dir: &Path) -> io::Result<usize> {
    let fans = match std::fs::read_dir(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for fan in fans {
        let fan = fan?;
        // Fan-out folders are two hex digits; quarantine is left alone.
        if fan.file_name().len() != 2 || !fan.file_type()?.is_dir() {
            continue;
        }
        let before = removed;
        for f in std::fs::read_dir(fan.path())? {
            let f = f?;
            let name = f.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with('.') && name.ends_with(".tmp")) {
                continue;
            }
            let file = match std::fs::File::options().write(true).open(f.path()) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            match file.try_lock() {
                Ok(()) => {}
                // A write in progress.
                Err(std::fs::TryLockError::WouldBlock) => continue,
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            match std::fs::remove_file(f.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if removed > before {
            #[cfg(unix)]
            std::fs::File::open(fan.path())?.sync_all()?;
        }
    }
    Ok(removed)
}

/// Create `dir` and its parents (mode 0700 on unix).
async fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await
}

/// Make a rename or creation inside `dir` durable.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn not_found(e: io::Error) -> StorageError {
    if e.kind() == io::ErrorKind::NotFound {
        StorageError::NotFound
    } else {
        StorageError::Io(e)
    }
}

impl Storage for LocalStorage {
    async fn put(&self, bytes: &[u8]) -> Result<StoredObject, StorageError> {
        let key = new_key();
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.object_path(&key)?;
        let fan_out = self.dir.join(&key[..2]);
        create_dir(&fan_out).await?;
        // Same folder as the target, so the rename is atomic; the leading dot
        // keeps it out of the key namespace.
        let tmp = fan_out.join(format!(".{key}.tmp"));
        if let Err(e) = self.write_new(&tmp, &path, bytes).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        sync_dir(&fan_out).await?;
        Ok(StoredObject {
            key,
            sha256,
            size: bytes.len() as u64,
        })
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let path = self.object_path(key)?;
        tokio::fs::read(&path).await.map_err(not_found)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.object_path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn quarantine(&self, key: &str) -> Result<(), StorageError> {
        let from = self.object_path(key)?;
        let to = self.quarantine_path(key)?;
        // Fail with NotFound before creating anything.
        tokio::fs::metadata(&from).await.map_err(not_found)?;
        let qdir = self.dir.join(QUARANTINE_DIR);
        create_dir(&qdir).await?;
        tokio::fs::rename(&from, &to).await.map_err(not_found)?;
        sync_dir(&qdir).await?;
        if let Some(parent) = from.parent() {
            sync_dir(parent).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uploads::kind::samples;

    /// A fresh, not yet existing folder under the system temp dir.
    fn scratch_dir() -> PathBuf {
        let mut raw = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut raw);
        std::env::temp_dir().join(format!("casegate-uploads-test-{}", hex::encode(raw)))
    }

    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn put_get_round_trip() {
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir.join("uploads"));
        let pdf = samples::pdf();
        let obj = store.put(&pdf).await.unwrap();
        assert!(is_valid_key(&obj.key), "{}", obj.key);
        assert_eq!(obj.size, pdf.len() as u64);
        assert_eq!(obj.sha256, hex::encode(Sha256::digest(&pdf)));
        let back = store.get(&obj.key).await.unwrap();
        assert_eq!(back, pdf);
        assert_eq!(hex::encode(Sha256::digest(&back)), obj.sha256);

        // Layout: dir/ab/abcdef…, no temp file left behind.
        let path = dir.join("uploads").join(&obj.key[..2]).join(&obj.key);
        assert!(path.is_file());
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(&obj.key)]);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
    }

    #[tokio::test]
    async fn keys_are_random_32_hex() {
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir);
        let a = store.put(b"one").await.unwrap();
        let b = store.put(b"one").await.unwrap();
        for k in [&a.key, &b.key] {
            assert_eq!(k.len(), 32);
            assert!(
                k.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
        }
        assert_ne!(a.key, b.key);
        assert_eq!(a.sha256, b.sha256);
        // Empty objects are fine.
        let e = store.put(b"").await.unwrap();
        assert_eq!(e.size, 0);
        assert_eq!(
            e.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(store.get(&e.key).await.unwrap(), b"");
    }

    #[test]
    fn key_validation() {
        assert!(is_valid_key("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef/123456789abcdef",
            "0123456789abcdef\x00123456789abcdef",
            "0123456789abcdef0123456789abcdeé",
            "..23456789abcdef0123456789abcdef",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn bad_keys_never_touch_the_file_system() {
        // The root does not exist; a bad key must fail before any I/O, so
        // the error is InvalidKey (not NotFound) and nothing gets created.
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir.clone());
        for key in ["../../etc/passwd", "/etc/passwd", "..", "", "quarantine"] {
            assert!(matches!(
                store.get(key).await,
                Err(StorageError::InvalidKey)
            ));
            assert!(matches!(
                store.delete(key).await,
                Err(StorageError::InvalidKey)
            ));
            assert!(matches!(
                store.quarantine(key).await,
                Err(StorageError::InvalidKey)
            ));
            assert!(matches!(
                store.get_quarantined(key).await,
                Err(StorageError::InvalidKey)
            ));
        }
        assert!(!dir.exists());
        // A well-formed but unknown key is NotFound, and still creates nothing.
        let unknown = "0123456789abcdef0123456789abcdef";
        assert!(matches!(
            store.get(unknown).await,
            Err(StorageError::NotFound)
        ));
        assert!(matches!(
            store.quarantine(unknown).await,
            Err(StorageError::NotFound)
        ));
        assert!(store.delete(unknown).await.is_ok());
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn quarantine_moves_the_file() {
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir.clone());
        let obj = store.put(b"suspicious").await.unwrap();
        let live = dir.join(&obj.key[..2]).join(&obj.key);
        assert!(live.is_file());
        store.quarantine(&obj.key).await.unwrap();
        assert!(!live.exists());
        let moved = dir.join(QUARANTINE_DIR).join(&obj.key);
        assert_eq!(std::fs::read(&moved).unwrap(), b"suspicious");
        assert!(matches!(
            store.get(&obj.key).await,
            Err(StorageError::NotFound)
        ));
        assert_eq!(
            store.get_quarantined(&obj.key).await.unwrap(),
            b"suspicious"
        );
        // A second quarantine finds nothing live.
        assert!(matches!(
            store.quarantine(&obj.key).await,
            Err(StorageError::NotFound)
        ));
    }

    #[tokio::test]
    async fn start_up_sweeps_unfinished_writes_but_not_running_ones() {
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir.clone());
        assert_eq!(store.sweep_temp().await.unwrap(), 0);
        let obj = store.put(b"kept").await.unwrap();
        let fan = dir.join(&obj.key[..2]);
        // Left by a killed process: nobody holds its lock.
        let dead = fan.join(format!(".{}.tmp", "a".repeat(32)));
        std::fs::write(&dead, b"half").unwrap();
        // Being written right now (by another instance): locked.
        let running = fan.join(format!(".{}.tmp", "b".repeat(32)));
        std::fs::write(&running, b"being written").unwrap();
        let writer = std::fs::File::options().write(true).open(&running).unwrap();
        writer.lock().unwrap();
        let q = dir.join(QUARANTINE_DIR);
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join(".x.tmp"), b"not ours to judge").unwrap();
        assert_eq!(store.sweep_temp().await.unwrap(), 1);
        assert!(!dead.exists() && running.exists());
        assert!(q.join(".x.tmp").exists());
        assert_eq!(store.get(&obj.key).await.unwrap(), b"kept");
        drop(writer);
        assert_eq!(store.sweep_temp().await.unwrap(), 1);
        assert!(!running.exists());
    }

    #[tokio::test]
    async fn delete_removes_the_object() {
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let store = LocalStorage::new(dir);
        let obj = store.put(b"bye").await.unwrap();
        store.delete(&obj.key).await.unwrap();
        assert!(matches!(
            store.get(&obj.key).await,
            Err(StorageError::NotFound)
        ));
        store.delete(&obj.key).await.unwrap();
    }

    /// The trait is usable generically and its futures are `Send`, so they
    /// can run inside `tokio::spawn` (as an axum handler's would).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn generic_use_is_send() {
        async fn store_twice<S: Storage + 'static>(s: std::sync::Arc<S>) -> Vec<String> {
            let mut keys = Vec::new();
            for _ in 0..2 {
                let s = s.clone();
                let obj = tokio::spawn(async move { s.put(b"x").await })
                    .await
                    .unwrap();
                keys.push(obj.unwrap().key);
            }
            keys
        }
        let dir = scratch_dir();
        let _cleanup = Cleanup(dir.clone());
        let keys = store_twice(std::sync::Arc::new(LocalStorage::new(dir))).await;
        assert_eq!(keys.len(), 2);
    }
}
