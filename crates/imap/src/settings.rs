//! The session limits and switches read from imap.cfg (reloadable by
//! SIGHUP: new values apply to new commands and connections).

use groxide_config::keys::imap;
use groxide_config::{Config, Imap};
use std::time::Duration;

/// What sessions obey. [`Default`] gives imap.cfg's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Offer IMAP4rev2 (`imap_rfc9051`).
    pub rfc9051: bool,
    /// Offer STARTTLS on plain connections (`imap_support_starttls`; needs certificates).
    pub starttls: bool,
    /// Refuse login without TLS (`imap_force_tls`).
    pub force_tls: bool,
    /// Idle time before login (`imap_conn_timeout`).
    pub conn_timeout: Duration,
    /// Idle time after login, IDLE included (`imap_autologout_time`).
    pub autologout: Duration,
    /// Failed logins after which the session is closed (`imap_auth_times`).
    pub auth_failures_per_session: u32,
    /// Largest APPEND literal (`imap_max_literal_size`; the APPENDLIMIT).
    pub max_literal_size: u64,
    /// Longest command outside literals (`imap_max_line_length`).
    pub max_line_length: usize,
    /// Connections one user may hold (`imap_max_connections_per_user`).
    pub max_connections_per_user: u32,
    /// Connections from one client address (`imap_max_connections_per_ip`).
    pub max_connections_per_ip: u32,
    /// Connections served at once (`context_num`).
    pub max_connections: u32,
    /// Connections not logged in, at once (`imap_max_unauth_connections`).
    pub max_unauth_connections: u32,
    /// Connections not logged in from one address (`imap_max_unauth_connections_per_ip`).
    pub max_unauth_connections_per_ip: u32,
    /// Time from connecting to logging in, whatever is sent meanwhile
    /// (`imap_login_timeout`).
    pub login_timeout: Duration,
    /// How often IDLE checks the mailbox when no change hint arrives
    /// (`imap_idle_check_interval`): covers an unreachable event service.
    pub idle_check_interval: Duration,
}

/// Largest literal a client may send before login (no APPEND then).
pub const PRE_AUTH_MAX_LITERAL: u64 = 8 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rfc9051: true,
            starttls: true,
            force_tls: false,
            conn_timeout: Duration::from_secs(180),
            autologout: Duration::from_secs(30 * 60),
            auth_failures_per_session: 10,
            max_literal_size: 64 * 1024 * 1024,
            max_line_length: 64 * 1024,
            max_connections_per_user: 50,
            max_connections_per_ip: 100,
            max_connections: 400,
            max_unauth_connections: 100,
            max_unauth_connections_per_ip: 10,
            login_timeout: Duration::from_secs(60),
            idle_check_interval: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// The connection limits of admission.
    pub fn limits(&self) -> crate::admission::Limits {
        crate::admission::Limits {
            max_total: self.max_connections,
            max_per_ip: self.max_connections_per_ip,
            max_unauth: self.max_unauth_connections,
            max_unauth_per_ip: self.max_unauth_connections_per_ip,
            login_timeout: self.login_timeout,
        }
    }

    /// The settings of a loaded imap.cfg (values are validated at load).
    pub fn from_config(config: &Config<Imap>) -> Settings {
        let has_tls = !config
            .get(imap::IMAP_CERTIFICATE_PATH)
            .as_os_str()
            .is_empty()
            && !config
                .get(imap::IMAP_PRIVATE_KEY_PATH)
                .as_os_str()
                .is_empty();
        Settings {
            rfc9051: config.get(imap::IMAP_RFC9051),
            starttls: config.get(imap::IMAP_SUPPORT_STARTTLS) && has_tls,
            force_tls: config.get(imap::IMAP_FORCE_TLS),
            conn_timeout: config.get(imap::IMAP_CONN_TIMEOUT),
            autologout: config.get(imap::IMAP_AUTOLOGOUT_TIME),
            auth_failures_per_session: config.get(imap::IMAP_AUTH_TIMES),
            max_literal_size: config.get(imap::IMAP_MAX_LITERAL_SIZE),
            max_line_length: usize::try_from(config.get(imap::IMAP_MAX_LINE_LENGTH))
                .unwrap_or(usize::MAX),
            max_connections_per_user: config.get(imap::IMAP_MAX_CONNECTIONS_PER_USER),
            max_connections_per_ip: config.get(imap::IMAP_MAX_CONNECTIONS_PER_IP),
            max_connections: config.get(imap::CONTEXT_NUM),
            max_unauth_connections: config.get(imap::IMAP_MAX_UNAUTH_CONNECTIONS),
            max_unauth_connections_per_ip: config.get(imap::IMAP_MAX_UNAUTH_CONNECTIONS_PER_IP),
            login_timeout: config.get(imap::IMAP_LOGIN_TIMEOUT),
            idle_check_interval: config.get(imap::IMAP_IDLE_CHECK_INTERVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(imap_cfg: &str) -> Settings {
        let (config, _) =
            Config::<Imap>::from_str_for_tests(Path::new("/etc/groxide"), "", imap_cfg).unwrap();
        Settings::from_config(&config)
    }

    #[test]
    fn the_config_defaults_are_the_settings_defaults_except_tls() {
        let loaded = load("");
        assert_eq!(
            loaded,
            Settings {
                starttls: false,
                ..Settings::default()
            }
        );
    }

    #[test]
    fn config_values_reach_the_settings() {
        let s = load(
            "imap_max_literal_size = 1M\nimap_autologout_time = 45min\n\
             imap_rfc9051 = no\nimap_certificate_path = c.pem\nimap_private_key_path = k.pem\n\
             imap_idle_check_interval = 5s\ncontext_num = 20000\n",
        );
        assert_eq!(s.max_literal_size, 1024 * 1024);
        assert_eq!(s.autologout, Duration::from_secs(45 * 60));
        assert!(!s.rfc9051);
        assert!(s.starttls);
        assert_eq!(s.idle_check_interval, Duration::from_secs(5));
        assert_eq!(s.max_connections, 20000);
    }
}
