//! The welcome message of `cargo xtask run`: delivered once to the demo
//! account through groxide-delivery's LMTP port, as Postfix would.

use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// Where `cargo xtask run` serves LMTP.
pub const LMTP_ADDR: &str = "127.0.0.1:2424";

fn reply(r: &mut impl BufRead) -> Result<String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            bail!("groxide-delivery closed the connection");
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(all);
        }
    }
}

fn expect(r: &mut impl BufRead, code: &str) -> Result<()> {
    let got = reply(r)?;
    if !got.starts_with(code) {
        bail!("expected {code}, got {}", got.trim_end());
    }
    Ok(())
}

/// Delivers the welcome message to `rcpt` unless `data` records it was done.
/// Returns whether a message was delivered now.
pub fn deliver_once(data: &Path, rcpt: &str) -> Result<bool> {
    let marker = data.join(".welcome-delivered");
    if marker.exists() {
        return Ok(false);
    }
    send(
        LMTP_ADDR,
        rcpt,
        "Welcome to groxide",
        &format!(
            "This message came in through LMTP (groxide-delivery on {LMTP_ADDR})\r\n\
             and was stored by groxide-exmdb. Read it with IMAP or POP3.\r\n"
        ),
    )?;
    std::fs::write(&marker, "")?;
    Ok(true)
}

/// Delivers one plain-text message to `rcpt` through the LMTP server at `lmtp`.
pub fn send(lmtp: &str, rcpt: &str, subject: &str, body: &str) -> Result<()> {
    let stream = TcpStream::connect(lmtp)
        .with_context(|| format!("connecting to groxide-delivery at {lmtp}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    expect(&mut r, "220")?;
    let message = format!(
        "From: groxide <postmaster@example.test>\r\nTo: <{rcpt}>\r\n\
         Subject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    );
    write!(w, "LHLO xtask.local\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "MAIL FROM:<postmaster@example.test>\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "RCPT TO:<{rcpt}>\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "DATA\r\n")?;
    expect(&mut r, "354")?;
    write!(w, "{message}.\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "QUIT\r\n")?;
    let _ = reply(&mut r);
    Ok(())
}
