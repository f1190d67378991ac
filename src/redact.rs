//! `Debug` for forms that carry passwords, codes or identifiers: the
//! sensitive fields print as `<redacted>`, so no log line or panic message
//! can carry them.

/// `redacted_debug!(Form { shown, fields } redact { secret, fields })`
/// implements `Debug` for `Form` with the `redact` fields hidden.
#[macro_export]
macro_rules! redacted_debug {
    ($ty:ident { $($shown:ident),* } redact { $($secret:ident),* }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($secret), &"<redacted>"))*
                    .finish()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[derive(Default)]
    #[allow(dead_code)] // read only through Debug, which hides it
    struct Form {
        email: String,
        password: String,
    }
    crate::redacted_debug!(Form { email } redact { password });

    #[test]
    fn secrets_never_reach_debug_output() {
        let f = Form {
            email: "a@example.com".into(),
            password: "correct horse".into(),
        };
        let shown = format!("{f:?}");
        assert!(shown.contains("a@example.com") && shown.contains("<redacted>"));
        assert!(!shown.contains("correct horse"));
    }
}
