//! The Case Status Online JSON behind the public status page, with the field
//! names trackers read: `GET /csol-api/ui-auth` answers
//! `{"JwtResponse":{"accessToken":"…"}}`, then
//! `GET /csol-api/case-statuses/{receipt}` (token as `Authorization: Bearer`)
//! answers `{"CaseStatusResponse":{…}}`.
//!
//! The token is a short-lived HS256 JWT signed with a key derived from the
//! master key; nothing is stored. Requests without any token are answered
//! too, because some published clients send none; every lookup, with or
//! without a token, counts against the per-client-IP limit
//! ([`crate::limits::Limit::CsolLookupsPerIp`]). A token that is presented
//! but forged or expired is refused with 401 so the client fetches a new one.

pub mod handler;
pub mod policy;
