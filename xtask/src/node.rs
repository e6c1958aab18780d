//! `cargo xtask run`: one complete node on this machine, no set-up needed.

use crate::node_config::{DAEMONS, NodeConfig, PENDING, start_daemon};
use crate::proc::Supervisor;
use crate::{build_bins, target_dir, workspace_root};
use anyhow::{Result, bail};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

struct Layout {
    config: PathBuf,
    data: PathBuf,
    run: PathBuf,
}

fn layout() -> Layout {
    let var = workspace_root().join("var");
    Layout {
        config: var.join("config"),
        data: var.join("data"),
        run: var.join("run"),
    }
}

/// The single node: user-facing services on unprivileged ports of
/// 127.0.0.1, RPC daemons on their standard ports of ::1.
fn node_config(l: &Layout) -> NodeConfig {
    let tls_dir = l.config.join("tls");
    NodeConfig {
        made_by: "cargo xtask run",
        host_id: "localhost".into(),
        rpc_ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
        public_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        data: l.data.clone(),
        local: l.data.clone(),
        directory_url: format!("sqlite://{}/directory.sqlite3", l.data.display()),
        allow: Vec::new(),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
        rpc_tls: None,
        lists: None,
        zcore_socket: l.run.join("zcore.sock"),
        log_level: "info",
    }
}

/// The options of `cargo xtask run`.
struct RunArgs {
    release: bool,
    demo_password: Option<String>,
}

fn parse_args(args: &[String]) -> Result<RunArgs> {
    let mut parsed = RunArgs {
        release: false,
        demo_password: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" => parsed.release = true,
            "--demo-password" => match args.next() {
                Some(pw) if !pw.is_empty() => parsed.demo_password = Some(pw.clone()),
                _ => bail!("run: --demo-password needs a password"),
            },
            other => match other.strip_prefix("--demo-password=") {
                Some(pw) if !pw.is_empty() => parsed.demo_password = Some(pw.to_string()),
                _ => bail!("run: unknown argument {other}"),
            },
        }
    }
    Ok(parsed)
}

pub fn run(args: &[String]) -> Result<()> {
    let RunArgs {
        release,
        demo_password,
    } = parse_args(args)?;
    build_bins(release)?;
    let bin_dir = target_dir().join(if release { "release" } else { "debug" });
    let l = layout();
    std::fs::create_dir_all(&l.run)?;
    let node = node_config(&l);
    crate::node_config::self_signed(&node.cert, &node.key, &["localhost", "127.0.0.1"])?;
    node.write(&l.config)?;

    let mut sup = Supervisor::default();
    for name in DAEMONS {
        start_daemon(
            &mut sup,
            &bin_dir,
            name,
            name,
            &l.config,
            node.ready_addr(name),
        )?;
    }
    // exmdb is up: the demo account's stores can be made.
    let (password, generated) = match demo_password {
        Some(pw) => (pw, false),
        None => (crate::demo::generate_password()?, true),
    };
    let demo = crate::demo::ensure_demo_account(&bin_dir, &l.config, &password);
    println!();
    println!(
        "groxide is running (config {}, data {}).",
        l.config.display(),
        l.data.display()
    );
    println!("  RPC: exmdb [::1]:5000, midb [::1]:5555, event [::1]:33333, timer [::1]:6666");
    println!("  not yet implemented, not started: {}", PENDING.join(", "));
    match &demo {
        Ok(()) if generated => println!(
            "  demo account: {} password {password} (generated; --demo-password PW to choose)",
            crate::demo::DEMO_USER
        ),
        Ok(()) => println!(
            "  demo account: {} (password from --demo-password)",
            crate::demo::DEMO_USER
        ),
        Err(e) => println!("  demo account not created: {e:#}"),
    }
    if demo.is_ok() {
        match crate::welcome::deliver_once(&l.data, crate::demo::DEMO_USER) {
            Ok(true) => println!("  welcome message delivered to {}", crate::demo::DEMO_USER),
            Ok(false) => {}
            Err(e) => println!("  welcome message not delivered: {e:#}"),
        }
    }
    println!(
        "  LMTP {} (deliver mail as Postfix would):\n    swaks --protocol LMTP --server {} --to {} --from you@example.test",
        crate::welcome::LMTP_ADDR,
        crate::welcome::LMTP_ADDR,
        crate::demo::DEMO_USER
    );
    let user = crate::demo::DEMO_USER;
    let pw = if generated {
        password.as_str()
    } else {
        "PASSWORD"
    };
    println!(
        "  POP3 127.0.0.1:1110 (STLS), 127.0.0.1:1995 (TLS); read the first (welcome) message:"
    );
    println!("    curl -k pop3s://127.0.0.1:1995/1 -u {user}:{pw}");
    println!(
        "    python3 -c \"import poplib,ssl; p=poplib.POP3_SSL('127.0.0.1',1995,context=ssl._create_unverified_context()); \
         p.user('{user}'); p.pass_('{pw}'); print(p.stat()); print(b'\\n'.join(p.retr(1)[1]).decode()); p.quit()\""
    );
    println!(
        "  IMAP 127.0.0.1:1143 (STARTTLS), 127.0.0.1:1993 (TLS, self-signed); user {user}, password {pw}:"
    );
    println!("    curl -k imaps://127.0.0.1:1993/INBOX -u {user}:{pw}");
    println!("    curl -k 'imaps://127.0.0.1:1993/INBOX;UID=1' -u {user}:{pw}");
    let p = crate::node_config::PORTS;
    let base = format!("https://localhost:{}", p.https);
    println!(
        "  HTTP 127.0.0.1:{} (plain), {base} (TLS, HTTP/2), metrics http://127.0.0.1:{}/metrics:",
        p.http, p.http_metrics
    );
    println!(
        "    autoconfig:   {base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={user}"
    );
    println!("    autodiscover: {base}/autodiscover/autodiscover.xml (POST, Basic auth)");
    println!(
        "                  {base}/autodiscover/autodiscover.json?Email={user}&Protocol=ActiveSync"
    );
    println!(
        "    curl -k '{base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={user}'"
    );
    println!(
        "    curl -k -u {user}:{pw} -d '<Autodiscover><Request><EMailAddress>{user}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>' {base}/autodiscover/autodiscover.xml"
    );
    println!(
        "    CalDAV:   {base}/dav/calendars/{user}/ (principal {base}/dav/principals/{user}/)"
    );
    println!(
        "    CardDAV:  {base}/dav/addressbooks/{user}/ (or just {base}/dav/ : clients discover the rest)"
    );
    println!(
        "    EWS:      {base}/EWS/Exchange.asmx (Basic auth; Autodiscover SOAP at {base}/autodiscover/autodiscover.svc)"
    );
    println!(
        "    ActiveSync: {base}/Microsoft-Server-ActiveSync (phones: server localhost, user {user}, SSL on)"
    );
    println!("    curl -k -u {user}:{pw} -X PROPFIND -H 'Depth: 1' {base}/dav/calendars/{user}/");
    println!(
        "  Thunderbird: New Account → Email; your name, {user}, password {pw}; example.test has no"
    );
    println!("    DNS, so autoconfig cannot find this server: choose \"Configure manually\":");
    println!(
        "    incoming IMAP, server localhost, port {}, SSL/TLS, normal password, username {user}",
        p.imaps
    );
    println!(
        "    (or POP3 localhost {} SSL/TLS); no outgoing server runs here (sending needs an SMTP relay).",
        p.pop3s
    );
    println!("    Accept the self-signed certificate when asked (Confirm Security Exception).");
    println!(
        "    Calendars and contacts: New Calendar → On the Network (or New Address Book → CardDAV),"
    );
    println!("    username {user}, location {base}/dav/ (Thunderbird finds both homes there).");
    println!("Press Ctrl-C to stop.");

    if let Some((name, st)) = sup.run_until_ctrl_c()? {
        bail!("groxide-{name} refused its configuration ({st}); the node is stopped");
    }
    Ok(())
}
