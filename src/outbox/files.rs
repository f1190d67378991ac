//! The files transport (no relay configured): each message becomes
//! `<dir>/<created-at>-<id>.eml`, a complete RFC 5322 message, written to a
//! temporary file, flushed and renamed into place so a reader never sees half
//! a message. The name depends only on the row, so a resend after a crash
//! replaces the same file instead of adding a second one.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::SendError;

/// `20261120T150000Z-42.eml`: enqueue time (UTC) and outbox id.
pub fn file_name(created_at: i64, id: i64) -> String {
    let stamp = chrono::DateTime::from_timestamp(created_at, 0)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| created_at.to_string());
    format!("{stamp}-{id}.eml")
}

pub(super) async fn write(
    dir: &Path,
    created_at: i64,
    id: i64,
    bytes: Vec<u8>,
) -> Result<PathBuf, SendError> {
    let dir = dir.to_path_buf();
    let name = file_name(created_at, id);
    tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
        .await
        .map_err(|e| SendError::Transient(format!("file writer stopped: {e}")))?
        .map_err(|e| SendError::Transient(super::short_error(&format!("cannot write .eml: {e}"))))
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)?;
        // Make the rename itself durable where the platform allows it.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(target.clone())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_are_stable() {
        assert_eq!(file_name(1_795_000_000, 7), "20261118T110640Z-7.eml");
        assert_eq!(file_name(0, 1), "19700101T000000Z-1.eml");
    }
}
