//! SASL PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`, base64-encoded.

use base64::Engine as _;

/// Longest decoded PLAIN message accepted.
pub const MAX_PLAIN: usize = 2048;

/// Credentials from a PLAIN response.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// The login name (authcid).
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for PlainCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never show the password.
        f.debug_struct("PlainCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Why a PLAIN response is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// Not base64.
    #[error("the SASL response is not valid base64")]
    Base64,
    /// Too long.
    #[error("the SASL response is too long")]
    TooLong,
    /// Not `authzid NUL authcid NUL passwd` in UTF-8.
    #[error("the SASL PLAIN response is malformed")]
    Malformed,
    /// Logging in as someone else (authzid ≠ authcid) is not offered.
    #[error("acting as another user is not supported")]
    Proxy,
}

/// Decodes a PLAIN response (`=` is the empty response).
pub fn decode_plain(b64: &str) -> Result<PlainCredentials, SaslError> {
    if b64.len() > MAX_PLAIN * 4 / 3 + 4 {
        return Err(SaslError::TooLong);
    }
    let raw = if b64 == "=" {
        Vec::new()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| SaslError::Base64)?
    };
    let text = String::from_utf8(raw).map_err(|_| SaslError::Malformed)?;
    let mut parts = text.split('\0');
    let (Some(authz), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if user.is_empty() {
        return Err(SaslError::Malformed);
    }
    if !authz.is_empty() && authz != user {
        return Err(SaslError::Proxy);
    }
    Ok(PlainCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn check(input: &str, expected: Result<(&str, &str), SaslError>) {
        let got = decode_plain(input).map(|c| (c.user, c.password));
        let want = expected.map(|(u, p)| (u.to_owned(), p.to_owned()));
        assert_eq!(got, want, "{input:?}");
    }

    #[test]
    fn plain_responses_decode_or_say_why_not() {
        check(&b64(b"\0alice\0secret"), Ok(("alice", "secret")));
        check(&b64(b"alice\0alice\0pass word"), Ok(("alice", "pass word")));
        check(&b64(b"\0alice\0"), Ok(("alice", "")));
        check(&b64(b"bob\0alice\0secret"), Err(SaslError::Proxy));
        check("not base64!", Err(SaslError::Base64));
        check("AGFsaWNl", Err(SaslError::Malformed));
        check("=", Err(SaslError::Malformed));
        check(&b64(b"\0\0secret"), Err(SaslError::Malformed));
        check(&b64(b"\0a\0b\0c"), Err(SaslError::Malformed));
        check(&b64(b"\0a\xff\0b"), Err(SaslError::Malformed));
        check(&"A".repeat(10_000), Err(SaslError::TooLong));
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let c = decode_plain(&b64(b"\0alice\0hunter2")).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
