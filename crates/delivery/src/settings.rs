//! The typed settings of a delivery server, read from delivery.cfg.

use crate::junk::JunkRules;
use groxide_config::keys::delivery;
use groxide_config::{Config, Delivery};
use std::time::Duration;

/// Which protocol the listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// LMTP (RFC 2033): LHLO, one reply per recipient after DATA.
    Lmtp,
    /// SMTP for MTAs without LMTP: EHLO/HELO, one reply after DATA, given
    /// only when every recipient got the message (else 451 for all).
    Smtp,
}

/// The limits every session state enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// Largest message (`mail_max_length`), in bytes as received.
    pub max_message_size: u64,
    /// Most recipients per transaction (`lda_max_rcpt_num`).
    pub max_recipients: usize,
    /// Longest command line, line end included (`lda_max_command_length`).
    pub max_command_line: usize,
    /// Idle time before a connection is closed (`lmtp_conn_timeout`); also
    /// bounds each read inside DATA and each write.
    pub idle_timeout: Duration,
    /// Bad commands tolerated on one connection (`lda_max_errors`).
    pub max_errors: u32,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_message_size: 64 * 1024 * 1024,
            max_recipients: 256,
            max_command_line: 4096,
            idle_timeout: Duration::from_secs(180),
            max_errors: 10,
        }
    }
}

/// Everything a session needs to know besides its collaborators.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This server's name in the greeting and the Received header.
    pub hostname: String,
    /// LMTP or SMTP.
    pub protocol: Protocol,
    /// Limits.
    pub limits: SessionLimits,
    /// `lda_junk_rules`.
    pub junk_rules: JunkRules,
    /// `lmtp_dedup_window`: how long a delivered message is remembered per
    /// mailbox to drop a retried copy; zero = not at all.
    pub dedup_window: Duration,
}

impl Settings {
    /// Reads delivery.cfg's keys; `hostname` is the node's host_id.
    pub fn from_config(config: &Config<Delivery>, hostname: &str) -> Settings {
        Settings {
            hostname: hostname.to_string(),
            protocol: if config.get(delivery::SMTP_MODE) {
                Protocol::Smtp
            } else {
                Protocol::Lmtp
            },
            limits: SessionLimits {
                max_message_size: config.get(delivery::MAIL_MAX_LENGTH),
                max_recipients: config.get(delivery::LDA_MAX_RCPT_NUM),
                max_command_line: config.get(delivery::LDA_MAX_COMMAND_LENGTH),
                idle_timeout: config.get(delivery::LMTP_CONN_TIMEOUT),
                max_errors: config.get(delivery::LDA_MAX_ERRORS),
            },
            junk_rules: JunkRules::parse(config.get(delivery::LDA_JUNK_RULES)),
            dedup_window: config.get(delivery::LMTP_DEDUP_WINDOW),
        }
    }
}
