//! Notice PDFs. Deterministic: the same stored notice (and the same code, for
//! an access notice) always renders to the same bytes.

use chrono::{DateTime, NaiveDate, Utc};

use super::NoticeKind;
use super::store::NoticeRecord;
use crate::domain::{AccessCode, FormType};
use crate::i18n::{Lang, Messages};
use crate::pdf::{Document, Flow};

/// What the letter needs beyond the stored notice.
pub struct LetterContext<'a> {
    pub msgs: &'a Messages,
    pub agency: &'a str,
    pub public_url: &'a str,
}

/// The address block in USPS style: upper case, delivery line, last line.
pub fn address_block(n: &NoticeRecord) -> Vec<String> {
    let mut lines = vec![n.addressee.to_uppercase()];
    match &n.unit {
        Some(u) if !u.is_empty() => lines.push(format!("{} {}", n.street, u)),
        _ => lines.push(n.street.clone()),
    }
    lines.push(format!("{} {} {}", n.city, n.state, n.zip));
    lines
}

fn long_date(msgs: &Messages, lang: Lang, iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| msgs.long_date(lang, d))
        .unwrap_or_else(|_| iso.to_string())
}

pub fn render(n: &NoticeRecord, code: Option<&AccessCode>, ctx: &LetterContext<'_>) -> Vec<u8> {
    let lang = Lang::parse(&n.lang).unwrap_or(Lang::En);
    let m = ctx.msgs;
    let t = |k: &str| m.get(lang, k).to_string();
    let title = match n.kind {
        NoticeKind::Receipt => t("letter.receipt.title"),
        NoticeKind::AccessNotice => t("letter.access.title"),
        NoticeKind::CodeLetter => t("letter.code.title"),
    };
    let mut doc = Document::new(
        &format!("{title} — {}", ctx.agency),
        match lang {
            Lang::En => "en-US",
            Lang::Es => "es-US",
        },
    );
    {
        let mut f = Flow::new(&mut doc);
        f.heading(ctx.agency);
        f.paragraph(&t(match n.kind {
            NoticeKind::Receipt => "letter.receipt.form_code",
            NoticeKind::AccessNotice => "letter.access.form_code",
            NoticeKind::CodeLetter => "letter.code.form_code",
        }));
        f.rule();
        f.paragraph(&address_block(n).join("\n"));
        f.space(12.0);
        f.subheading(&title);
        let form_line = n.form.as_deref().map(|id| {
            let title = FormType::parse(id)
                .map(|ft| m.get(lang, &ft.title_key()).to_string())
                .unwrap_or_default();
            format!("{id}, {title}")
        });
        if let Some(r) = &n.receipt_number {
            f.label_value(&t("letter.receipt_number"), r);
        }
        if let Some(ft) = &form_line {
            f.label_value(&t("letter.case_type"), ft);
        }
        if let Some(rd) = &n.received_date {
            f.label_value(&t("letter.received_date"), &long_date(m, lang, rd));
        }
        f.label_value(
            &t("letter.notice_date"),
            &long_date(m, lang, &n.notice_date),
        );
        f.label_value(&t("letter.applicant"), &n.addressee);
        f.space(8.0);
        let url = ctx.public_url;
        match n.kind {
            NoticeKind::Receipt => {
                f.paragraph(&t("letter.receipt.body1"));
                f.paragraph(&m.fmt(lang, "letter.receipt.body2", &[("url", url)]));
                f.paragraph(&t("letter.receipt.body3"));
            }
            NoticeKind::AccessNotice | NoticeKind::CodeLetter => {
                f.paragraph(&t(if n.kind == NoticeKind::CodeLetter {
                    "letter.code.intro"
                } else {
                    "letter.access.intro"
                }));
                match code {
                    Some(c) => f.highlight(&t("letter.access.code_label"), &c.grouped()),
                    None => f.highlight(
                        &t("letter.access.code_label"),
                        &t("letter.access.code_unavailable"),
                    ),
                }
                if let Some(exp) = n.code_expires_at {
                    let day = DateTime::<Utc>::from_timestamp(exp, 0)
                        .map(|d| d.date_naive())
                        .unwrap_or_default();
                    f.paragraph(&m.fmt(
                        lang,
                        "letter.access.expires",
                        &[("date", &m.long_date(lang, day))],
                    ));
                }
                f.subheading(&t("letter.access.how_heading"));
                f.paragraph(&m.fmt(lang, "letter.access.step1", &[("url", url)]));
                f.paragraph(&t("letter.access.step2"));
                f.paragraph(&t(if n.kind == NoticeKind::CodeLetter {
                    "letter.code.step3"
                } else {
                    "letter.access.step3"
                }));
                f.paragraph(&m.fmt(lang, "letter.access.lost", &[("url", url)]));
                f.rule();
                f.paragraph(&t("letter.access.warning"));
            }
        }
    }
    let page_label = t("letter.page");
    doc.number_pages(306.0, 36.0, 8.0, |i, n| {
        crate::i18n::fill(
            &page_label,
            &[("n", &i.to_string()), ("total", &n.to_string())],
        )
    });
    doc.to_bytes()
}
