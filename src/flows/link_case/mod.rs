//! Add a paper-filed case (`/account/cases/add`): receipt number, online
//! access code and date of birth. The code is consumed by one conditional
//! UPDATE, so two concurrent redemptions cannot both win; wrong tries are
//! counted per code (5 kill it) and per account. Linking gives the account
//! every case of that person.

pub mod form;
pub mod handler;
pub mod policy;
pub mod store;
