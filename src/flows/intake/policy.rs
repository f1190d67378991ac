//! Pure intake rules: the duplicate key of a filing, where its receipt number
//! comes from, and how long the Account Access Notice code lives.

use chrono::{NaiveDate, NaiveTime};

use super::form::IntakeRow;
use crate::crypto::sha256;
use crate::domain::receipt::{computer_workday, fiscal_year_of};
use crate::domain::{Channel, Office};

/// Identifies a filing so a rerun of the same file creates nothing twice:
/// the same person filing the same form at the same office on the same day
/// through the same channel is the same filing.
pub fn intake_key(row: &IntakeRow) -> String {
    let material = format!(
        "v1|{}|{}|{}|{}|{}",
        row.a_number.as_str(),
        row.form.id(),
        row.office.code(),
        row.received,
        row.channel.code()
    );
    hex::encode(&sha256(material.as_bytes())[..16])
}

/// The receipt-number series a filing draws from: office, two-digit fiscal
/// year and computer workday of the received date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptSlot {
    pub office: Office,
    pub fiscal_year: u8,
    pub workday: u16,
}

pub fn receipt_slot(office: Office, received: NaiveDate) -> ReceiptSlot {
    ReceiptSlot {
        office,
        fiscal_year: (fiscal_year_of(received).rem_euclid(100)) as u8,
        workday: computer_workday(received),
    }
}

/// Largest sequence number in one slot (five digits).
pub const MAX_SEQUENCE: i64 = 99_999;

/// Unix time recorded for "Case Was Received": noon UTC of the received day.
pub fn received_at(received: NaiveDate) -> i64 {
    received
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
        .and_utc()
        .timestamp()
}

/// Whether the filing gets an Account Access Notice (paper filers only:
/// online filers already have an account).
pub fn gets_access_notice(channel: Channel) -> bool {
    channel == Channel::Paper
}

/// Expiry of an Account Access Notice code issued at `now`.
pub fn access_notice_expiry(now: i64, days: i64) -> i64 {
    now + days * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_fiscal_year() {
        let d = NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
        let s = receipt_slot(Office::Eac, d);
        assert_eq!((s.fiscal_year, s.workday), (25, 1));
        let d = NaiveDate::from_ymd_opt(2024, 9, 30).unwrap();
        assert_eq!(receipt_slot(Office::Eac, d).fiscal_year, 24);
    }

    #[test]
    fn expiry_is_ninety_days() {
        assert_eq!(access_notice_expiry(1_000, 90), 1_000 + 90 * 86_400);
    }

    #[test]
    fn only_paper_filers_get_access_notices() {
        assert!(gets_access_notice(Channel::Paper));
        assert!(!gets_access_notice(Channel::Online));
    }
}
