//! Answer a request for evidence (`/account/cases/{receipt}/requests/{id}`):
//! the applicant uploads files — PDF, JPEG, PNG or TIFF judged from their
//! content, at most 12 MB each and 10 per request — stored under random names
//! outside any served folder with their SHA-256, scanned by ClamAV when
//! `CASEGATE_CLAMD` is set (never a silent pretend-clean), then submits the
//! response, which moves the case to "Response To USCIS' Request For Evidence
//! Was Received" and gives a printable receipt.

pub mod handler;
pub mod store;

/// Most files one request accepts.
pub const MAX_FILES: i64 = 10;

/// Where a file stands with the virus scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanState {
    /// No scanner is configured: officers see "not scanned".
    NotScanned,
    Pending,
    Clean,
    Infected,
}

impl ScanState {
    pub fn code(self) -> &'static str {
        match self {
            ScanState::NotScanned => "not_scanned",
            ScanState::Pending => "pending",
            ScanState::Clean => "clean",
            ScanState::Infected => "infected",
        }
    }

    pub fn from_code(s: &str) -> ScanState {
        match s {
            "pending" => ScanState::Pending,
            "clean" => ScanState::Clean,
            "infected" => ScanState::Infected,
            _ => ScanState::NotScanned,
        }
    }
}

/// Whether a stored file may be downloaded (by its applicant or an officer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    Serve,
    /// Not (yet) scanned clean: refused until it is (fail closed).
    NotScanned,
    /// Infected: quarantined, answers like a missing file.
    Gone,
}

impl ScanState {
    /// Pure: only files scanned clean are served, unless the operator opted
    /// in to serving unscanned ones (`CASEGATE_SERVE_UNSCANNED_UPLOADS`).
    /// Infected files never are.
    pub fn serving(self, serve_unscanned: bool) -> Serving {
        match self {
            ScanState::Clean => Serving::Serve,
            ScanState::Infected => Serving::Gone,
            ScanState::NotScanned | ScanState::Pending if serve_unscanned => Serving::Serve,
            ScanState::NotScanned | ScanState::Pending => Serving::NotScanned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_files_are_served_unless_the_operator_opts_in() {
        assert_eq!(ScanState::Clean.serving(false), Serving::Serve);
        assert_eq!(ScanState::NotScanned.serving(false), Serving::NotScanned);
        assert_eq!(ScanState::Pending.serving(false), Serving::NotScanned);
        assert_eq!(ScanState::Infected.serving(false), Serving::Gone);
        assert_eq!(ScanState::NotScanned.serving(true), Serving::Serve);
        assert_eq!(ScanState::Pending.serving(true), Serving::Serve);
        assert_eq!(ScanState::Infected.serving(true), Serving::Gone);
    }
}
