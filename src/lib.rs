//! casegate — a self-hostable online-account portal for an immigration-benefits agency.
//!
//! Layout: `domain` holds the typed rules (parsers, catalogues, state machines);
//! `flows` holds one folder per user flow (form, policy, handler, store, templates);
//! `store` owns the database; `web` the HTTP plumbing; `ops` health and metrics.

pub mod address_change;
pub mod api_guard;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod captcha;
pub mod casework;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod error;
pub mod flows;
pub mod i18n;
pub mod limits;
pub mod notices;
pub mod ops;
pub mod outbox;
pub mod pages;
pub mod pdf;
pub mod redact;
pub mod secrets;
pub mod status_read;
pub mod store;
pub mod uploads;
pub mod web;
pub mod webhooks;
