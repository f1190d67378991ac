//! Connected apps (issue 19, item 4): on the security page, the applicant
//! creates, lists and revokes personal read-only tokens, and approves or
//! denies trackers that ask through the OAuth 2.0 Device Authorization Grant
//! (`POST /oauth/device_authorization`, then `/device` in the browser). The
//! tokens, their bearer check and the grant's rules are shared
//! (`api_guard::applicant`), so other endpoints can take the same tokens.

pub mod form;
pub mod handler;
pub mod policy;
