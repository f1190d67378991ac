//! Request an online access code (`/access-code`): the applicant proves who
//! they are (A-Number or receipt number, name, date of birth) and where they
//! live (the mailing address on file), solves a self-hosted CAPTCHA, and a new
//! code goes to the email or postal address already on file — never to one
//! typed into the form. Unknown identifiers, mismatches and 1367-protected
//! people get one generic answer, padded to the same duration.

pub mod form;
pub mod handler;
pub mod policy;
pub mod store;
