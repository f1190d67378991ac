//! The account's case-service JSON (issue 19, item 4):
//! `GET /account/case-service/api/cases` and `…/cases/{receipt}` in the
//! shape trackers already read from the real account
//! (`{"data":{"receiptNumber","formType","formName","submissionDate",
//! "updatedAt","applicantName","events":[…],"notices":[…]}}`), to an
//! applicant token (`Authorization: Bearer`, `api_guard::applicant`) or to
//! the signed-in browser session. Only the caller's linked cases exist here.

pub mod handler;
pub mod store;
