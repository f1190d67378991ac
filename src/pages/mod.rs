//! Pages that more than one flow shows. A flow never renders another flow's
//! templates or calls its handler: what two flows share lives here (pages) or
//! in a shared service module (`auth`, `notices`, `uploads`, `status_read`).

pub mod backup_codes;
pub mod check_email;
