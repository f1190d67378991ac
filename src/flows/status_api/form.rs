//! The token request (RFC 6749 §4.4, form-encoded; credentials in the body
//! or in HTTP Basic).

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Credentials found in the request.
#[derive(Debug, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenRequestError {
    UnsupportedGrant,
    MissingCredentials,
}

/// Decodes `Authorization: Basic base64(id:secret)` (standard alphabet).
pub fn basic_credentials(header: &str) -> Option<Credentials> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_urlencoded::parse(format!("a={id}").as_bytes())
        .next()?
        .1
        .into_owned();
    let secret = form_urlencoded::parse(format!("a={secret}").as_bytes())
        .next()?
        .1
        .into_owned();
    Some(Credentials {
        client_id: id,
        client_secret: secret,
    })
}

/// Standard base64, padded or not.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64_NOPAD
        .decode(s.trim_end_matches('=').as_bytes())
        .ok()
}

impl TokenForm {
    pub fn credentials(self, basic: Option<Credentials>) -> Result<Credentials, TokenRequestError> {
        if self.grant_type.as_deref().map(str::trim) != Some("client_credentials") {
            return Err(TokenRequestError::UnsupportedGrant);
        }
        if let Some(c) = basic {
            return Ok(c);
        }
        match (self.client_id, self.client_secret) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok(Credentials {
                client_id: id.trim().to_string(),
                client_secret: secret.trim().to_string(),
            }),
            _ => Err(TokenRequestError::MissingCredentials),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_decodes() {
        // "client:s3cr%3At" → secret "s3cr:t"
        let c = basic_credentials("Basic Y2xpZW50OnMzY3IlM0F0").unwrap();
        assert_eq!(c.client_id, "client");
        assert_eq!(c.client_secret, "s3cr:t");
        assert!(basic_credentials("Bearer x").is_none());
        assert!(basic_credentials("Basic !!!").is_none());
    }

    #[test]
    fn grant_type_is_required() {
        let f = TokenForm {
            grant_type: Some("password".into()),
            client_id: Some("a".into()),
            client_secret: Some("b".into()),
        };
        assert_eq!(
            f.credentials(None),
            Err(TokenRequestError::UnsupportedGrant)
        );
        let f = TokenForm {
            grant_type: Some("client_credentials".into()),
            client_id: Some("a".into()),
            client_secret: None,
        };
        assert_eq!(
            f.credentials(None),
            Err(TokenRequestError::MissingCredentials)
        );
    }
}
