//! `GET /help` (public).

use axum::extract::State;
use axum::response::Response;

use crate::app::{AppState, Chrome, render};
use crate::i18n::Lang;

/// One answer on the page: its anchor (refusal pages link to
/// `/help#<anchor>`), its message key and its next step.
pub struct Problem {
    pub anchor: &'static str,
    pub key: &'static str,
    pub href: &'static str,
}

/// The common problems, in the order the page lists them.
pub const PROBLEMS: &[Problem] = &[
    Problem {
        anchor: "code-never-arrived",
        key: "help.q.code_never_arrived",
        href: "/access-code",
    },
    Problem {
        anchor: "could-not-verify",
        key: "help.q.could_not_verify",
        href: "/access-code",
    },
    Problem {
        anchor: "address-mismatch",
        key: "help.q.address_mismatch",
        href: "/change-address",
    },
    Problem {
        anchor: "too-many-requests",
        key: "help.q.too_many",
        href: "#contact",
    },
    Problem {
        anchor: "locked-out",
        key: "help.q.locked_out",
        href: "/forgot-password",
    },
    Problem {
        anchor: "lost-authenticator",
        key: "help.q.lost_authenticator",
        href: "/sign-in",
    },
    Problem {
        anchor: "case-in-another-account",
        key: "help.q.linked_elsewhere",
        href: "/status",
    },
];

/// What each flow needs: (address, message key).
pub const NEEDS: &[(&str, &str)] = &[
    ("/status", "help.needs.status"),
    ("/access-code", "help.needs.access"),
    ("/sign-up", "help.needs.sign_up"),
    ("/account/cases/add", "help.needs.link"),
    ("/change-address", "help.needs.address"),
];

#[derive(askama::Template)]
#[template(path = "flows/help/page.html")]
struct PageTemplate<'a> {
    c: Chrome<'a>,
    problems: &'static [Problem],
    needs: &'static [(&'static str, &'static str)],
}

impl PageTemplate<'_> {
    fn part(&self, key: &str, part: &str) -> String {
        self.c
            .msgs
            .get(self.c.lang, &format!("{key}.{part}"))
            .to_string()
    }
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let c = Chrome::new(&state, lang, "/help", "");
    let title = c.t("help.title").to_string();
    render(&PageTemplate {
        c: c.titled(title),
        problems: PROBLEMS,
        needs: NEEDS,
    })
}
