//! What an attacker finds before logging in (issue 19): login throttling
//! that holds under parallel attempts, memory bounded while many logins are
//! checked at once, and connections that never log in cannot lock users
//! out. Real daemons as processes, raw TCP clients from many loopback
//! source addresses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{Node, Service};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const DOMAIN: &str = "example.test";
const USER: &str = "demo@example.test";
const PASSWORD: &str = "secret";

/// A node at `ip` with its store daemons, imap and pop3, `groxide` appended
/// to groxide.cfg and `extra` to both imap.cfg and pop3.cfg.
fn node(ip: &str, groxide: &str, imap: &str, pop3: &str) -> Node {
    let mut node = Node::standalone(ip);
    node.config.append("groxide.cfg", groxide);
    node.config.append("imap.cfg", imap);
    node.config.append("pop3.cfg", pop3);
    node.start_all(&[Service::Event, Service::Exmdb, Service::Midb]);
    node.create_domain(DOMAIN);
    node.create_user(USER, PASSWORD, None);
    node.start_all(&[Service::Imap, Service::Pop3]);
    node
}

/// A TCP connection to `addr` from `source`.
fn connect_from(source: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .unwrap();
    socket.bind(&SocketAddr::new(source, 0).into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// One line from `reader` ("" at EOF or on a reset).
fn line(reader: &mut BufReader<TcpStream>) -> String {
    let mut s = String::new();
    let _ = reader.read_line(&mut s);
    s
}

/// A client address of test `group`, number `n`.
fn source(group: u8, n: usize) -> IpAddr {
    let n = u8::try_from(n).unwrap();
    IpAddr::from([127, 19, group, n + 1])
}

/// USER/PASS from `source`: the answer to PASS.
fn pop3_login(addr: SocketAddr, source: IpAddr, user: &str, password: &str) -> String {
    let stream = connect_from(source, addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let greeting = line(&mut reader);
    if !greeting.starts_with("+OK") {
        return greeting;
    }
    writer
        .write_all(format!("USER {user}\r\n").as_bytes())
        .unwrap();
    let answer = line(&mut reader);
    if !answer.starts_with("+OK") {
        return answer;
    }
    writer
        .write_all(format!("PASS {password}\r\n").as_bytes())
        .unwrap();
    line(&mut reader)
}

/// LOGIN from `source`: the tagged answer.
fn imap_login(addr: SocketAddr, source: IpAddr, user: &str, password: &str) -> String {
    let stream = connect_from(source, addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let greeting = line(&mut reader);
    if !greeting.starts_with("* OK") {
        return greeting;
    }
    writer
        .write_all(format!("a1 LOGIN \"{user}\" \"{password}\"\r\n").as_bytes())
        .unwrap();
    loop {
        let l = line(&mut reader);
        if l.is_empty() || l.starts_with("a1 ") {
            return l;
        }
    }
}

/// `n` attempts at once; their answers.
fn at_once<F>(n: usize, attempt: F) -> Vec<String>
where
    F: Fn(usize) -> String + Send + Sync + 'static,
{
    let attempt = std::sync::Arc::new(attempt);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let attempt = attempt.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                attempt(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn parallel_wrong_passwords_are_throttled_as_sequential_ones_are() {
    let node = node(
        "127.0.190.1",
        "",
        "imap_auth_times = 3\n",
        "pop3_auth_times = 3\n",
    );
    let client = source(1, 0);
    let pop3 = node.addr(Service::Pop3);
    let answers = at_once(10, move |i| {
        pop3_login(pop3, client, USER, &format!("guess{i}"))
    });
    let checked = answers
        .iter()
        .filter(|a| a.starts_with("-ERR [AUTH]"))
        .count();
    let delayed = answers
        .iter()
        .filter(|a| a.starts_with("-ERR [LOGIN-DELAY]"))
        .count();
    assert!(
        checked <= 3 && checked + delayed == 10,
        "POP3: at most 3 passwords checked from one address, the rest refused unchecked: {answers:#?}"
    );
    let right = pop3_login(pop3, client, USER, PASSWORD);
    assert!(
        right.starts_with("-ERR [LOGIN-DELAY]"),
        "POP3: the right password after the limit is refused: {right}"
    );

    let imap = node.addr(Service::Imap);
    let answers = at_once(10, move |i| {
        imap_login(imap, client, USER, &format!("guess{i}"))
    });
    let checked = answers
        .iter()
        .filter(|a| a.contains("Invalid user name or password"))
        .count();
    let blocked = answers
        .iter()
        .filter(|a| a.contains("Too many failed logins"))
        .count();
    assert!(
        checked <= 3 && checked + blocked == 10,
        "IMAP: at most 3 passwords checked from one address: {answers:#?}"
    );
    let right = imap_login(imap, client, USER, PASSWORD);
    assert!(
        right.contains("Too many failed logins"),
        "IMAP: the right password after the limit is refused: {right}"
    );
    // Another address is not affected.
    let other = imap_login(imap, source(1, 1), USER, PASSWORD);
    assert!(other.starts_with("a1 OK"), "{other}");
}

/// A `VmHWM`/`VmRSS`-style field of /proc/<pid>/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_hundred_unknown_user_logins_at_once_keep_pop3_memory_bounded() {
    const CHECKS: u64 = 4;
    let node = node(
        "127.0.190.2",
        &format!("auth_max_concurrent_checks = {CHECKS}\nauth_check_wait = 20s\n"),
        "",
        "",
    );
    let pop3 = node.addr(Service::Pop3);
    // One login first, so the daemon's own start-up memory is in the baseline.
    let first = pop3_login(pop3, source(2, 0), USER, PASSWORD);
    assert!(first.starts_with("+OK"), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    let pid = node.daemon(Service::Pop3).pid();
    let before = status_kib(pid, "VmHWM");
    // 20 addresses × 5: under every per-address limit, so each login is
    // really checked (against a dummy hash: the names are unknown).
    let answers = at_once(100, move |i| {
        pop3_login(
            pop3,
            source(3, i / 5),
            &format!("nobody{i}@example.test"),
            "password",
        )
    });
    let peak = status_kib(pid, "VmHWM");
    let invalid = answers
        .iter()
        .filter(|a| a.starts_with("-ERR [AUTH]"))
        .count();
    let busy = answers
        .iter()
        .filter(|a| a.starts_with("-ERR [SYS/TEMP]"))
        .count();
    assert_eq!(
        invalid + busy,
        100,
        "every login gets the invalid-credentials answer or a temporary error: {answers:#?}"
    );
    assert!(invalid >= 50, "most waited for their turn: {answers:#?}");
    // argon2id takes 19 MiB per check; the bound allows CHECKS of them, plus slack
    // for 100 sessions' buffers and the allocator.
    let grown_mib = peak.saturating_sub(before) / 1024;
    assert!(
        grown_mib <= CHECKS * 20 + 120,
        "groxide-pop3 grew by {grown_mib} MiB (VmHWM {before} → {peak} KiB) for 100 logins at once"
    );
    eprintln!(
        "pop3 VmHWM {} → {} MiB, VmRSS after {} MiB",
        before / 1024,
        peak / 1024,
        status_kib(pid, "VmRSS") / 1024
    );
}

/// An open connection (greeting read) from `source`, or `None` when the
/// server refused it (its first line, when it sent one, in the error).
fn open(
    addr: SocketAddr,
    source: IpAddr,
    ok: &str,
) -> Result<(TcpStream, BufReader<TcpStream>), String> {
    let stream = connect_from(source, addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let greeting = line(&mut reader);
    if greeting.starts_with(ok) {
        Ok((stream, reader))
    } else {
        Err(greeting)
    }
}

/// Whether the server closes `reader`'s connection within `within`, while
/// `poke` is sent every 300 ms.
fn closed_within(
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    poke: &str,
    within: Duration,
) -> bool {
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < within {
        if writer.write_all(poke.as_bytes()).is_err() {
            return true;
        }
        let mut buf = [0u8; 4096];
        match reader.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn connections_that_never_log_in_cannot_lock_users_out() {
    let limits = "context_num = 20\n";
    let node = node(
        "127.0.190.3",
        "",
        &format!(
            "{limits}imap_max_unauth_connections = 4\nimap_max_unauth_connections_per_ip = 2\nimap_login_timeout = 3s\n"
        ),
        &format!(
            "{limits}pop3_max_unauth_connections = 4\npop3_max_unauth_connections_per_ip = 2\npop3_login_timeout = 3s\n"
        ),
    );
    for (service, ok, poke) in [
        (Service::Imap, "* OK", "p NOOP\r\n"),
        (Service::Pop3, "+OK", "CAPA\r\n"),
    ] {
        let addr = node.addr(service);
        let name = service.name();
        // A user logged in before the flood.
        let (mut user, mut user_reader) = open(addr, source(4, 0), ok).unwrap();
        let login = match service {
            Service::Imap => format!("u1 LOGIN {USER} {PASSWORD}\r\n"),
            _ => format!("USER {USER}\r\nPASS {PASSWORD}\r\n"),
        };
        user.write_all(login.as_bytes()).unwrap();
        let logged_in = match service {
            Service::Imap => (0..5).any(|_| line(&mut user_reader).starts_with("u1 OK")),
            _ => {
                line(&mut user_reader);
                line(&mut user_reader).starts_with("+OK")
            }
        };
        assert!(logged_in, "{name}: the user logs in");

        // Two idle connections from one address; a third is refused.
        let mut idle = vec![
            open(addr, source(5, 0), ok).unwrap(),
            open(addr, source(5, 0), ok).unwrap(),
        ];
        let third = open(addr, source(5, 0), ok);
        assert!(
            third.is_err(),
            "{name}: a third pre-login connection from one address"
        );
        // Two more from another address fill the pre-login pool; a fifth
        // from a third address is refused.
        idle.push(open(addr, source(5, 1), ok).unwrap());
        idle.push(open(addr, source(5, 1), ok).unwrap());
        let fifth = open(addr, source(5, 2), ok);
        assert!(
            fifth.is_err(),
            "{name}: the pre-login pool is full: {fifth:?}"
        );

        // The logged-in user is unaffected.
        let still = match service {
            Service::Imap => {
                user.write_all(b"u2 NOOP\r\n").unwrap();
                (0..5).any(|_| line(&mut user_reader).starts_with("u2 OK"))
            }
            _ => {
                user.write_all(b"STAT\r\n").unwrap();
                line(&mut user_reader).starts_with("+OK")
            }
        };
        assert!(still, "{name}: the logged-in session still works");

        // A connection that keeps talking but never logs in is closed at
        // the login timeout, not kept alive by its commands.
        let (stream, reader) = &mut idle[0];
        let started = Instant::now();
        assert!(
            closed_within(stream, reader, poke, Duration::from_secs(10)),
            "{name}: a pre-login connection sending {poke:?} is closed after the login timeout"
        );
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{name}: not before"
        );
        drop(idle);
        // Their places are free again: a new client logs in.
        let answer = match service {
            Service::Imap => imap_login(addr, source(5, 3), USER, PASSWORD),
            _ => pop3_login(addr, source(5, 3), USER, PASSWORD),
        };
        assert!(
            answer.starts_with("a1 OK") || answer.starts_with("+OK"),
            "{name}: a new client logs in: {answer}"
        );
    }
}
