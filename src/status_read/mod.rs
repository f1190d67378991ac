//! The public status read model, shared by every interface that shows a
//! case's status: the status page, the Torch-compatible API, the Case Status
//! Online JSON and the account's case pages. `store` reads a record (one row
//! on SQLite, the join on PostgreSQL) behind the per-instance cache;
//! `describe` turns a record into its texts, pure and per language.

pub mod describe;
pub mod store;
pub mod torch;
