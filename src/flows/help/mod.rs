//! Help (`/help`): how to reach the agency (the contact options the operator
//! configures, `CASEGATE_HELP_*`), what each flow needs, and answers to the
//! common problems. Every refusal page links here, and the footer of every
//! page does too.

pub mod handler;
