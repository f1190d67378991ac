//! The home page: the portal's entry points in plain language.

pub mod handler;
