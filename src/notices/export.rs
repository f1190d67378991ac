//! `casegate letters export DIR`: writes every queued letter as a PDF and
//! marks it printed. A letter is marked only after its file is on disk, so a
//! crash can cause a reprint but never a lost letter.

use std::path::Path;

use super::render::{LetterContext, render};
use super::store::{self, NoticeRecord};
use super::{MailState, NoticeKind};
use crate::crypto::open;
use crate::domain::AccessCode;
use crate::secrets::Secrets;
use crate::store::{Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Opens the sealed access code of a letter, if it still has one.
pub fn unseal_code(n: &NoticeRecord, secrets: &Secrets) -> Option<AccessCode> {
    let aad = match n.kind {
        NoticeKind::Receipt
        | NoticeKind::Rfe
        | NoticeKind::Interview
        | NoticeKind::Approval
        | NoticeKind::Denial
        | NoticeKind::Biometrics
        | NoticeKind::Oath
        | NoticeKind::Reopening
        | NoticeKind::Transfer
        | NoticeKind::Explanation
        | NoticeKind::Duplicate
        | NoticeKind::Correction
        | NoticeKind::Refund
        | NoticeKind::Closure
        | NoticeKind::IntentToDeny => return None,
        NoticeKind::AccessNotice => n.receipt_number.clone().unwrap_or_default(),
        NoticeKind::CodeLetter => super::code_letter_aad(n.access_code_id?),
        NoticeKind::AddressConfirm | NoticeKind::AddressAlert => {
            crate::address_change::letter_aad(n.address_change_id?, n.kind)
        }
    };
    let sealed = n.code_sealed.as_ref()?;
    let plain = open(&secrets.letter_key, aad.as_bytes(), sealed).ok()?;
    AccessCode::parse(std::str::from_utf8(&plain).ok()?).ok()
}

pub fn file_name(n: &NoticeRecord) -> String {
    format!(
        "{:09}-{}-{}.pdf",
        n.id,
        n.kind.code().replace('_', "-"),
        n.receipt_number.as_deref().unwrap_or("none")
    )
}

/// Exports all queued letters; returns how many were written.
pub async fn export(
    db: &Db,
    secrets: &Secrets,
    ctx: &LetterContext<'_>,
    dir: &Path,
    now: i64,
) -> Result<usize, ExportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ExportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut after = 0;
    let mut written = 0;
    loop {
        let batch = store::queued(db, after, 500).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.id;
        for n in &batch {
            let code = unseal_code(n, secrets);
            let bytes = render(n, code.as_ref(), ctx);
            let path = dir.join(file_name(n));
            std::fs::write(&path, &bytes).map_err(io(&path))?;
            if store::set_mail_state(db.pool(), n.id, MailState::Queued, MailState::Printed, now)
                .await?
            {
                written += 1;
            }
        }
    }
    Ok(written)
}
