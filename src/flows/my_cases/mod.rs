//! My cases (`/account`) and the case page (`/account/cases/{receipt}`):
//! status and description, history, notices (PDF), open document requests,
//! processing time. Every lookup goes through `crate::authz`.

pub mod handler;
pub mod policy;
pub mod store;
