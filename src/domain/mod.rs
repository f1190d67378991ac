//! The agency's domain: every value that crosses the edge is parsed into one
//! of these types, so an invalid A-Number, receipt number, access code, email
//! or address cannot exist past the handler.

pub mod a_number;
pub mod access_code;
pub mod address;
pub mod email;
pub mod evidence_item;
pub mod forms;
pub mod notice;
pub mod person;
pub mod receipt;
pub mod scan;
pub mod status;

pub use a_number::ANumber;
pub use access_code::AccessCode;
pub use address::UsAddress;
pub use email::Email;
pub use evidence_item::{EvidenceItem, EvidenceRequest};
pub use forms::FormType;
pub use receipt::{Office, ReceiptNumber};
pub use status::CaseStatus;

/// How a case reached the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Paper,
    Online,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Paper => "paper",
            Channel::Online => "online",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "paper" | "p" => Some(Channel::Paper),
            "online" | "o" | "electronic" => Some(Channel::Online),
            _ => None,
        }
    }
}
