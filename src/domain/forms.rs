//! The form catalogue. Titles (English and Spanish) live in the message files
//! under `form."<id>".title`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormType {
    I90,
    I129F,
    I130,
    I131,
    I485,
    I539,
    I589,
    I751,
    I765,
    I821D,
    N400,
    N600,
}

impl FormType {
    pub const ALL: [FormType; 12] = [
        FormType::I90,
        FormType::I129F,
        FormType::I130,
        FormType::I131,
        FormType::I485,
        FormType::I539,
        FormType::I589,
        FormType::I751,
        FormType::I765,
        FormType::I821D,
        FormType::N400,
        FormType::N600,
    ];

    /// The form number as the agency prints it, e.g. `I-130`.
    pub fn id(self) -> &'static str {
        match self {
            FormType::I90 => "I-90",
            FormType::I129F => "I-129F",
            FormType::I130 => "I-130",
            FormType::I131 => "I-131",
            FormType::I485 => "I-485",
            FormType::I539 => "I-539",
            FormType::I589 => "I-589",
            FormType::I751 => "I-751",
            FormType::I765 => "I-765",
            FormType::I821D => "I-821D",
            FormType::N400 => "N-400",
            FormType::N600 => "N-600",
        }
    }

    /// Accepts `I-130`, `i130`, `I 130`.
    pub fn parse(input: &str) -> Option<FormType> {
        let squeezed: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        FormType::ALL
            .into_iter()
            .find(|f| f.id().replace('-', "") == squeezed)
    }

    /// Whether approval leads to a card being produced (and card statuses apply).
    pub fn produces_card(self) -> bool {
        matches!(
            self,
            FormType::I90 | FormType::I485 | FormType::I751 | FormType::I765 | FormType::I821D
        )
    }

    /// Message key of the title.
    pub fn title_key(self) -> String {
        format!("form.{}.title", self.id())
    }
}

impl std::fmt::Display for FormType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_spelling() {
        for f in FormType::ALL {
            assert_eq!(FormType::parse(f.id()), Some(f));
            assert_eq!(FormType::parse(&f.id().to_lowercase()), Some(f));
            assert_eq!(FormType::parse(&f.id().replace('-', "")), Some(f));
        }
        assert_eq!(FormType::parse("I-129"), None);
        assert_eq!(FormType::parse(""), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".*") {
            if let Some(f) = FormType::parse(&s) {
                prop_assert_eq!(FormType::parse(f.id()), Some(f));
            }
        }
    }
}
