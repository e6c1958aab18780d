//! Thunderbird autoconfig (`clientConfig` version 1.1, the format of the
//! Mozilla ISPDB, also read by Evolution, KMail, K-9, FairEmail): IMAP,
//! POP3 and SMTP submission, each with implicit TLS first and STARTTLS
//! second, then CardDAV and CalDAV. No I/O.

use crate::pox::Endpoints;
use groxide_http_core::xml::XmlWriter;

/// The ports and hosts autoconfig advertises (0 = a service not advertised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServices {
    /// IMAP over implicit TLS (993).
    pub imap_tls_port: u16,
    /// IMAP with STARTTLS (143).
    pub imap_starttls_port: u16,
    /// POP3 over implicit TLS (995).
    pub pop3_tls_port: u16,
    /// POP3 with STLS (110).
    pub pop3_starttls_port: u16,
    /// The submission host; empty = the home node.
    pub submission_host: String,
    /// Submission over implicit TLS (465).
    pub submission_tls_port: u16,
    /// Submission with STARTTLS (587).
    pub submission_starttls_port: u16,
}

/// The provider: the domain the address is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider<'a> {
    /// The domain name.
    pub domain: &'a str,
    /// A name for people (the domain's title, else its name).
    pub display_name: &'a str,
}

fn server(
    w: &mut XmlWriter,
    element: &'static str,
    kind: &str,
    host: &str,
    port: u16,
    socket: &str,
) {
    if port == 0 {
        return;
    }
    w.open(element, &[("type", kind)])
        .leaf("hostname", host)
        .leaf("port", &port.to_string())
        .leaf("socketType", socket)
        .leaf("authentication", "password-cleartext")
        .leaf("username", "%EMAILADDRESS%")
        .close();
}

/// The configuration document for addresses of `provider` homed at `at`.
pub fn config(provider: &Provider<'_>, at: &Endpoints, services: &MailServices) -> String {
    let host = at.host.as_str();
    let submission = if services.submission_host.is_empty() {
        host
    } else {
        services.submission_host.as_str()
    };
    let mut w = XmlWriter::indented();
    w.open("clientConfig", &[("version", "1.1")]);
    w.open("emailProvider", &[("id", provider.domain)])
        .leaf("domain", provider.domain)
        .leaf("displayName", provider.display_name)
        .leaf("displayShortName", provider.domain);
    server(
        &mut w,
        "incomingServer",
        "imap",
        host,
        services.imap_tls_port,
        "SSL",
    );
    server(
        &mut w,
        "incomingServer",
        "imap",
        host,
        services.imap_starttls_port,
        "STARTTLS",
    );
    server(
        &mut w,
        "incomingServer",
        "pop3",
        host,
        services.pop3_tls_port,
        "SSL",
    );
    server(
        &mut w,
        "incomingServer",
        "pop3",
        host,
        services.pop3_starttls_port,
        "STARTTLS",
    );
    server(
        &mut w,
        "outgoingServer",
        "smtp",
        submission,
        services.submission_tls_port,
        "SSL",
    );
    server(
        &mut w,
        "outgoingServer",
        "smtp",
        submission,
        services.submission_starttls_port,
        "STARTTLS",
    );
    w.close();
    let dav = at.dav();
    for (element, kind) in [("addressBook", "carddav"), ("calendar", "caldav")] {
        w.open(element, &[("type", kind)])
            .leaf("username", "%EMAILADDRESS%")
            .leaf("authentication", "http-basic")
            .leaf("serverURL", &dav)
            .close();
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> MailServices {
        MailServices {
            imap_tls_port: 993,
            imap_starttls_port: 143,
            pop3_tls_port: 995,
            pop3_starttls_port: 110,
            submission_host: String::new(),
            submission_tls_port: 465,
            submission_starttls_port: 587,
        }
    }

    #[test]
    fn a_full_config_lists_every_service_tls_first() {
        let at = Endpoints {
            host: "mx2.example.com".into(),
            https_port: 443,
        };
        let provider = Provider {
            domain: "example.com",
            display_name: "Example & Sons",
        };
        insta::assert_snapshot!(config(&provider, &at, &services()));
    }

    #[test]
    fn port_zero_leaves_a_service_out_and_submission_may_live_elsewhere() {
        let at = Endpoints {
            host: "localhost".into(),
            https_port: 8443,
        };
        let provider = Provider {
            domain: "example.test",
            display_name: "example.test",
        };
        let s = MailServices {
            pop3_tls_port: 0,
            pop3_starttls_port: 0,
            submission_host: "smtp.example.test".into(),
            submission_tls_port: 0,
            ..services()
        };
        let doc = config(&provider, &at, &s);
        assert!(!doc.contains("pop3"), "{doc}");
        assert!(!doc.contains("<port>465</port>"), "{doc}");
        assert!(
            doc.contains("<hostname>smtp.example.test</hostname>"),
            "{doc}"
        );
        assert!(
            doc.contains("<serverURL>https://localhost:8443/dav/</serverURL>"),
            "{doc}"
        );
    }
}
