//! Notice PDFs. Deterministic: the same stored notice (and the same code, for
//! an access notice) always renders to the same bytes.

use chrono::NaiveDate;

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
    /// The agency's time zone: a code's last day is the day in it.
    pub tz: chrono_tz::Tz,
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

/// Writes one letter into `doc`, starting on its last (fresh) page.
fn write_letter(
    doc: &mut Document,
    n: &NoticeRecord,
    code: Option<&AccessCode>,
    ctx: &LetterContext<'_>,
) {
    let lang = Lang::parse(&n.lang).unwrap_or(Lang::En);
    let m = ctx.msgs;
    let t = |k: &str| m.get(lang, k).to_string();
    let title = t(&n.kind.title_key());
    {
        let mut f = Flow::new(doc);
        f.heading(ctx.agency);
        f.paragraph(&t(&format!("{}.form_code", n.kind.letter_key())));
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
            NoticeKind::Rfe
            | NoticeKind::Interview
            | NoticeKind::Approval
            | NoticeKind::Denial
            | NoticeKind::Biometrics
            | NoticeKind::Oath
            | NoticeKind::Reopening
            | NoticeKind::Transfer
            | NoticeKind::Explanation
            | NoticeKind::Duplicate
            | NoticeKind::Correction
            | NoticeKind::Refund
            | NoticeKind::Closure
            | NoticeKind::IntentToDeny => {
                f.paragraph(&t(&format!("{}.intro", n.kind.letter_key())));
                if let Some(body) = &n.body {
                    for line in body.lines().filter(|l| !l.trim().is_empty()) {
                        f.paragraph(&format!("• {line}"));
                    }
                }
                f.paragraph(&m.fmt(lang, "letter.receipt.body2", &[("url", url)]));
            }
            NoticeKind::AddressConfirm | NoticeKind::AddressAlert => {
                let k = n.kind.letter_key();
                let new_address = n.body.as_deref().unwrap_or_default();
                f.paragraph(&m.fmt(lang, &format!("{k}.intro"), &[("address", new_address)]));
                let code_text = match code {
                    Some(c) => c.grouped(),
                    None => t("letter.access.code_unavailable"),
                };
                f.highlight(&t(&format!("{k}.code_label")), &code_text);
                if let Some(exp) = n.code_expires_at {
                    let day = crate::i18n::local_date_ts(exp, ctx.tz);
                    f.paragraph(&m.fmt(
                        lang,
                        &format!("{k}.expires"),
                        &[("date", &m.long_date(lang, day))],
                    ));
                }
                f.subheading(&t(&format!("{k}.how_heading")));
                for step in ["step1", "step2", "step3"] {
                    f.paragraph(&m.fmt(lang, &format!("{k}.{step}"), &[("url", url)]));
                }
                f.rule();
                f.paragraph(&t(&format!("{k}.warning")));
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
                    let day = crate::i18n::local_date_ts(exp, ctx.tz);
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
}

pub fn render(n: &NoticeRecord, code: Option<&AccessCode>, ctx: &LetterContext<'_>) -> Vec<u8> {
    let lang = Lang::parse(&n.lang).unwrap_or(Lang::En);
    let m = ctx.msgs;
    let title = m.get(lang, &n.kind.title_key()).to_string();
    let mut doc = Document::new(
        &format!("{title} — {}", ctx.agency),
        match lang {
            Lang::En => "en-US",
            Lang::Es => "es-US",
        },
    );
    write_letter(&mut doc, n, code, ctx);
    let page_label = m.get(lang, "letter.page").to_string();
    doc.number_pages(306.0, 36.0, 8.0, |i, n| {
        crate::i18n::fill(
            &page_label,
            &[("n", &i.to_string()), ("total", &n.to_string())],
        )
    });
    doc.to_bytes()
}

/// Several letters in one printable PDF, each starting on a new page.
pub fn render_batch(
    letters: &[(NoticeRecord, Option<AccessCode>)],
    ctx: &LetterContext<'_>,
) -> Vec<u8> {
    let title = ctx.msgs.get(Lang::En, "letter.batch.title").to_string();
    let mut doc = Document::new(&format!("{title} — {}", ctx.agency), "en-US");
    for (i, (n, code)) in letters.iter().enumerate() {
        if i > 0 {
            doc.add_page();
        }
        write_letter(&mut doc, n, code.as_ref(), ctx);
    }
    doc.to_bytes()
}
