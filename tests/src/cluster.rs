//! Nodes and clusters of real groxide daemons on loopback addresses.
//!
//! A [`Node`] is one machine's worth of daemons: every daemon on the node's
//! own 127.x.y.z address, its own config directory, outgoing RPC bound to
//! that address (`rpc_source_ip`), a self-signed certificate for IMAP/POP3
//! TLS. A [`Cluster`] is N nodes sharing one directory (a SQLite file or a
//! fresh MariaDB database, dropped at the end), with one port set used on
//! every node — routing by homeserver names only a host, so a service has
//! the same port everywhere, as gromox's 5000 — either share-nothing (each
//! node its own data dir) or shared storage (one data dir for all).

use crate::clients::{Reply, lmtp_deliver};
use crate::{ConfigDir, Daemon, run_bin, wait_listening_from, wait_until};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a daemon may take to listen after it was started.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGHUP may take to be applied.
pub const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// What every daemon logs once a SIGHUP's configuration is loaded.
pub const RELOADED: &str = "configuration reloaded";

/// One groxide daemon of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// groxide-event
    Event,
    /// groxide-timer
    Timer,
    /// groxide-exmdb
    Exmdb,
    /// groxide-midb
    Midb,
    /// groxide-delivery (LMTP)
    Delivery,
    /// groxide-imap
    Imap,
    /// groxide-pop3
    Pop3,
    /// groxide-http
    Http,
}

impl Service {
    /// Every daemon, in start order (RPC services first).
    pub const ALL: [Service; 8] = [
        Service::Event,
        Service::Timer,
        Service::Exmdb,
        Service::Midb,
        Service::Delivery,
        Service::Imap,
        Service::Pop3,
        Service::Http,
    ];
    /// What a node needs to hold stores: event, exmdb, midb.
    pub const STORE: [Service; 3] = [Service::Event, Service::Exmdb, Service::Midb];

    /// The binary's suffix: `groxide-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Event => "event",
            Service::Timer => "timer",
            Service::Exmdb => "exmdb",
            Service::Midb => "midb",
            Service::Delivery => "delivery",
            Service::Imap => "imap",
            Service::Pop3 => "pop3",
            Service::Http => "http",
        }
    }
}

/// The ports of a node's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// groxide-exmdb
    pub exmdb: u16,
    /// groxide-midb
    pub midb: u16,
    /// groxide-event
    pub event: u16,
    /// groxide-timer
    pub timer: u16,
    /// LMTP
    pub lmtp: u16,
    /// IMAP with STARTTLS
    pub imap: u16,
    /// IMAP over TLS
    pub imaps: u16,
    /// POP3 with STLS
    pub pop3: u16,
    /// POP3 over TLS
    pub pop3s: u16,
    /// plain HTTP
    pub http: u16,
    /// HTTPS
    pub https: u16,
    /// the HTTP metrics listener
    pub http_metrics: u16,
}

impl Ports {
    /// Twelve distinct ports, each free on every one of `ips` a moment ago.
    pub fn free_on(ips: &[IpAddr]) -> Ports {
        let first = ips.first().copied().expect("at least one address");
        let mut ports = Vec::new();
        while ports.len() < 12 {
            // Outside the ephemeral range, so no outgoing connection takes it.
            let port = crate::free_port(first);
            if ips[1..]
                .iter()
                .all(|ip| TcpListener::bind(SocketAddr::new(*ip, port)).is_ok())
            {
                ports.push(port);
            }
        }
        Ports {
            exmdb: ports[0],
            midb: ports[1],
            event: ports[2],
            timer: ports[3],
            lmtp: ports[4],
            imap: ports[5],
            imaps: ports[6],
            pop3: ports[7],
            pop3s: ports[8],
            http: ports[9],
            https: ports[10],
            http_metrics: ports[11],
        }
    }

    /// The port that tells `service` is up.
    pub fn of(&self, service: Service) -> u16 {
        match service {
            Service::Event => self.event,
            Service::Timer => self.timer,
            Service::Exmdb => self.exmdb,
            Service::Midb => self.midb,
            Service::Delivery => self.lmtp,
            Service::Imap => self.imap,
            Service::Pop3 => self.pop3,
            Service::Http => self.http,
        }
    }
}

/// The PEM files of a node's RPC TLS (`rpc_tls = yes`).
#[derive(Debug, Clone)]
pub struct RpcTlsFiles {
    /// The cluster CA (`tls_ca_path`): verifies the other nodes, and makes
    /// client certificates required.
    pub ca: PathBuf,
    /// This node's certificate (`tls_certificate_path`); `None` = no client certificate.
    pub cert: Option<(PathBuf, PathBuf)>,
}

/// Everything a node's config files say.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The node's address: every daemon listens on it, RPC leaves from it.
    pub ip: IpAddr,
    /// `host_id` (and the node's `servers.hostname`).
    pub host_id: String,
    /// `data_path`: where its stores live (shared by all nodes with shared storage).
    pub data: PathBuf,
    /// Node-local state: the LMTP spool and the timer's jobs.
    pub local: PathBuf,
    /// `directory_url`.
    pub directory_url: String,
    /// Every RPC service's `*_hosts_allow`.
    pub allow: Vec<IpAddr>,
    /// The services' ports.
    pub ports: Ports,
    /// RPC TLS, when the node uses it.
    pub rpc_tls: Option<RpcTlsFiles>,
    /// exmdb_list.txt (empty = no file).
    pub exmdb_list: String,
    /// midb_list.txt (empty = no file).
    pub midb_list: String,
}

impl NodeOptions {
    /// A node alone on `ip` with its data (and SQLite directory) in `data`.
    pub fn standalone(ip: IpAddr, data: &Path) -> NodeOptions {
        NodeOptions {
            ip,
            host_id: ip.to_string(),
            data: data.to_path_buf(),
            local: data.join("local"),
            directory_url: format!("sqlite://{}", data.join("directory.sqlite3").display()),
            allow: vec![ip],
            ports: Ports::free_on(&[ip]),
            rpc_tls: None,
            exmdb_list: String::new(),
            midb_list: String::new(),
        }
    }
}

fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One node: its config directory and its running daemons (SIGKILLed when
/// the node is dropped).
pub struct Node {
    /// The node's address.
    pub ip: IpAddr,
    /// Its `host_id`.
    pub host_id: String,
    /// Its services' ports.
    pub ports: Ports,
    /// Its `data_path`.
    pub data: PathBuf,
    /// Its config directory.
    pub config: ConfigDir,
    daemons: Vec<(Service, Daemon)>,
    _own_data: Option<tempfile::TempDir>,
}

impl Node {
    /// Writes the node's config files; starts nothing.
    pub fn new(o: NodeOptions) -> Node {
        let config = ConfigDir::new();
        std::fs::create_dir_all(&o.data).expect("create the data dir");
        std::fs::create_dir_all(&o.local).expect("create the node-local dir");
        let ip = o.ip;
        let p = o.ports;
        let allow = join_ips(&o.allow);
        let mut shared = format!(
            "host_id = {}\nrpc_source_ip = {ip}\ndata_path = {}\ndirectory_url = {}\n\
             shutdown_timeout = 3s\nrpc_timeout = 20s\nrpc_connect_timeout = 2s\n",
            o.host_id,
            o.data.display(),
            o.directory_url
        );
        if let Some(tls) = &o.rpc_tls {
            shared.push_str(&format!(
                "rpc_tls = yes\ntls_ca_path = {}\n",
                tls.ca.display()
            ));
            if let Some((cert, key)) = &tls.cert {
                shared.push_str(&format!(
                    "tls_certificate_path = {}\ntls_private_key_path = {}\n",
                    cert.display(),
                    key.display()
                ));
            }
        }
        config.write("groxide.cfg", &shared);
        config.write(
            "exmdb_provider.cfg",
            &format!(
                "listen_ip = {ip}\nexmdb_listen_port = {}\nexmdb_hosts_allow = {allow}\n",
                p.exmdb
            ),
        );
        config.write(
            "midb.cfg",
            &format!(
                "midb_listen_ip = {ip}\nmidb_listen_port = {}\nmidb_hosts_allow = {allow}\n",
                p.midb
            ),
        );
        config.write(
            "event.cfg",
            &format!(
                "event_listen_ip = {ip}\nevent_listen_port = {}\nevent_hosts_allow = {allow}\n",
                p.event
            ),
        );
        config.write(
            "timer.cfg",
            &format!(
                "timer_listen_ip = {ip}\ntimer_listen_port = {}\ntimer_hosts_allow = {allow}\n\
                 timer_state_path = {}\n",
                p.timer,
                o.local.join("timer.sqlite3").display()
            ),
        );
        config.write(
            "delivery.cfg",
            &format!(
                "lda_listen = {ip}:{}\nlda_spool_path = {}\n",
                p.lmtp,
                o.local.join("spool").display()
            ),
        );
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), ip.to_string()])
            .expect("generate a certificate");
        config.write("cert.pem", &ck.cert.pem());
        config.write("key.pem", &ck.signing_key.serialize_pem());
        config.write(
            "imap.cfg",
            &format!(
                "imap_listen = {ip}:{}\nimap_listen_tls = {ip}:{}\n\
                 imap_certificate_path = cert.pem\nimap_private_key_path = key.pem\n",
                p.imap, p.imaps
            ),
        );
        config.write(
            "pop3.cfg",
            &format!(
                "pop3_listen = {ip}:{}\npop3_listen_tls = {ip}:{}\n\
                 pop3_certificate_path = cert.pem\npop3_private_key_path = key.pem\n",
                p.pop3, p.pop3s
            ),
        );
        config.write(
            "http.cfg",
            &format!(
                "http_listen = {ip}:{}\nhttp_listen_tls = {ip}:{}\n\
                 http_metrics_listen = {ip}:{}\n\
                 http_certificate_path = cert.pem\nhttp_private_key_path = key.pem\n\
                 oxdisco_https_port = {}\n",
                p.http, p.https, p.http_metrics, p.https
            ),
        );
        if !o.exmdb_list.is_empty() {
            config.write("exmdb_list.txt", &o.exmdb_list);
        }
        if !o.midb_list.is_empty() {
            config.write("midb_list.txt", &o.midb_list);
        }
        Node {
            ip,
            host_id: o.host_id,
            ports: p,
            data: o.data,
            config,
            daemons: Vec::new(),
            _own_data: None,
        }
    }

    /// A node alone on `ip` with a fresh data dir and SQLite directory; starts nothing.
    pub fn standalone(ip: &str) -> Node {
        let ip: IpAddr = ip.parse().expect("an IP address");
        let data = tempfile::tempdir().expect("temp dir");
        let mut node = Node::new(NodeOptions::standalone(ip, data.path()));
        node._own_data = Some(data);
        node
    }

    /// The address of `service`.
    pub fn addr(&self, service: Service) -> SocketAddr {
        SocketAddr::new(self.ip, self.ports.of(service))
    }

    /// groxide-http's Prometheus text (`http_metrics_listen`).
    pub fn metrics(&self) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect((self.ip, self.ports.http_metrics))
            .expect("the metrics listener");
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: m\r\n\r\n")
            .expect("a metrics request");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("the metrics");
        text
    }

    /// The value of metric `name` (a line without labels), if shown.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics().lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
    }

    /// Starts `service` and waits until it listens.
    pub fn start(&mut self, service: Service) {
        assert!(
            self.running(service).is_none(),
            "groxide-{} already runs on {}",
            service.name(),
            self.ip
        );
        let d = crate::start_daemon(service.name(), self.config.path(), &[]);
        let up = wait_listening_from(self.addr(service), self.ip, START_TIMEOUT);
        self.daemons.push((service, d));
        assert!(
            up,
            "groxide-{} on {} did not listen on {}:\n{}",
            service.name(),
            self.ip,
            self.addr(service),
            self.logs()
        );
    }

    /// Starts every service in `services`, in that order.
    pub fn start_all(&mut self, services: &[Service]) {
        for s in services {
            self.start(*s);
        }
    }

    /// The running daemon of `service`, if any.
    pub fn running(&self, service: Service) -> Option<&Daemon> {
        self.daemons
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, d)| d)
    }

    /// The running daemon of `service`; panics when it does not run.
    pub fn daemon(&self, service: Service) -> &Daemon {
        self.running(service)
            .unwrap_or_else(|| panic!("groxide-{} does not run on {}", service.name(), self.ip))
    }

    /// Mutable access to the running daemon of `service`.
    pub fn daemon_mut(&mut self, service: Service) -> &mut Daemon {
        let ip = self.ip;
        self.daemons
            .iter_mut()
            .find(|(s, _)| *s == service)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("groxide-{} does not run on {ip}", service.name()))
    }

    /// SIGKILLs `service` (nothing is drained).
    pub fn kill(&mut self, service: Service) {
        self.daemons.retain(|(s, _)| *s != service);
    }

    /// SIGKILLs every daemon of the node at once.
    pub fn kill_all(&mut self) {
        for (_, d) in &mut self.daemons {
            d.kill_now();
        }
        self.daemons.clear();
    }

    /// SIGKILLs `service` and starts it again.
    pub fn restart(&mut self, service: Service) {
        self.kill(service);
        self.start(service);
    }

    /// SIGHUPs every running daemon and waits until each has loaded its
    /// configuration again (its hooks run right after).
    pub fn reload(&self) {
        let before: Vec<usize> = self
            .daemons
            .iter()
            .map(|(_, d)| d.count_log(RELOADED))
            .collect();
        for (_, d) in &self.daemons {
            d.signal("HUP");
        }
        for ((s, d), n) in self.daemons.iter().zip(before) {
            assert!(
                wait_until(RELOAD_TIMEOUT, || d.count_log(RELOADED) > n),
                "groxide-{} on {} did not reload:\n{}",
                s.name(),
                self.ip,
                d.log()
            );
        }
    }

    /// SIGHUPs one daemon and waits until it has loaded its configuration again.
    pub fn reload_service(&self, service: Service) {
        let d = self.daemon(service);
        let n = d.count_log(RELOADED);
        d.signal("HUP");
        assert!(
            wait_until(RELOAD_TIMEOUT, || d.count_log(RELOADED) > n),
            "groxide-{} on {} did not reload:\n{}",
            service.name(),
            self.ip,
            d.log()
        );
    }

    /// Replaces `key`'s line in config file `file` (or appends it).
    pub fn set(&self, file: &str, key: &str, value: &str) {
        let path = self.config.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| l.split('=').next().map(str::trim) != Some(key))
            .map(str::to_string)
            .collect();
        lines.push(format!("{key} = {value}"));
        self.config.write(file, &(lines.join("\n") + "\n"));
    }

    /// Runs groxide-admin with this node's config; returns (exit code, stdout, stderr).
    pub fn try_admin(&self, args: &[&str]) -> (i32, String, String) {
        let dir = self.config.path().to_str().unwrap();
        let mut all = vec!["--config-dir", dir];
        all.extend_from_slice(args);
        let (st, out, err) = run_bin("admin", &all);
        (st.code().unwrap_or(-1), out, err)
    }

    /// Runs groxide-admin with this node's config; returns stdout. Panics on failure.
    pub fn admin(&self, args: &[&str]) -> String {
        let (code, out, err) = self.try_admin(args);
        assert_eq!(code, 0, "groxide-admin {args:?} on {}: {out}{err}", self.ip);
        out
    }

    /// groxide-admin --json; returns the parsed document. Panics on failure.
    pub fn admin_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.admin(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("groxide-admin {args:?}: {e}: {out}"))
    }

    /// Creates a domain (and its public store) through this node.
    pub fn create_domain(&self, domain: &str) {
        self.admin(&["domain", "create", domain]);
    }

    /// Creates a user through this node, homed on `server` (a hostname in
    /// the servers table) or on no server; returns its store directory.
    pub fn create_user(&self, address: &str, password: &str, server: Option<&str>) -> String {
        let mut args = vec!["user", "create", address, "--password", password];
        if let Some(s) = server {
            args.extend_from_slice(&["--server", s]);
        }
        let v = self.admin_json(&args);
        v["maildir"]
            .as_str()
            .unwrap_or_else(|| panic!("no maildir in {v}"))
            .to_string()
    }

    /// Delivers `message` to `rcpts` through this node's LMTP; one reply per recipient.
    pub fn deliver(
        &self,
        from: &str,
        rcpts: &[&str],
        message: &[u8],
    ) -> std::io::Result<Vec<Reply>> {
        lmtp_deliver(self.addr(Service::Delivery), from, rcpts, message)
    }

    /// Delivers `message` to `rcpt`; panics unless it is accepted (250).
    pub fn deliver_ok(&self, rcpt: &str, message: &[u8]) {
        let replies = self
            .deliver("sender@remote.test", &[rcpt], message)
            .unwrap_or_else(|e| panic!("LMTP to {}: {e}\n{}", self.ip, self.logs()));
        assert!(
            replies.len() == 1 && replies[0].code == 250,
            "LMTP to {} for {rcpt}: {replies:?}\n{}",
            self.ip,
            self.logs()
        );
    }

    /// The logs of every running daemon, each under a heading.
    pub fn logs(&self) -> String {
        self.daemons
            .iter()
            .map(|(s, d)| format!("--- groxide-{} on {} ---\n{}\n", s.name(), self.ip, d.log()))
            .collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // All at once, then each drop reaps its process (and prints its log on a panic).
        self.kill_all();
    }
}

/// Where the stores of a cluster live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Every node its own data dir; a store lives only on its home node.
    ShareNothing,
    /// One data dir for all nodes; still one home per store.
    Shared,
}

/// The directory a cluster shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryBackend {
    /// A SQLite file.
    Sqlite,
    /// A fresh database on the MariaDB at 127.0.0.1:3306 (user root, no password).
    MariaDb,
}

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The nodes' addresses; node i is `ips[i]`.
    pub ips: Vec<IpAddr>,
    /// Share-nothing or shared storage.
    pub storage: Storage,
    /// SQLite or MariaDB.
    pub directory: DirectoryBackend,
    /// RPC over TLS with client certificates, from a generated CA.
    pub rpc_tls: bool,
}

impl ClusterOptions {
    /// `n` share-nothing nodes on `<prefix>.2`, `<prefix>.3`, … with a SQLite directory.
    pub fn new(prefix: &str, n: usize) -> ClusterOptions {
        ClusterOptions {
            ips: (0..n)
                .map(|i| {
                    format!("{prefix}.{}", i + 2)
                        .parse()
                        .expect("an IPv4 prefix")
                })
                .collect(),
            storage: Storage::ShareNothing,
            directory: DirectoryBackend::Sqlite,
            rpc_tls: false,
        }
    }
}

/// A MariaDB database for one test, dropped with it.
pub struct MariaDb {
    /// The database's name.
    pub name: String,
}

impl MariaDb {
    /// Creates a fresh database named `<prefix>_<pid>_<n>`.
    pub fn create(prefix: &str) -> MariaDb {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        mysql(&format!(
            "DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
        ));
        MariaDb { name }
    }

    /// Its `directory_url`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:3306/{}", self.name)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = Command::new("mysql")
            .args(["-uroot", "-h127.0.0.1", "-P3306", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .status();
    }
}

/// Runs SQL on the local MariaDB as root; panics with a hint when it is not there.
pub fn mysql(sql: &str) -> String {
    let out = Command::new("mysql")
        .args(["-uroot", "-h127.0.0.1", "-P3306", "-N", "-B", "-e", sql])
        .output()
        .expect("the mysql client (mariadb-client; .ci/prepare installs it)");
    assert!(
        out.status.success(),
        "MariaDB on 127.0.0.1:3306 as root: {}; run .ci/prepare",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CA of a cluster's RPC TLS.
pub struct ClusterCa {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    /// The CA certificate's PEM file.
    pub pem: PathBuf,
}

impl ClusterCa {
    /// A new CA written to `dir/ca.pem`.
    pub fn new(dir: &Path) -> ClusterCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "groxide test cluster CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let pem = dir.join("ca.pem");
        std::fs::write(&pem, cert.pem()).unwrap();
        ClusterCa { params, key, pem }
    }

    /// A certificate for `ip` (server and client use), written to
    /// `dir/<stem>.pem` and `dir/<stem>-key.pem`.
    pub fn issue(&self, ip: IpAddr, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let mut params = rcgen::CertificateParams::new(vec![ip.to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, ip.to_string());
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = rcgen::KeyPair::generate().unwrap();
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let (c, k) = (
            dir.join(format!("{stem}.pem")),
            dir.join(format!("{stem}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

/// N nodes sharing one directory.
pub struct Cluster {
    /// The nodes, in the order of [`ClusterOptions::ips`].
    pub nodes: Vec<Node>,
    /// The options it was built with.
    pub options: ClusterOptions,
    /// The RPC CA, with `rpc_tls`.
    pub ca: Option<ClusterCa>,
    root: tempfile::TempDir,
    _db: Option<MariaDb>,
}

impl Cluster {
    /// Writes every node's config and registers the nodes in the directory
    /// (`servers`: hostname = address, extname = nodeN.cluster.test); starts nothing.
    pub fn new(options: ClusterOptions) -> Cluster {
        let root = tempfile::tempdir().expect("temp dir");
        let db = match options.directory {
            DirectoryBackend::Sqlite => None,
            DirectoryBackend::MariaDb => Some(MariaDb::create("groxide_cluster")),
        };
        let directory_url = match &db {
            Some(db) => db.url(),
            None => format!(
                "sqlite://{}",
                root.path().join("directory.sqlite3").display()
            ),
        };
        let ca = options.rpc_tls.then(|| ClusterCa::new(root.path()));
        let ports = Ports::free_on(&options.ips);
        let data_of = |i: usize| match options.storage {
            Storage::ShareNothing => root.path().join(format!("node{}", i + 1)).join("data"),
            Storage::Shared => root.path().join("data"),
        };
        let (exmdb_list, midb_list) = list_files(&options, &ports, &data_of);
        let mut nodes = Vec::new();
        for (i, ip) in options.ips.iter().enumerate() {
            let local = root.path().join(format!("node{}", i + 1)).join("local");
            let rpc_tls = ca.as_ref().map(|ca| {
                std::fs::create_dir_all(&local).unwrap();
                RpcTlsFiles {
                    ca: ca.pem.clone(),
                    cert: Some(ca.issue(*ip, &local, "rpc")),
                }
            });
            nodes.push(Node::new(NodeOptions {
                ip: *ip,
                host_id: ip.to_string(),
                data: data_of(i),
                local,
                directory_url: directory_url.clone(),
                allow: options.ips.clone(),
                ports,
                rpc_tls,
                exmdb_list: exmdb_list.clone(),
                midb_list: midb_list.clone(),
            }));
        }
        let cluster = Cluster {
            nodes,
            options,
            ca,
            root,
            _db: db,
        };
        for (i, node) in cluster.nodes.iter().enumerate() {
            let ext = format!("node{}.cluster.test", i + 1);
            cluster.nodes[0].admin(&["server", "add", &node.host_id, "--extname", &ext]);
        }
        cluster
    }

    /// A cluster with every daemon of every node running.
    pub fn start(options: ClusterOptions) -> Cluster {
        let mut c = Cluster::new(options);
        c.start_all(&Service::ALL);
        c
    }

    /// Starts `services` on every node (RPC services of all nodes first).
    pub fn start_all(&mut self, services: &[Service]) {
        for s in services {
            for node in &mut self.nodes {
                node.start(*s);
            }
        }
    }

    /// Node `i` (0-based).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Node `i`, mutable.
    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    /// The MariaDB database of the directory (with [`DirectoryBackend::MariaDb`]).
    pub fn database(&self) -> Option<&str> {
        self._db.as_ref().map(|d| d.name.as_str())
    }

    /// The cluster's scratch directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// SIGHUPs every running daemon of every node and waits for the reloads.
    pub fn reload_all(&self) {
        for n in &self.nodes {
            n.reload();
        }
    }

    /// Creates `domain` through node 0.
    pub fn create_domain(&self, domain: &str) {
        self.nodes[0].create_domain(domain);
    }

    /// Creates a user homed on node `home`, through that node's admin (so
    /// its store lies in that node's data dir); returns its store dir.
    pub fn create_user(&self, address: &str, password: &str, home: usize) -> String {
        let node = &self.nodes[home];
        node.create_user(address, password, Some(&node.host_id))
    }

    /// The logs of every node.
    pub fn logs(&self) -> String {
        self.nodes.iter().map(Node::logs).collect()
    }
}

/// exmdb_list.txt and midb_list.txt: one line per node prefix, the same on every node.
fn list_files(
    o: &ClusterOptions,
    ports: &Ports,
    data_of: &dyn Fn(usize) -> PathBuf,
) -> (String, String) {
    let mut exmdb = String::from("# prefix type host port\n");
    let mut midb = String::from("# prefix host port\n");
    for (i, ip) in o.ips.iter().enumerate() {
        let users = format!("{}/user/{ip}/", data_of(i).display());
        exmdb.push_str(&format!("{users} private {ip} {}\n", ports.exmdb));
        midb.push_str(&format!("{users} {ip} {}\n", ports.midb));
    }
    let domains = format!("{}/domain/", data_of(0).display());
    exmdb.push_str(&format!("{domains} public {} {}\n", o.ips[0], ports.exmdb));
    (exmdb, midb)
}
