//! The CAPABILITY list: what this server offers in the session's current
//! state. Only what works is listed; the list differs before and after
//! login, with and without TLS, and once COMPRESS is active.

use crate::settings::Settings;

/// Where the session is, as far as capabilities are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityState {
    /// TLS is active on the connection.
    pub tls: bool,
    /// STARTTLS could be offered (certificates loaded, plain connection).
    pub starttls_available: bool,
    /// The user is logged in.
    pub authenticated: bool,
    /// COMPRESS is active.
    pub compressed: bool,
}

/// Capabilities offered before login besides the auth mechanisms.
const PRE_AUTH: &[&str] = &["LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"];

/// Capabilities offered after login.
const POST_AUTH: &[&str] = &[
    "LITERAL+",
    "ID",
    "ENABLE",
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "CHILDREN",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "STATUS=SIZE",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "SEARCHRES",
    "SORT",
    "THREAD=REFERENCES",
    "THREAD=ORDEREDSUBJECT",
    "BINARY",
    "MULTIAPPEND",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "QUOTA=RES-MESSAGE",
    "UTF8=ACCEPT",
];

/// The capability atoms for `state`.
pub fn capabilities(settings: &Settings, state: CapabilityState) -> Vec<String> {
    let mut caps = vec!["IMAP4rev1".to_owned()];
    if settings.rfc9051 {
        caps.push("IMAP4rev2".to_owned());
    }
    if !state.authenticated {
        caps.extend(PRE_AUTH.iter().map(|c| (*c).to_owned()));
        if state.starttls_available && !state.tls {
            caps.push("STARTTLS".to_owned());
        }
        if settings.force_tls && !state.tls {
            caps.push("LOGINDISABLED".to_owned());
        } else {
            caps.push("AUTH=PLAIN".to_owned());
            caps.push("AUTH=LOGIN".to_owned());
        }
        return caps;
    }
    caps.extend(POST_AUTH.iter().map(|c| (*c).to_owned()));
    caps.push(format!("APPENDLIMIT={}", settings.max_literal_size));
    if !state.compressed {
        caps.push("COMPRESS=DEFLATE".to_owned());
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tls: bool, authenticated: bool) -> CapabilityState {
        CapabilityState {
            tls,
            starttls_available: true,
            authenticated,
            compressed: false,
        }
    }

    #[test]
    fn login_is_disabled_without_tls_when_tls_is_forced() {
        let settings = Settings {
            force_tls: true,
            ..Settings::default()
        };
        let plain = capabilities(&settings, state(false, false));
        assert!(plain.contains(&"LOGINDISABLED".to_owned()));
        assert!(plain.contains(&"STARTTLS".to_owned()));
        assert!(!plain.iter().any(|c| c.starts_with("AUTH=")));
        let tls = capabilities(&settings, state(true, false));
        assert!(!tls.contains(&"LOGINDISABLED".to_owned()));
        assert!(!tls.contains(&"STARTTLS".to_owned()));
        assert!(tls.contains(&"AUTH=PLAIN".to_owned()));
    }

    #[test]
    fn extensions_are_offered_after_login_only_and_compress_only_once() {
        let settings = Settings::default();
        let before = capabilities(&settings, state(false, false));
        assert!(!before.contains(&"QRESYNC".to_owned()));
        let after = capabilities(&settings, state(false, true));
        for cap in [
            "QRESYNC",
            "MOVE",
            "COMPRESS=DEFLATE",
            "APPENDLIMIT=67108864",
        ] {
            assert!(after.contains(&cap.to_owned()), "{cap}");
        }
        assert!(
            !after
                .iter()
                .any(|c| c.starts_with("AUTH=") || c == "STARTTLS")
        );
        let compressed = capabilities(
            &settings,
            CapabilityState {
                compressed: true,
                ..state(false, true)
            },
        );
        assert!(!compressed.contains(&"COMPRESS=DEFLATE".to_owned()));
    }

    #[test]
    fn imap4rev2_follows_the_setting() {
        let off = Settings {
            rfc9051: false,
            ..Settings::default()
        };
        assert!(!capabilities(&off, state(true, true)).contains(&"IMAP4rev2".to_owned()));
        assert!(
            capabilities(&Settings::default(), state(true, true)).contains(&"IMAP4rev2".to_owned())
        );
    }
}
