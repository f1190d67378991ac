//! Saving a new set of backup codes (`/account/backup-codes`): the page
//! that shows them while they are pending, the text download, the
//! print-friendly page and "I have saved my codes". The set itself, its
//! sealing and the page live in `pages::backup_codes` (two flows make a set).

pub mod handler;
