//! Create an account (`/sign-up`): email and password, then a one-time code
//! sent to that email. Signing up with an email that already has an account
//! shows the very same page and sends its owner a "you already have an
//! account" email instead — the page never tells them apart.

pub mod form;
pub mod handler;
