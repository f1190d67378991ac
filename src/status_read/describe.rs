//! Pure rules of the public status answer: who may see what, and how a
//! status reads in each language. Shared by the page and the API.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{CaseStatus, FormType, Office, ReceiptNumber};
use crate::i18n::{Lang, Messages};

/// A case as the public status answer needs it (read from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRecord {
    pub receipt: ReceiptNumber,
    pub form: FormType,
    pub office: Office,
    pub received_date: NaiveDate,
    pub status: CaseStatus,
    pub status_at: i64,
    pub created_at: i64,
    /// 8 U.S.C. 1367: never disclosed to anyone who merely knows the receipt.
    pub protected: bool,
    /// Newest first.
    pub history: Vec<HistoryItem>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryItem {
    pub status: CaseStatus,
    pub at: i64,
}

/// The single visibility rule for anonymous status lookups: a protected case
/// is indistinguishable from one that does not exist.
pub fn public_view(record: Option<&StatusRecord>) -> Option<&StatusRecord> {
    record.filter(|r| !r.protected)
}

pub fn date_of(ts: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// A status rendered into one language.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusText {
    pub title: String,
    pub description: String,
}

fn args<'a>(
    rec: &'a StatusRecord,
    date: &'a str,
    form_title: &'a str,
    office: &'a str,
) -> [(&'static str, &'a str); 5] {
    [
        ("date", date),
        ("form", rec.form.id()),
        ("form_title", form_title),
        ("receipt", rec.receipt.as_str()),
        ("office", office),
    ]
}

/// One history line in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryLine {
    pub day: NaiveDate,
    /// `day` as the language writes it ("September 5, 2023").
    pub date: String,
    pub text: String,
}

/// A record's status and history in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub current: StatusText,
    /// Newest first, like [`StatusRecord::history`].
    pub history: Vec<HistoryLine>,
}

/// Renders the current status and every history line of `rec` in `lang`.
/// The form title and office name are looked up once for the whole record
/// (this runs on every status page and API answer).
pub fn describe(rec: &StatusRecord, msgs: &Messages, lang: Lang) -> Described {
    let form_key = rec.form.title_key();
    let form_title = msgs.get(lang, &form_key);
    let office_key = format!("office.{}.name", rec.office.code());
    let office = msgs.get(lang, &office_key);
    let date = msgs.long_date(lang, date_of(rec.status_at));
    let current = StatusText {
        title: msgs.get(lang, &rec.status.title_key()).to_string(),
        description: msgs.fmt(
            lang,
            &rec.status.desc_key(),
            &args(rec, &date, form_title, office),
        ),
    };
    let history = rec
        .history
        .iter()
        .map(|item| {
            let day = date_of(item.at);
            let date = msgs.long_date(lang, day);
            let text = msgs.fmt(
                lang,
                &item.status.history_key(),
                &args(rec, &date, form_title, office),
            );
            HistoryLine { day, date, text }
        })
        .collect();
    Described { current, history }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(protected: bool) -> StatusRecord {
        StatusRecord {
            receipt: ReceiptNumber::parse("EAC9999103403").unwrap(),
            form: FormType::I130,
            office: Office::Eac,
            received_date: NaiveDate::from_ymd_opt(2023, 1, 10).unwrap(),
            status: CaseStatus::CaseWasApproved,
            // 2023-09-05 14:28:46 UTC
            status_at: 1_693_924_126,
            created_at: 1_673_352_000,
            protected,
            history: vec![],
        }
    }

    #[test]
    fn protected_cases_are_invisible() {
        let open = record(false);
        let hidden = record(true);
        assert!(public_view(Some(&open)).is_some());
        assert!(public_view(Some(&hidden)).is_none());
        assert!(public_view(None).is_none());
    }

    #[test]
    fn approved_text_reads_like_the_agency() {
        let m = Messages::load().unwrap();
        let en = describe(&record(false), &m, Lang::En).current;
        assert_eq!(en.title, "Case Was Approved");
        assert!(
            en.description.starts_with(
                "On September 5, 2023, we approved your Form I-130, Petition for Alien Relative, Receipt Number EAC9999103403."
            ),
            "{}",
            en.description
        );
        let es = describe(&record(false), &m, Lang::Es).current;
        assert_eq!(es.title, "Caso Fue Aprobado");
        assert!(
            es.description
                .starts_with("El 5 de septiembre de 2023, aprobamos su Formulario I-130")
        );
    }

    #[test]
    fn history_lines_carry_their_own_date_and_the_record_words() {
        let m = Messages::load().unwrap();
        let mut rec = record(false);
        rec.history = vec![
            HistoryItem {
                status: CaseStatus::CaseWasApproved,
                at: 1_693_924_126, // 2023-09-05
            },
            HistoryItem {
                status: CaseStatus::CaseWasReceived,
                at: 1_673_352_000, // 2023-01-10
            },
        ];
        let es = describe(&rec, &m, Lang::Es);
        assert_eq!(es.history.len(), 2);
        let first = &es.history[0];
        assert_eq!(first.day, NaiveDate::from_ymd_opt(2023, 9, 5).unwrap());
        assert_eq!(first.date, "5 de septiembre de 2023");
        let last = &es.history[1];
        assert_eq!(last.date, "10 de enero de 2023");
        assert!(last.text.contains("I-130"), "{}", last.text);
        assert!(
            !last.text.contains('{'),
            "unfilled placeholder: {}",
            last.text
        );
        assert_ne!(first.text, last.text);
    }
}
