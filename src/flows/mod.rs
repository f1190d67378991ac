//! One folder per user flow, each with the same shape, as far as the flow
//! needs it: `form.rs` (what the person submits, parsed), `policy.rs` (pure
//! rules, `now` passed in), `store.rs` (its queries — the only file of a flow
//! with SQL), `handler.rs` (HTTP), and its templates. See
//! docs/ARCHITECTURE.md.

pub mod access_code;
pub mod address;
pub mod case_status;
pub mod change_address;
pub mod csol;
pub mod evidence;
pub mod help;
pub mod home;
pub mod intake;
pub mod link_case;
pub mod my_cases;
pub mod officer;
pub mod processing_times;
pub mod recovery;
pub mod security;
pub mod sign_in;
pub mod sign_up;
pub mod status_api;
pub mod two_step;
