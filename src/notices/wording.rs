//! The words of officer-issued notices in the applicant's language: the
//! items of a request for evidence (from the catalogue, the officer's note
//! as written) and an appointment's date, time and place.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::domain::evidence_item::{EvidenceRequest, RequestLine};
use crate::i18n::{Lang, Messages};

/// One stored request line as the reader reads it.
pub fn line_text(msgs: &Messages, lang: Lang, line: &RequestLine) -> String {
    match line {
        RequestLine::Item(i) => msgs.get(lang, &i.message_key()).to_string(),
        RequestLine::Note(n) => msgs.fmt(lang, "evidence_item.note", &[("note", n)]),
        RequestLine::Legacy(l) => l.clone(),
    }
}

/// A stored request (one line each) as the reader reads it.
pub fn request_lines(msgs: &Messages, lang: Lang, stored: &str) -> Vec<String> {
    stored
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| line_text(msgs, lang, &RequestLine::parse_stored(l)))
        .collect()
}

/// The body of a request-for-evidence notice: each item, the note, and the
/// due date, in `lang`.
pub fn rfe_body(msgs: &Messages, lang: Lang, req: &EvidenceRequest, due: NaiveDate) -> String {
    let mut lines: Vec<String> = req
        .lines()
        .iter()
        .map(|l| line_text(msgs, lang, l))
        .collect();
    lines.push(msgs.fmt(
        lang,
        "letter.rfe.due",
        &[("date", &msgs.long_date(lang, due))],
    ));
    lines.join("\n")
}

/// An appointment the officer entered as the agency's local date and time,
/// as a moment (`None` for a local time that does not exist, in the spring
/// clock change).
pub fn appointment_moment(
    local: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Option<chrono::DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The body of an appointment notice (interview, biometrics): when, with
/// the zone named, and where, in `lang`.
pub fn appointment_body(
    msgs: &Messages,
    lang: Lang,
    at: chrono::DateTime<Utc>,
    tz: chrono_tz::Tz,
    place: &str,
) -> String {
    format!("{}\n{place}", msgs.date_time(lang, at, tz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_in_the_applicants_language_with_the_note_as_written() {
        let m = Messages::global();
        let req = EvidenceRequest::parse(["passport"], "Página 2, por favor").unwrap();
        let due = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        let es = rfe_body(m, Lang::Es, &req, due);
        assert!(es.contains("pasaporte"), "{es}");
        assert!(es.contains("Página 2, por favor"), "{es}");
        assert!(es.contains("15 de enero de 2027"), "{es}");
        let en = request_lines(m, Lang::En, &req.stored());
        assert!(en[0].contains("passport"), "{en:?}");
        assert_eq!(
            request_lines(m, Lang::Es, "Proof of travel"),
            vec!["Proof of travel"]
        );
    }

    #[test]
    fn an_appointment_names_its_zone() {
        let m = Messages::global();
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let local = NaiveDateTime::parse_from_str("2027-01-15 09:30", "%Y-%m-%d %H:%M").unwrap();
        let at = appointment_moment(local, ny).unwrap();
        assert_eq!(
            appointment_body(m, Lang::Es, at, ny, "Oficina de Miami"),
            "15 de enero de 2027, 9:30\u{a0}a.\u{a0}m. EST\nOficina de Miami"
        );
    }
}
