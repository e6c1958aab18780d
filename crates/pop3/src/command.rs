//! POP3 command lines (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034
//! AUTH): parsing only, no I/O.

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `USER name`.
    User(String),
    /// `PASS password` (the rest of the line; passwords may hold spaces).
    Pass(String),
    /// `AUTH [mechanism [initial-response]]`.
    Auth {
        /// Mechanism, upper-cased; `None` asks for the list.
        mechanism: Option<String>,
        /// Initial response (base64, `=` for empty).
        initial: Option<String>,
    },
    /// `CAPA`.
    Capa,
    /// `STLS`.
    Stls,
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<MessageNumber>),
    /// `UIDL [msg]`.
    Uidl(Option<MessageNumber>),
    /// `RETR msg`.
    Retr(MessageNumber),
    /// `TOP msg n`.
    Top(MessageNumber, u64),
    /// `DELE msg`.
    Dele(MessageNumber),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `QUIT`.
    Quit,
}

/// A message number as the client wrote it (checked against the maildrop
/// by the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageNumber(pub u32);

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but white space.
    #[error("empty command")]
    Empty,
    /// A command POP3 does not have (or groxide does not support).
    #[error("unknown command")]
    Unknown,
    /// A known command with missing or malformed arguments.
    #[error("{0}")]
    Syntax(&'static str),
}

fn number(arg: Option<&str>) -> Result<MessageNumber, ParseError> {
    let arg = arg.ok_or(ParseError::Syntax("a message number is required"))?;
    if arg.is_empty() || arg.len() > 10 || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Syntax("invalid message number"));
    }
    arg.parse()
        .map(MessageNumber)
        .map_err(|_| ParseError::Syntax("invalid message number"))
}

fn optional_number(arg: Option<&str>) -> Result<Option<MessageNumber>, ParseError> {
    arg.map(|a| number(Some(a))).transpose()
}

fn no_more(args: &mut std::str::SplitAsciiWhitespace<'_>) -> Result<(), ParseError> {
    match args.next() {
        Some(_) => Err(ParseError::Syntax("too many arguments")),
        None => Ok(()),
    }
}

/// Parses one command line (without its line ending). Command names are
/// case-insensitive.
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    let (name, rest) = match trimmed.find([' ', '\t']) {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (trimmed, ""),
    };
    if name.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut args = rest.split_ascii_whitespace();
    let cmd = match name.to_ascii_uppercase().as_str() {
        "USER" => {
            let user = rest.trim();
            if user.is_empty() {
                return Err(ParseError::Syntax("a user name is required"));
            }
            Command::User(user.to_owned())
        }
        "PASS" => {
            // Everything after the one separating space, trailing space kept.
            if rest.is_empty() {
                return Err(ParseError::Syntax("a password is required"));
            }
            Command::Pass(rest.to_owned())
        }
        "AUTH" => {
            let mechanism = args.next().map(str::to_ascii_uppercase);
            let initial = args.next().map(str::to_owned);
            no_more(&mut args)?;
            Command::Auth { mechanism, initial }
        }
        "CAPA" => {
            no_more(&mut args)?;
            Command::Capa
        }
        "STLS" => {
            no_more(&mut args)?;
            Command::Stls
        }
        "STAT" => {
            no_more(&mut args)?;
            Command::Stat
        }
        "LIST" => {
            let n = optional_number(args.next())?;
            no_more(&mut args)?;
            Command::List(n)
        }
        "UIDL" => {
            let n = optional_number(args.next())?;
            no_more(&mut args)?;
            Command::Uidl(n)
        }
        "RETR" => {
            let n = number(args.next())?;
            no_more(&mut args)?;
            Command::Retr(n)
        }
        "DELE" => {
            let n = number(args.next())?;
            no_more(&mut args)?;
            Command::Dele(n)
        }
        "TOP" => {
            let n = number(args.next())?;
            let lines = args.next().ok_or(ParseError::Syntax(
                "TOP needs a message number and a line count",
            ))?;
            if lines.is_empty() || lines.len() > 19 || !lines.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseError::Syntax("invalid line count"));
            }
            let lines = lines
                .parse()
                .map_err(|_| ParseError::Syntax("invalid line count"))?;
            no_more(&mut args)?;
            Command::Top(n, lines)
        }
        "NOOP" => {
            no_more(&mut args)?;
            Command::Noop
        }
        "RSET" => {
            no_more(&mut args)?;
            Command::Rset
        }
        "QUIT" => {
            no_more(&mut args)?;
            Command::Quit
        }
        _ => return Err(ParseError::Unknown),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(line: &str, expected: Result<Command, ParseError>) {
        assert_eq!(parse(line), expected, "{line:?}");
    }

    #[test]
    fn commands_parse_as_rfc1939_rfc2449_rfc5034_write_them() {
        use Command::*;
        let n = MessageNumber;
        check(
            "USER alice@example.test",
            Ok(User("alice@example.test".into())),
        );
        check("user  alice ", Ok(User("alice".into())));
        check(
            "PASS secret with spaces ",
            Ok(Pass("secret with spaces ".into())),
        );
        check("PASS  leading", Ok(Pass(" leading".into())));
        check(
            "AUTH",
            Ok(Auth {
                mechanism: None,
                initial: None,
            }),
        );
        check(
            "auth plain",
            Ok(Auth {
                mechanism: Some("PLAIN".into()),
                initial: None,
            }),
        );
        check(
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            Ok(Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("AGFsaWNlAHNlY3JldA==".into()),
            }),
        );
        check(
            "AUTH PLAIN =",
            Ok(Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("=".into()),
            }),
        );
        check("CAPA", Ok(Capa));
        check("stls", Ok(Stls));
        check("STAT", Ok(Stat));
        check("LIST", Ok(List(None)));
        check("LIST 3", Ok(List(Some(n(3)))));
        check("UIDL 12", Ok(Uidl(Some(n(12)))));
        check("RETR 1", Ok(Retr(n(1))));
        check("TOP 2 0", Ok(Top(n(2), 0)));
        check("TOP 2 10", Ok(Top(n(2), 10)));
        check("DELE 4", Ok(Dele(n(4))));
        check("NOOP", Ok(Noop));
        check("RSET", Ok(Rset));
        check("QUIT", Ok(Quit));
        check("  QUIT", Ok(Quit));
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let syntax = |s| Err(ParseError::Syntax(s));
        check("", Err(ParseError::Empty));
        check("   ", Err(ParseError::Empty));
        check("XYZZY", Err(ParseError::Unknown));
        check("APOP user digest", Err(ParseError::Unknown));
        check("USER", syntax("a user name is required"));
        check("PASS", syntax("a password is required"));
        check("RETR", syntax("a message number is required"));
        check("RETR x", syntax("invalid message number"));
        check("RETR -1", syntax("invalid message number"));
        check("RETR 99999999999", syntax("invalid message number"));
        check("RETR 4294967296", syntax("invalid message number"));
        check("LIST 1 2", syntax("too many arguments"));
        check(
            "TOP 1",
            syntax("TOP needs a message number and a line count"),
        );
        check("TOP 1 x", syntax("invalid line count"));
        check("QUIT now", syntax("too many arguments"));
        check("AUTH PLAIN a b", syntax("too many arguments"));
    }

    proptest! {
        #[test]
        fn any_line_parses_without_panicking(line in ".{0,200}") {
            let _ = parse(&line);
        }

        #[test]
        fn message_numbers_round_trip(n in 0u32..) {
            prop_assert_eq!(parse(&format!("RETR {n}")), Ok(Command::Retr(MessageNumber(n))));
        }
    }
}
