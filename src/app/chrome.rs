//! What every page's layout needs: language, messages, agency name and the
//! link to the same page in the other language.

use crate::config::HelpContacts;
use crate::i18n::{Lang, Messages};

use super::AppState;

pub struct Chrome<'a> {
    pub lang: Lang,
    pub msgs: &'static Messages,
    pub agency: &'a str,
    /// The current path and query with `lang` switched to the other language.
    pub switch_href: String,
    /// Page title, before the agency name.
    pub title: String,
    /// CSRF token for this visitor's forms.
    pub csrf: String,
    /// Whether to offer "My account" and "Sign out" rather than "Sign in".
    pub signed_in: bool,
    /// Whether to offer the link back to the officer console.
    pub officer: bool,
    /// How to reach the agency (`web/contact.html` shows it on dead ends).
    pub help: &'a HelpContacts,
}

impl<'a> Chrome<'a> {
    /// `query` is the current query string without `lang`.
    pub fn new(state: &'a AppState, lang: Lang, path: &str, query: &str) -> Chrome<'a> {
        let other = lang.other().code();
        let switch_href = if query.is_empty() {
            format!("{path}?lang={other}")
        } else {
            format!("{path}?{query}&lang={other}")
        };
        Chrome {
            lang,
            msgs: state.messages,
            agency: state.agency(lang),
            switch_href,
            title: String::new(),
            csrf: String::new(),
            signed_in: false,
            officer: false,
            help: &state.config.help,
        }
    }

    /// The phone line's hours in this page's language.
    pub fn help_hours(&self) -> Option<&str> {
        match self.lang {
            Lang::En => self.help.hours.as_deref(),
            Lang::Es => self.help.hours_es.as_deref().or(self.help.hours.as_deref()),
        }
    }

    pub fn with_csrf(mut self, csrf: crate::auth::csrf::CsrfToken) -> Self {
        self.csrf = csrf.0;
        self
    }

    pub fn signed_in(mut self, yes: bool) -> Self {
        self.signed_in = yes;
        self
    }

    /// An officer's page: the header links back to the console.
    pub fn officer(mut self) -> Self {
        self.officer = true;
        self.signed_in = true;
        self
    }

    /// A message with one placeholder filled.
    pub fn fmt(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.msgs.fmt(self.lang, key, &[(name, &value.to_string())])
    }

    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn t<'k>(&'k self, key: &'k str) -> &'k str {
        self.msgs.get(self.lang, key)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn other_code(&self) -> &'static str {
        self.lang.other().code()
    }
}
