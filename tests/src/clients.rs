//! Small blocking protocol clients for end-to-end tests: LMTP (one reply
//! per recipient after DATA), IMAP (tagged commands, literals, IDLE) and
//! POP3 (login, STAT, RETR). They report what the server said and leave
//! judging it to the test.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long one read may block before the client gives up.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

fn connect(addr: SocketAddr) -> io::Result<(BufReader<TcpStream>, TcpStream)> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok((BufReader::new(stream.try_clone()?), stream))
}

fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(line)
}

/// One SMTP/LMTP reply: its code and all its text lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of every line, joined by newlines.
    pub text: String,
}

impl Reply {
    /// Whether the code is 2xx.
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

fn smtp_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut text = Vec::new();
    loop {
        let line = read_line(r)?;
        let code = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| io::Error::other(format!("not an SMTP reply: {line:?}")))?;
        text.push(line.get(4..).unwrap_or("").trim_end().to_string());
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(Reply {
                code,
                text: text.join("\n"),
            });
        }
    }
}

/// Delivers `message` over LMTP in one transaction. Returns one reply per
/// recipient, in order: its RCPT reply when that was refused, else its
/// reply after DATA.
pub fn lmtp_deliver(
    addr: SocketAddr,
    from: &str,
    rcpts: &[&str],
    message: &[u8],
) -> io::Result<Vec<Reply>> {
    let (mut r, mut w) = connect(addr)?;
    let expect = |r: &mut BufReader<TcpStream>, what: &str, code: u16| -> io::Result<()> {
        let reply = smtp_reply(r)?;
        if reply.code != code {
            return Err(io::Error::other(format!("{what}: {reply:?}")));
        }
        Ok(())
    };
    expect(&mut r, "greeting", 220)?;
    w.write_all(b"LHLO test.client\r\n")?;
    expect(&mut r, "LHLO", 250)?;
    w.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())?;
    expect(&mut r, "MAIL FROM", 250)?;
    let mut replies: Vec<Option<Reply>> = Vec::new();
    for rcpt in rcpts {
        w.write_all(format!("RCPT TO:<{rcpt}>\r\n").as_bytes())?;
        let reply = smtp_reply(&mut r)?;
        replies.push(if reply.is_ok() { None } else { Some(reply) });
    }
    if replies.iter().any(Option::is_none) {
        w.write_all(b"DATA\r\n")?;
        expect(&mut r, "DATA", 354)?;
        w.write_all(&dot_stuff(message))?;
        w.write_all(b".\r\n")?;
        for slot in replies.iter_mut().filter(|s| s.is_none()) {
            *slot = Some(smtp_reply(&mut r)?);
        }
    }
    let _ = w.write_all(b"QUIT\r\n");
    Ok(replies.into_iter().flatten().collect())
}

/// CRLF line ends, a leading dot doubled, and a final CRLF.
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split_inclusive(|b| *b == b'\n') {
        let body = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        if body.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A message with these headers and a short body, CRLF line ends.
pub fn message(from: &str, to: &str, subject: &str, message_id: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\nThis is {subject}.\r\n.a line with a dot\r\n"
    )
    .into_bytes()
}

/// One untagged IMAP response: its text with literals left out, and the literals.
#[derive(Debug, Clone, Default)]
pub struct Untagged {
    /// The response's text (a literal shows as its `{n}` announcement).
    pub text: String,
    /// The literals, in order.
    pub literals: Vec<Vec<u8>>,
}

/// The answer to one IMAP command.
#[derive(Debug, Clone)]
pub struct ImapAnswer {
    /// Untagged responses, in order.
    pub untagged: Vec<Untagged>,
    /// The tagged status line, without the tag (`OK …`, `NO …`, `BAD …`).
    pub status: String,
}

impl ImapAnswer {
    /// Whether the status is OK.
    pub fn is_ok(&self) -> bool {
        self.status.starts_with("OK")
    }
}

/// A blocking IMAP client.
#[derive(Debug)]
pub struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Imap {
    /// Connects and reads the greeting (which must be `* OK`).
    pub fn connect(addr: SocketAddr) -> io::Result<Imap> {
        let (reader, writer) = connect(addr)?;
        let mut imap = Imap {
            reader,
            writer,
            tag: 0,
        };
        let greeting = imap.response()?;
        if !greeting.text.starts_with("* OK") {
            return Err(io::Error::other(format!("greeting: {}", greeting.text)));
        }
        Ok(imap)
    }

    /// Connects, logs in and selects `mailbox`; an error names the step that failed.
    pub fn login_select(
        addr: SocketAddr,
        user: &str,
        password: &str,
        mailbox: &str,
    ) -> io::Result<Imap> {
        let mut imap = Imap::connect(addr)?;
        imap.login(user, password)?;
        let select = imap.command(&format!("SELECT {}", quote(mailbox)))?;
        if !select.is_ok() {
            return Err(io::Error::other(format!(
                "SELECT {mailbox}: {}",
                select.status
            )));
        }
        Ok(imap)
    }

    /// LOGIN; an error carries the server's tagged answer.
    pub fn login(&mut self, user: &str, password: &str) -> io::Result<()> {
        let a = self.command(&format!("LOGIN {} {}", quote(user), quote(password)))?;
        if a.is_ok() {
            Ok(())
        } else {
            Err(io::Error::other(format!("LOGIN: {}", a.status)))
        }
    }

    /// One response line, with every literal it announces read in.
    fn response(&mut self) -> io::Result<Untagged> {
        let mut out = Untagged::default();
        loop {
            let line = read_line(&mut self.reader)?;
            let trimmed = line.trim_end_matches(['\r', '\n']);
            let literal = trimmed
                .strip_suffix('}')
                .and_then(|s| s.rsplit_once('{'))
                .and_then(|(_, n)| n.trim_end_matches('+').parse::<usize>().ok());
            out.text.push_str(trimmed);
            match literal {
                Some(n) => {
                    let mut buf = vec![0; n];
                    self.reader.read_exact(&mut buf)?;
                    out.literals.push(buf);
                }
                None => return Ok(out),
            }
        }
    }

    /// Sends `command` with the next tag and reads until its tagged answer.
    pub fn command(&mut self, command: &str) -> io::Result<ImapAnswer> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())?;
        let mut untagged = Vec::new();
        loop {
            let r = self.response()?;
            if let Some(status) = r.text.strip_prefix(&format!("{tag} ")) {
                return Ok(ImapAnswer {
                    untagged,
                    status: status.to_string(),
                });
            }
            untagged.push(r);
        }
    }

    /// Runs `command` and fails unless it is answered OK.
    pub fn ok(&mut self, command: &str) -> io::Result<ImapAnswer> {
        let a = self.command(command)?;
        if a.is_ok() {
            Ok(a)
        } else {
            Err(io::Error::other(format!("{command}: {}", a.status)))
        }
    }

    /// Every message of the selected mailbox: (UID, bytes), by UID.
    pub fn fetch_all(&mut self) -> io::Result<Vec<(u32, Vec<u8>)>> {
        let a = self.ok("UID FETCH 1:* (UID BODY.PEEK[])")?;
        let mut out = Vec::new();
        for u in a.untagged {
            if !u.text.contains(" FETCH ") {
                continue;
            }
            let uid = u
                .text
                .split("UID ")
                .nth(1)
                .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::other(format!("no UID in {}", u.text)))?;
            let body = u.literals.into_iter().next().unwrap_or_default();
            out.push((uid, body));
        }
        out.sort_by_key(|(uid, _)| *uid);
        Ok(out)
    }

    /// The names of every selectable mailbox.
    pub fn mailboxes(&mut self) -> io::Result<Vec<String>> {
        let a = self.ok("LIST \"\" \"*\"")?;
        let mut names = Vec::new();
        for u in a.untagged {
            if !u.text.starts_with("* LIST ") || u.text.contains("\\Noselect") {
                continue;
            }
            let name = match u.literals.first() {
                Some(lit) => String::from_utf8_lossy(lit).into_owned(),
                None => {
                    let t = u.text.trim_end();
                    if let Some(q) = t.strip_suffix('"') {
                        q.rsplit_once('"')
                            .map(|(_, n)| n.to_string())
                            .unwrap_or_default()
                    } else {
                        t.rsplit(' ').next().unwrap_or_default().to_string()
                    }
                }
            };
            names.push(name);
        }
        Ok(names)
    }

    /// Starts IDLE (waits for the continuation).
    pub fn idle(&mut self) -> io::Result<()> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer
            .write_all(format!("{tag} IDLE\r\n").as_bytes())?;
        let r = self.response()?;
        if !r.text.starts_with('+') {
            return Err(io::Error::other(format!("IDLE: {}", r.text)));
        }
        Ok(())
    }

    /// During IDLE: waits until an untagged response satisfies `want` or the
    /// deadline passes; returns it.
    pub fn idle_until(
        &mut self,
        deadline: Instant,
        mut want: impl FnMut(&str) -> bool,
    ) -> io::Result<Option<String>> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.reader.get_ref().set_read_timeout(Some(left))?;
            let r = match self.response() {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            if want(&r.text) {
                self.reader.get_ref().set_read_timeout(Some(READ_TIMEOUT))?;
                return Ok(Some(r.text));
            }
        }
    }

    /// Ends IDLE and reads its tagged answer.
    pub fn done(&mut self) -> io::Result<ImapAnswer> {
        self.reader.get_ref().set_read_timeout(Some(READ_TIMEOUT))?;
        self.writer.write_all(b"DONE\r\n")?;
        let tag = format!("t{} ", self.tag);
        let mut untagged = Vec::new();
        loop {
            let r = self.response()?;
            if let Some(status) = r.text.strip_prefix(&tag) {
                return Ok(ImapAnswer {
                    untagged,
                    status: status.to_string(),
                });
            }
            untagged.push(r);
        }
    }

    /// LOGOUT, ignoring what the server says.
    pub fn logout(mut self) {
        let _ = self.command("LOGOUT");
    }
}

/// An IMAP quoted string.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A blocking POP3 client.
#[derive(Debug)]
pub struct Pop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Pop3 {
    /// Connects and reads the greeting.
    pub fn connect(addr: SocketAddr) -> io::Result<Pop3> {
        let (reader, writer) = connect(addr)?;
        let mut p = Pop3 { reader, writer };
        let greeting = read_line(&mut p.reader)?;
        if !greeting.starts_with("+OK") {
            return Err(io::Error::other(format!("greeting: {greeting}")));
        }
        Ok(p)
    }

    /// Sends one command; its `+OK` line, or an error carrying the `-ERR` line.
    pub fn command(&mut self, command: &str) -> io::Result<String> {
        self.writer.write_all(format!("{command}\r\n").as_bytes())?;
        let line = read_line(&mut self.reader)?;
        if line.starts_with("+OK") {
            Ok(line.trim_end().to_string())
        } else {
            let verb = command.split(' ').next().unwrap_or(command);
            Err(io::Error::other(format!("{verb}: {}", line.trim_end())))
        }
    }

    /// Connects and logs in with USER/PASS.
    pub fn login(addr: SocketAddr, user: &str, password: &str) -> io::Result<Pop3> {
        let mut p = Pop3::connect(addr)?;
        p.command(&format!("USER {user}"))?;
        p.command(&format!("PASS {password}"))?;
        Ok(p)
    }

    /// STAT: (messages, octets).
    pub fn stat(&mut self) -> io::Result<(usize, u64)> {
        let line = self.command("STAT")?;
        let mut parts = line.split_whitespace().skip(1);
        let n = parts.next().and_then(|n| n.parse().ok());
        let size = parts.next().and_then(|n| n.parse().ok());
        match (n, size) {
            (Some(n), Some(size)) => Ok((n, size)),
            _ => Err(io::Error::other(format!("STAT: {line}"))),
        }
    }

    /// RETR `n`: the message as sent, dot-stuffing undone, CRLF line ends.
    pub fn retr(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.command(&format!("RETR {n}"))?;
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "RETR cut short",
                ));
            }
            if line == b".\r\n" {
                return Ok(out);
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            out.extend_from_slice(line);
        }
    }

    /// QUIT.
    pub fn quit(mut self) -> io::Result<String> {
        self.command("QUIT")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_ends_lines_with_crlf() {
        for (input, want) in [
            (&b"a\r\n.b\r\n"[..], &b"a\r\n..b\r\n"[..]),
            (b"a\n.\nc", b"a\r\n..\r\nc\r\n"),
            (b"", b""),
        ] {
            assert_eq!(
                dot_stuff(input),
                want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
