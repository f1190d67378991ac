//! User-facing text. Every string an applicant reads lives in
//! `messages/<lang>/*.toml`, compiled into the binary; nested tables flatten
//! to dotted keys (`status.case_was_approved.title`). Placeholders are
//! `{name}` and are filled by [`Messages::fmt`].

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header,
    /// honouring q-values; English when nothing matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|v| v.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }
}

const SOURCES: &[(Lang, &str)] = &[
    (Lang::En, include_str!("../messages/en/ui.toml")),
    (Lang::En, include_str!("../messages/en/catalog.toml")),
    (Lang::Es, include_str!("../messages/es/ui.toml")),
    (Lang::Es, include_str!("../messages/es/catalog.toml")),
];

pub struct Messages {
    by_lang: HashMap<Lang, Catalogue, KeyHasher>,
}

/// One language's messages by key.
type Catalogue = HashMap<String, String, KeyHasher>;

/// Message keys are fixed strings from the code and the message files, never
/// user input, so they need no flood-resistant hash: FNV-1a is several times
/// cheaper than the default SipHash for keys this short, and a page looks up
/// dozens of them.
type KeyHasher = fnv::FnvBuildHasher;

#[derive(Debug, thiserror::Error)]
#[error("message file for {lang} is not valid TOML: {message}")]
pub struct MessagesError {
    lang: &'static str,
    message: String,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Integer(i) => {
                out.insert(key, i.to_string());
            }
            _ => {}
        }
    }
}

impl Messages {
    pub fn load() -> Result<Messages, MessagesError> {
        let mut by_lang: HashMap<Lang, Catalogue, KeyHasher> = HashMap::default();
        for (lang, text) in SOURCES {
            let table: toml::Table = toml::from_str(text).map_err(|e| MessagesError {
                lang: lang.code(),
                message: e.to_string(),
            })?;
            flatten("", &table, by_lang.entry(*lang).or_default());
        }
        Ok(Messages { by_lang })
    }

    /// The catalogue with `{agency_short}` (in status titles) replaced by
    /// how this deployment names its agency; one copy per distinct pair of
    /// names, kept for the life of the process.
    pub fn for_agency(en: &str, es: &str) -> &'static Messages {
        static BY_NAMES: std::sync::Mutex<Vec<((String, String), &'static Messages)>> =
            std::sync::Mutex::new(Vec::new());
        let mut cache = BY_NAMES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, m)) = cache.iter().find(|((a, b), _)| a == en && b == es) {
            return m;
        }
        let mut by_lang = Messages::global().by_lang.clone();
        for (lang, cat) in by_lang.iter_mut() {
            let name = match lang {
                Lang::En => en,
                Lang::Es => es,
            };
            for v in cat.values_mut() {
                if v.contains("{agency_short}") {
                    *v = v.replace("{agency_short}", name);
                }
            }
        }
        let m: &'static Messages = Box::leak(Box::new(Messages { by_lang }));
        cache.push(((en.to_string(), es.to_string()), m));
        m
    }

    /// The compiled-in catalogue, parsed once.
    pub fn global() -> &'static Messages {
        static M: OnceLock<Messages> = OnceLock::new();
        M.get_or_init(|| match Messages::load() {
            Ok(m) => m,
            // The files are compiled in and covered by tests; a broken file
            // is a build defect, not a runtime condition.
            Err(e) => panic!("{e}"),
        })
    }

    /// The text for `key` in `lang`, falling back to English, then to the key.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.by_lang
            .get(&lang)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_lang.get(&Lang::En).and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.by_lang.get(&lang).is_some_and(|m| m.contains_key(key))
    }

    /// Fills `{name}` placeholders.
    pub fn fmt(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        fill(self.get(lang, key), args)
    }

    /// (number, name) of the twelve months, for date selects.
    pub fn months(&self, lang: Lang) -> Vec<(String, &str)> {
        (1..=12)
            .map(|m| (m.to_string(), self.get(lang, month_key(m))))
            .collect()
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .by_lang
            .get(&lang)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// "September 5, 2023" / "5 de septiembre de 2023".
    pub fn long_date(&self, lang: Lang, date: NaiveDate) -> String {
        let month = self.get(lang, month_key(date.month()));
        self.fmt(
            lang,
            "date.long",
            &[
                ("month", month),
                ("day", &date.day().to_string()),
                ("year", &date.year().to_string()),
            ],
        )
    }
}

impl Messages {
    /// A moment in the agency's time zone, with the zone named: "March 3,
    /// 2026, 2:05 PM EST" / "3 de marzo de 2026, 2:05 p. m. EST" (with
    /// no-break spaces around AM/PM, so a phone never wraps "p." from "m.").
    /// The one function every shown time goes through.
    pub fn date_time(&self, lang: Lang, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        let local = at.with_timezone(&tz);
        let (pm, hour12) = local.hour12();
        self.fmt(
            lang,
            "date.date_time",
            &[
                ("date", &self.long_date(lang, local.date_naive())),
                ("hour", &hour12.to_string()),
                ("minute", &format!("{:02}", local.minute())),
                (
                    "ampm",
                    self.get(lang, if pm { "date.pm" } else { "date.am" }),
                ),
                ("zone", &local.format("%Z").to_string()),
            ],
        )
    }

    /// [`Messages::date_time`] of a unix timestamp (seconds).
    pub fn date_time_ts(&self, lang: Lang, at: i64, tz: chrono_tz::Tz) -> String {
        self.date_time(
            lang,
            DateTime::from_timestamp(at, 0).unwrap_or_default(),
            tz,
        )
    }
}

/// The calendar day a moment falls on in the agency's time zone.
pub fn local_date(at: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    tz.from_utc_datetime(&at.naive_utc()).date_naive()
}

/// [`local_date`] of a unix timestamp (seconds).
pub fn local_date_ts(at: i64, tz: chrono_tz::Tz) -> NaiveDate {
    local_date(DateTime::from_timestamp(at, 0).unwrap_or_default(), tz)
}

/// Message key of a month's name (1 = January).
pub fn month_key(m: u32) -> &'static str {
    const KEYS: [&str; 12] = [
        "date.month.1",
        "date.month.2",
        "date.month.3",
        "date.month.4",
        "date.month.5",
        "date.month.6",
        "date.month.7",
        "date.month.8",
        "date.month.9",
        "date.month.10",
        "date.month.11",
        "date.month.12",
    ];
    KEYS[(m.clamp(1, 12) - 1) as usize]
}

/// Replaces `{name}` with its value; unknown placeholders stay as they are.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseStatus, FormType, Office};

    #[test]
    fn both_languages_have_the_same_keys() {
        let m = Messages::load().unwrap();
        let en = m.keys(Lang::En);
        let es = m.keys(Lang::Es);
        let missing_es: Vec<_> = en.iter().filter(|k| !es.contains(k)).collect();
        let missing_en: Vec<_> = es.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing_es.is_empty(), "missing in Spanish: {missing_es:?}");
        assert!(missing_en.is_empty(), "missing in English: {missing_en:?}");
    }

    #[test]
    fn every_status_form_and_office_has_text() {
        let m = Messages::load().unwrap();
        for lang in Lang::ALL {
            for s in CaseStatus::ALL {
                for key in [s.title_key(), s.desc_key(), s.history_key(), s.tag_key()] {
                    assert!(m.has(lang, &key), "{lang:?} lacks {key}");
                }
            }
            for f in FormType::ALL {
                assert!(m.has(lang, &f.title_key()), "{lang:?} lacks {f}");
            }
            for o in Office::ALL {
                let key = format!("office.{}.name", o.code());
                assert!(m.has(lang, &key), "{lang:?} lacks {key}");
            }
        }
    }

    #[test]
    fn every_password_feedback_has_text() {
        use crate::auth::password::{SUGGESTION_KEYS, WARNING_KEYS};
        let m = Messages::load().unwrap();
        for lang in Lang::ALL {
            for k in WARNING_KEYS {
                assert!(
                    m.has(lang, &format!("password.warning.{k}")),
                    "{lang:?} {k}"
                );
            }
            for k in SUGGESTION_KEYS {
                assert!(
                    m.has(lang, &format!("password.suggestion.{k}")),
                    "{lang:?} {k}"
                );
            }
        }
    }

    #[test]
    fn descriptions_only_use_known_placeholders() {
        let m = Messages::load().unwrap();
        let args = [
            ("date", "D"),
            ("form", "F"),
            ("form_title", "T"),
            ("receipt", "R"),
            ("office", "O"),
        ];
        for lang in Lang::ALL {
            for s in CaseStatus::ALL {
                let d = m.fmt(lang, &s.desc_key(), &args);
                assert!(!d.contains('{'), "{lang:?} {}: {d}", s.code());
            }
        }
    }

    #[test]
    fn accept_language_honours_quality() {
        assert_eq!(
            Lang::from_accept_language("es-MX,es;q=0.9,en;q=0.8"),
            Lang::Es
        );
        assert_eq!(Lang::from_accept_language("en-US,es;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr,es;q=0.4"), Lang::Es);
        assert_eq!(Lang::from_accept_language("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("es;q=0"), Lang::En);
    }

    #[test]
    fn times_are_shown_in_the_agency_zone_with_the_zone_named() {
        let m = Messages::global();
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 19:05 UTC on 3 March 2026 is 2:05 PM in New York (EST).
        let at = DateTime::from_timestamp(1_772_564_700, 0).unwrap();
        assert_eq!(
            m.date_time(Lang::En, at, ny),
            "March 3, 2026, 2:05\u{a0}PM EST"
        );
        assert_eq!(
            m.date_time(Lang::Es, at, ny),
            "3 de marzo de 2026, 2:05\u{a0}p.\u{a0}m. EST"
        );
        // Summer time is named too, and the day can differ from UTC's.
        let late = DateTime::from_timestamp(1_783_047_600, 0).unwrap(); // 2026-07-03 03:00 UTC
        assert_eq!(
            m.date_time(Lang::En, late, ny),
            "July 2, 2026, 11:00\u{a0}PM EDT"
        );
        assert_eq!(local_date(late, ny).to_string(), "2026-07-02");
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            m.date_time(Lang::En, at, la),
            "March 3, 2026, 11:05\u{a0}AM PST"
        );
    }

    #[test]
    fn long_dates() {
        let m = Messages::load().unwrap();
        let d = NaiveDate::from_ymd_opt(2023, 9, 5).unwrap();
        assert_eq!(m.long_date(Lang::En, d), "September 5, 2023");
        assert_eq!(m.long_date(Lang::Es, d), "5 de septiembre de 2023");
    }

    #[test]
    fn key_hasher_is_standard_fnv1a() {
        use std::hash::Hasher;
        let fnv = |bytes: &[u8]| {
            let mut h = std::hash::BuildHasher::build_hasher(&KeyHasher::default());
            h.write(bytes);
            h.finish()
        };
        // Published FNV-1a 64-bit test vectors.
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fill_handles_edges() {
        assert_eq!(fill("a {x} b {y}", &[("x", "1")]), "a 1 b {y}");
        assert_eq!(fill("open { brace", &[]), "open { brace");
        assert_eq!(fill("", &[]), "");
    }

    #[test]
    fn status_texts_name_the_configured_agency_never_uscis_by_default() {
        let m = Messages::for_agency("EISA", "AESIE");
        for lang in [Lang::En, Lang::Es] {
            for status in crate::domain::CaseStatus::ALL {
                for key in [status.title_key(), status.desc_key(), status.history_key()] {
                    let text = m.get(lang, &key);
                    assert!(!text.contains("{agency_short}"), "{lang:?} {key}: {text}");
                    assert!(!text.contains("USCIS"), "{lang:?} {key}: {text}");
                }
            }
        }
        let key = crate::domain::CaseStatus::ALL
            .iter()
            .map(|s| s.title_key())
            .find(|k| {
                Messages::global()
                    .get(Lang::En, k)
                    .contains("Actively Reviewed")
            })
            .unwrap();
        assert_eq!(
            m.get(Lang::En, &key),
            "Case Is Being Actively Reviewed By EISA"
        );
        assert_eq!(
            m.get(Lang::Es, &key),
            "Caso Está Siendo Revisado Activamente por AESIE"
        );
        let uscis = Messages::for_agency("USCIS", "USCIS");
        assert_eq!(
            uscis.get(Lang::En, &key),
            "Case Is Being Actively Reviewed By USCIS"
        );
        assert!(
            std::ptr::eq(uscis, Messages::for_agency("USCIS", "USCIS")),
            "cached"
        );
    }
}
