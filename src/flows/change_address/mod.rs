//! Change of address without an account (`/change-address`), for people the
//! access-code form refused because the address on file is out of date. The
//! person proves who they are (A-Number or receipt number, name, date of
//! birth), gives the new address (normalised and shown back), and solves the
//! CAPTCHA. Nothing is trusted yet: a letter with a confirmation code goes to
//! the new address, and a notice with a cancellation code goes to the old
//! address and to the email on file. The letter's code, entered at
//! `/change-address/confirm`, starts a hold (`address_change_hold_days`);
//! "this was not me" at `/change-address/cancel` stops it. Only when the hold
//! ends does the new address go on file (see `crate::address_change`).
//! Every identity gets the same answer, padded to the same duration.

pub mod form;
pub mod handler;
pub mod policy;
pub mod store;
