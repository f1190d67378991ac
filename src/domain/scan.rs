//! Where an uploaded file stands with the virus scanner, and its one
//! transition rule.

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

    /// The scanner's one transition rule: a pending file becomes clean or
    /// infected, once; a verdict (or "not scanned") is final.
    pub fn can_become(self, next: ScanState) -> bool {
        matches!(
            (self, next),
            (ScanState::Pending, ScanState::Clean) | (ScanState::Pending, ScanState::Infected)
        )
    }

    /// Whether officers may open the file (never an infected one).
    pub fn may_open(self) -> bool {
        self != ScanState::Infected
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

    const ALL: [ScanState; 4] = [
        ScanState::NotScanned,
        ScanState::Pending,
        ScanState::Clean,
        ScanState::Infected,
    ];

    #[test]
    fn a_pending_file_gets_one_verdict() {
        assert!(ScanState::Pending.can_become(ScanState::Clean));
        assert!(ScanState::Pending.can_become(ScanState::Infected));
        for from in [ScanState::NotScanned, ScanState::Clean, ScanState::Infected] {
            for to in ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
        assert!(!ScanState::Infected.may_open());
        assert!(ScanState::NotScanned.may_open());
        for s in ALL {
            assert_eq!(ScanState::from_code(s.code()), s);
        }
        // Anything unknown reads as "not scanned", never as clean.
        assert_eq!(ScanState::from_code("clean "), ScanState::NotScanned);
    }
}
