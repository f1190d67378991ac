//! What an officer may ask for in a request for evidence: a catalogue with
//! an English and a Spanish text for each item (`evidence_item.<code>` in
//! `messages/*/ui.toml`), so the applicant reads the request in their
//! language. The officer may add a note, which is shown as written.
//!
//! A request's items are stored one per line: `item:<code>` for a catalogue
//! item, `note:<text>` for the officer's note. Lines from before the
//! catalogue (free text) are kept and shown as written.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceItem {
    BirthCertificate,
    MarriageCertificate,
    DivorceDecree,
    Passport,
    IdentityDocument,
    Photos,
    ProofOfRelationship,
    ProofOfBonaFideMarriage,
    AffidavitOfSupport,
    TaxTranscripts,
    EmploymentLetter,
    ProofOfStatus,
    MedicalExam,
    PoliceCertificate,
    CourtRecords,
    Translation,
}

impl EvidenceItem {
    pub const ALL: [EvidenceItem; 16] = [
        EvidenceItem::BirthCertificate,
        EvidenceItem::MarriageCertificate,
        EvidenceItem::DivorceDecree,
        EvidenceItem::Passport,
        EvidenceItem::IdentityDocument,
        EvidenceItem::Photos,
        EvidenceItem::ProofOfRelationship,
        EvidenceItem::ProofOfBonaFideMarriage,
        EvidenceItem::AffidavitOfSupport,
        EvidenceItem::TaxTranscripts,
        EvidenceItem::EmploymentLetter,
        EvidenceItem::ProofOfStatus,
        EvidenceItem::MedicalExam,
        EvidenceItem::PoliceCertificate,
        EvidenceItem::CourtRecords,
        EvidenceItem::Translation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EvidenceItem::BirthCertificate => "birth_certificate",
            EvidenceItem::MarriageCertificate => "marriage_certificate",
            EvidenceItem::DivorceDecree => "divorce_decree",
            EvidenceItem::Passport => "passport",
            EvidenceItem::IdentityDocument => "identity_document",
            EvidenceItem::Photos => "photos",
            EvidenceItem::ProofOfRelationship => "proof_of_relationship",
            EvidenceItem::ProofOfBonaFideMarriage => "bona_fide_marriage",
            EvidenceItem::AffidavitOfSupport => "affidavit_of_support",
            EvidenceItem::TaxTranscripts => "tax_transcripts",
            EvidenceItem::EmploymentLetter => "employment_letter",
            EvidenceItem::ProofOfStatus => "proof_of_status",
            EvidenceItem::MedicalExam => "medical_exam",
            EvidenceItem::PoliceCertificate => "police_certificate",
            EvidenceItem::CourtRecords => "court_records",
            EvidenceItem::Translation => "translation",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceItem> {
        EvidenceItem::ALL.into_iter().find(|i| i.code() == s.trim())
    }

    /// The message key of the item's text.
    pub fn message_key(self) -> String {
        format!("evidence_item.{}", self.code())
    }
}

/// One line of a stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLine {
    Item(EvidenceItem),
    /// The officer's note, shown as written.
    Note(String),
    /// A line from before the catalogue, shown as written.
    Legacy(String),
}

/// Longest officer note kept.
pub const NOTE_CHARS: usize = 500;

impl RequestLine {
    /// The stored form of the line.
    pub fn stored(&self) -> String {
        match self {
            RequestLine::Item(i) => format!("item:{}", i.code()),
            RequestLine::Note(n) => format!("note:{n}"),
            RequestLine::Legacy(l) => l.clone(),
        }
    }

    /// Reads a stored line (never fails: an unknown line is legacy text).
    pub fn parse_stored(line: &str) -> RequestLine {
        if let Some(code) = line.strip_prefix("item:")
            && let Some(i) = EvidenceItem::parse(code)
        {
            return RequestLine::Item(i);
        }
        if let Some(note) = line.strip_prefix("note:") {
            return RequestLine::Note(note.to_string());
        }
        RequestLine::Legacy(line.to_string())
    }
}

/// What an officer asks for: at least one catalogue item, each once, and
/// an optional note (one line, trimmed, at most [`NOTE_CHARS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    pub items: Vec<EvidenceItem>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceRequestError {
    #[error("no item chosen")]
    NoItem,
    #[error("an item that is not in the catalogue")]
    UnknownItem,
}

impl EvidenceRequest {
    /// The one constructor: chosen item codes and the note as submitted.
    pub fn parse<'a>(
        codes: impl IntoIterator<Item = &'a str>,
        note: &str,
    ) -> Result<EvidenceRequest, EvidenceRequestError> {
        let mut items = Vec::new();
        for code in codes {
            let item = EvidenceItem::parse(code).ok_or(EvidenceRequestError::UnknownItem)?;
            if !items.contains(&item) {
                items.push(item);
            }
        }
        if items.is_empty() {
            return Err(EvidenceRequestError::NoItem);
        }
        // One line: the note is stored as one line of the request.
        let note: String = note
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(NOTE_CHARS)
            .collect();
        Ok(EvidenceRequest {
            items,
            note: (!note.is_empty()).then_some(note),
        })
    }

    pub fn lines(&self) -> Vec<RequestLine> {
        let mut lines: Vec<RequestLine> =
            self.items.iter().map(|i| RequestLine::Item(*i)).collect();
        if let Some(n) = &self.note {
            lines.push(RequestLine::Note(n.clone()));
        }
        lines
    }

    /// The stored form: one line each.
    pub fn stored(&self) -> String {
        self.lines()
            .iter()
            .map(RequestLine::stored)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_needs_a_catalogue_item_and_keeps_the_note_as_one_line() {
        assert_eq!(
            EvidenceRequest::parse([], "note"),
            Err(EvidenceRequestError::NoItem)
        );
        assert_eq!(
            EvidenceRequest::parse(["passport", "tax_forms_of_2019"], ""),
            Err(EvidenceRequestError::UnknownItem)
        );
        let r = EvidenceRequest::parse(
            ["passport", "birth_certificate", "passport"],
            "  Pages 1-3\nof the\tpassport ",
        )
        .unwrap();
        assert_eq!(
            r.items,
            vec![EvidenceItem::Passport, EvidenceItem::BirthCertificate]
        );
        assert_eq!(r.note.as_deref(), Some("Pages 1-3 of the passport"));
        assert_eq!(
            r.stored(),
            "item:passport\nitem:birth_certificate\nnote:Pages 1-3 of the passport"
        );
        let back: Vec<RequestLine> = r.stored().lines().map(RequestLine::parse_stored).collect();
        assert_eq!(back, r.lines());
        assert_eq!(
            RequestLine::parse_stored("Copy of your passport"),
            RequestLine::Legacy("Copy of your passport".into())
        );
        assert_eq!(
            RequestLine::parse_stored("item:unknown"),
            RequestLine::Legacy("item:unknown".into())
        );
    }

    #[test]
    fn codes_round_trip() {
        for i in EvidenceItem::ALL {
            assert_eq!(EvidenceItem::parse(i.code()), Some(i));
        }
    }
}
