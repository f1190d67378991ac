//! The subscription request, parsed into types.

use serde::Deserialize;

use crate::domain::ReceiptNumber;
use crate::webhooks::{MAX_RECEIPTS, TargetError, TargetRules, WebhookUrl};

/// The JSON body as sent.
#[derive(Debug, Deserialize)]
pub struct SubscribeBody {
    pub url: Option<String>,
    #[serde(rename = "receiptNumbers")]
    pub receipt_numbers: Option<Vec<String>>,
}

/// A valid request.
#[derive(Debug)]
pub struct Subscribe {
    pub url: WebhookUrl,
    /// Normalised, de-duplicated, sorted.
    pub receipts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeFormError {
    #[error("url is required")]
    MissingUrl,
    #[error("url: {0}")]
    Url(TargetError),
    #[error("receiptNumbers must list 1 to 100 receipt numbers")]
    ReceiptCount,
    #[error("receiptNumbers: {0} is not a receipt number (3 letters and 10 digits)")]
    Receipt(String),
}

impl Subscribe {
    pub fn parse(body: SubscribeBody, rules: TargetRules) -> Result<Subscribe, SubscribeFormError> {
        let raw_url = body.url.ok_or(SubscribeFormError::MissingUrl)?;
        let url = WebhookUrl::parse(&raw_url, rules).map_err(SubscribeFormError::Url)?;
        let raw = body.receipt_numbers.unwrap_or_default();
        if raw.is_empty() || raw.len() > MAX_RECEIPTS {
            return Err(SubscribeFormError::ReceiptCount);
        }
        let mut receipts = Vec::with_capacity(raw.len());
        for r in &raw {
            let parsed = ReceiptNumber::parse(r)
                .map_err(|_| SubscribeFormError::Receipt(r.chars().take(20).collect::<String>()))?;
            receipts.push(parsed.as_str().to_string());
        }
        receipts.sort();
        receipts.dedup();
        Ok(Subscribe { url, receipts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(url: &str, receipts: &[&str]) -> SubscribeBody {
        SubscribeBody {
            url: Some(url.into()),
            receipt_numbers: Some(receipts.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn receipts_are_normalised_and_deduplicated() {
        let s = Subscribe::parse(
            body(
                "https://hooks.example.com/x",
                &["eac9999103403", "EAC9999103403", "LIN9999106498"],
            ),
            TargetRules::default(),
        )
        .unwrap();
        assert_eq!(s.receipts, vec!["EAC9999103403", "LIN9999106498"]);
    }

    #[test]
    fn bad_requests_say_why() {
        let rules = TargetRules::default();
        assert_eq!(
            Subscribe::parse(body("https://hooks.example.com/x", &[]), rules).unwrap_err(),
            SubscribeFormError::ReceiptCount
        );
        assert!(matches!(
            Subscribe::parse(body("https://hooks.example.com/x", &["nope"]), rules),
            Err(SubscribeFormError::Receipt(_))
        ));
        assert_eq!(
            Subscribe::parse(body("https://10.0.0.1/x", &["EAC9999103403"]), rules).unwrap_err(),
            SubscribeFormError::Url(TargetError::NotPublic)
        );
    }
}
