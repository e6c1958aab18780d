//! AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959), its continuation
//! lines, SASL PLAIN (RFC 4616) and the `DONE` that ends IDLE (RFC 2177).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::command::{AuthMechanism, CommandBody};
use crate::error::ParseError;
use crate::lexer::Cursor;

/// Label prompt of AUTH=LOGIN, already base64-encoded: `Username:`.
pub const AUTH_LOGIN_USERNAME_CHALLENGE: &str = "VXNlcm5hbWU6";
/// Label prompt of AUTH=LOGIN, already base64-encoded: `Password:`.
pub const AUTH_LOGIN_PASSWORD_CHALLENGE: &str = "UGFzc3dvcmQ6";

pub(super) fn parse_authenticate(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let name = c.atom_string()?.to_ascii_uppercase();
    let mechanism = match name.as_str() {
        "PLAIN" => AuthMechanism::Plain,
        "LOGIN" => AuthMechanism::Login,
        _ => AuthMechanism::Other(name),
    };
    let initial_response = if c.eat_sp() {
        if c.eat(b'=') {
            Some(Vec::new())
        } else {
            let text = c.take_while(is_base64_char);
            if text.is_empty() {
                return Err(ParseError::InvalidBase64);
            }
            c.count_token()?;
            Some(decode_base64(text)?)
        }
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, ParseError> {
    STANDARD.decode(text).map_err(|_| ParseError::InvalidBase64)
}

/// A client's answer to an AUTHENTICATE challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateResponse {
    /// The decoded response (empty for an empty line).
    Data(Vec<u8>),
    /// `*`: the client cancels; answer `BAD`.
    Cancel,
}

/// Parses one AUTHENTICATE continuation line (with or without its CRLF):
/// base64 data, an empty line, or `*` to cancel.
pub fn parse_authenticate_response(line: &[u8]) -> Result<AuthenticateResponse, ParseError> {
    let line = strip_crlf(line);
    if line == b"*" {
        return Ok(AuthenticateResponse::Cancel);
    }
    if !line.iter().all(|&b| is_base64_char(b)) {
        return Err(ParseError::InvalidBase64);
    }
    decode_base64(line).map(AuthenticateResponse::Data)
}

/// Checks that a line received during IDLE is `DONE` (case-insensitive).
pub fn parse_idle_done(line: &[u8]) -> Result<(), ParseError> {
    if strip_crlf(line).eq_ignore_ascii_case(b"DONE") {
        Ok(())
    } else {
        Err(ParseError::Expected("DONE"))
    }
}

fn strip_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The three fields of a SASL PLAIN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// Authorization identity (empty: same as `authcid`).
    pub authzid: Vec<u8>,
    /// Authentication identity (the user name).
    pub authcid: Vec<u8>,
    /// The password.
    pub password: Vec<u8>,
}

/// Splits a decoded SASL PLAIN message `authzid NUL authcid NUL passwd`.
pub fn decode_sasl_plain(message: &[u8]) -> Result<PlainCredentials, ParseError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::InvalidSaslPlain);
    };
    if authcid.is_empty() {
        return Err(ParseError::InvalidSaslPlain);
    }
    Ok(PlainCredentials {
        authzid: authzid.to_vec(),
        authcid: authcid.to_vec(),
        password: password.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticate_lines_decode_base64_and_star_cancels() {
        assert_eq!(
            parse_authenticate_response(b"dGVzdA==\r\n"),
            Ok(AuthenticateResponse::Data(b"test".to_vec()))
        );
        assert_eq!(
            parse_authenticate_response(b""),
            Ok(AuthenticateResponse::Data(Vec::new()))
        );
        assert_eq!(
            parse_authenticate_response(b"*\r\n"),
            Ok(AuthenticateResponse::Cancel)
        );
        assert_eq!(
            parse_authenticate_response(b"dGVz dA=="),
            Err(ParseError::InvalidBase64)
        );
        assert_eq!(
            parse_authenticate_response(b"dGVzdA="),
            Err(ParseError::InvalidBase64)
        );
    }

    #[test]
    fn idle_ends_only_with_done() {
        assert!(parse_idle_done(b"DONE\r\n").is_ok());
        assert!(parse_idle_done(b"done").is_ok());
        assert!(parse_idle_done(b"a1 NOOP\r\n").is_err());
    }

    #[test]
    fn sasl_plain_splits_into_three_fields() {
        let creds = decode_sasl_plain(b"\0alice\0secret").unwrap();
        assert_eq!(creds.authzid, b"");
        assert_eq!(creds.authcid, b"alice");
        assert_eq!(creds.password, b"secret");
        assert!(decode_sasl_plain(b"alice\0secret").is_err());
        assert!(decode_sasl_plain(b"a\0b\0c\0d").is_err());
        assert!(decode_sasl_plain(b"a\0\0c").is_err());
    }

    #[test]
    fn auth_login_prompts_are_base64_of_their_labels() {
        assert_eq!(
            STANDARD.decode(AUTH_LOGIN_USERNAME_CHALLENGE).unwrap(),
            b"Username:"
        );
        assert_eq!(
            STANDARD.decode(AUTH_LOGIN_PASSWORD_CHALLENGE).unwrap(),
            b"Password:"
        );
    }
}
