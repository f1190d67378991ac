//! Pure rules of the Case Status Online JSON: its token (issue and verify,
//! `now` passed in) and the shape of an answer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{constant_time_eq, hmac_sha256};

/// How long a `/csol-api/ui-auth` token is good for.
pub const TOKEN_TTL_SECS: i64 = 900;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Serialize, Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
}

/// A signed token issued at `now` (unix seconds).
pub fn issue_token(key: &[u8; 32], now: i64) -> String {
    let claims = Claims {
        iat: now,
        exp: now + TOKEN_TTL_SECS,
    };
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Whether `token` was signed with `key` and is unexpired at `now`.
pub fn token_valid(key: &[u8; 32], token: &str, now: i64) -> bool {
    let Some((signing_input, sig)) = token.rsplit_once('.') else {
        return false;
    };
    let Some((header, payload)) = signing_input.split_once('.') else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    if !constant_time_eq(&hmac_sha256(key, signing_input.as_bytes()), &sig) {
        return false;
    }
    if URL_SAFE_NO_PAD.decode(header).ok().as_deref() != Some(HEADER.as_bytes()) {
        return false;
    }
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice::<Claims>(&p).ok())
        .is_some_and(|c| c.iat <= now + 60 && now < c.exp)
}

/// One language's details, exactly as the public status JSON names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[allow(non_snake_case)]
pub struct Details {
    pub formNum: String,
    pub formTitle: String,
    pub actionCodeText: String,
    pub actionCodeDesc: String,
    pub empty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(non_snake_case)]
pub struct CaseStatusResponse {
    pub receiptNumber: String,
    pub isValid: bool,
    pub detailsEng: Details,
    pub detailsSpa: Details,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(non_snake_case)]
pub struct Envelope {
    pub CaseStatusResponse: CaseStatusResponse,
}

/// The answer for a receipt with nothing to show (unknown, protected or
/// malformed): one shape for all, so none can be told apart.
pub fn not_found(receipt: &str) -> Envelope {
    let empty = Details {
        empty: true,
        ..Details::default()
    };
    Envelope {
        CaseStatusResponse: CaseStatusResponse {
            receiptNumber: receipt.to_string(),
            isValid: false,
            detailsEng: empty.clone(),
            detailsSpa: empty,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn tokens_verify_until_they_expire() {
        let t = issue_token(&KEY, 1_000);
        assert_eq!(t.split('.').count(), 3);
        assert!(token_valid(&KEY, &t, 1_000));
        assert!(token_valid(&KEY, &t, 1_000 + TOKEN_TTL_SECS - 1));
        assert!(!token_valid(&KEY, &t, 1_000 + TOKEN_TTL_SECS));
        assert!(!token_valid(&[8; 32], &t, 1_000), "other key");
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(!token_valid(&KEY, &forged, 1_000));
        assert!(!token_valid(&KEY, "a.b", 1_000));
        assert!(!token_valid(&KEY, "", 1_000));
    }

    #[test]
    fn nothing_to_show_is_one_shape() {
        let v = serde_json::to_value(not_found("EAC0000000000")).unwrap();
        let r = &v["CaseStatusResponse"];
        assert_eq!(r["isValid"], false);
        assert_eq!(r["detailsEng"]["empty"], true);
        assert_eq!(r["detailsSpa"]["formNum"], "");
    }
}
