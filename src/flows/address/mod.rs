//! Change of address (AR-11) at `/account/address`: the new address is
//! normalised the USPS way and shown for confirmation, then it replaces the
//! address on file for the person whose cases the account holds — and so for
//! every pending case and for the access-code flow from that moment on.
//! Signed-out visitors get the paper route (Form AR-11).

pub mod form;
pub mod handler;
pub mod store;
