//! Processing times (`/processing-times` and the case-page panel): per form
//! and office, the time within which 80% of the cases decided in the last six
//! months were decided, computed from casegate's own data by a background
//! refresh (never on the request path) and read from a small table.

pub mod chart;
pub mod handler;
pub mod policy;
pub mod store;
