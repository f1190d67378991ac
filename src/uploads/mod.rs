//! Evidence uploads: documents an applicant sends in answer to a request for
//! evidence.
//!
//! Suggested handling of one upload:
//!
//! 1. Refuse bodies over [`kind::MAX_BYTES`] while reading the request.
//! 2. [`kind::detect`] the type from the content (the name is never
//!    consulted); refuse on error.
//! 3. [`clamd::scan`]; any error means "not scanned", so fail closed.
//! 4. [`Storage::put`] and keep the returned [`StoredObject`], the detected
//!    [`Kind`] and [`file_name::safe_display_name`] of the original name in the
//!    database. If a later rescan finds malware, [`Storage::quarantine`] it.
//! 5. Serve downloads only once scanned clean, with the stored MIME type,
//!    `X-Content-Type-Options: nosniff`, a sandboxing CSP and a
//!    server-chosen attachment name whose extension is the detected type's
//!    (casegate: `uploads::evidence::serve`).

pub mod clamd;
pub mod evidence;
pub mod file_name;
pub mod identify;
pub mod kind;
pub mod storage;

pub use clamd::{ScanError, ScanVerdict};
pub use file_name::{content_disposition, safe_display_name};
pub use kind::{Kind, KindError, MAX_BYTES, detect};
pub use storage::{LocalStorage, Storage, StorageError, StoredObject};
