//! `cargo xtask cluster [--mariadb] [--shared-storage] [--tls] [--release]
//! [--password PW]`: a local three-node cluster on 127.0.0.2, 127.0.0.3 and
//! 127.0.0.4 — every daemon per node, each node its own config dir
//! (var/cluster/nodeN/config), one shared directory (SQLite, or the MariaDB on
//! 127.0.0.1:3306, database `groxide_cluster`), share-nothing storage (each
//! node its own data dir) or one data dir for all. The configuration is the
//! seed's: exmdb_list.txt / midb_list.txt with one line per node prefix,
//! every `*_hosts_allow` listing the nodes, `servers` rows with hostname and
//! extname. With `--tls` RPC between the nodes is TLS with client
//! certificates from a generated CA. var/cluster is made anew at every run.

use crate::node_config::{DAEMONS, NodeConfig, PORTS, RpcTls, host_literal, start_daemon};
use crate::proc::Supervisor;
use crate::{build_bins, target_dir, workspace_root};
use anyhow::{Context as _, Result, bail};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cluster's mail domain.
pub const DOMAIN: &str = "cluster.test";
/// The MariaDB database of `--mariadb`.
pub const DATABASE: &str = "groxide_cluster";
/// The users made at start, spread over the nodes in turn.
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank"];

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Everything goes below it (made anew).
    pub root: PathBuf,
    /// The nodes' addresses.
    pub ips: Vec<IpAddr>,
    /// One data dir for all nodes instead of one each.
    pub shared_storage: bool,
    /// A MariaDB database (made anew) instead of a SQLite file.
    pub mariadb: Option<String>,
    /// RPC over TLS with client certificates.
    pub tls: bool,
    /// The daemons' log level.
    pub log_level: &'static str,
    /// Lines appended to a config file of every node: (file, lines).
    pub extra: Vec<(&'static str, String)>,
}

/// One started node.
#[derive(Debug, Clone)]
pub struct Node {
    /// `node1`, `node2`, …
    pub name: String,
    /// Its address (also `host_id` and `servers.hostname`).
    pub ip: IpAddr,
    /// Its `servers.extname`.
    pub extname: String,
    /// Its config directory.
    pub config_dir: PathBuf,
    /// What its config says.
    pub config: NodeConfig,
}

/// A running cluster: its daemons stop when it is dropped.
pub struct Running {
    /// The daemons.
    pub sup: Supervisor,
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    /// Where groxide-admin is.
    pub bin_dir: PathBuf,
    /// The CA of the nodes' certificates.
    pub ca_pem: PathBuf,
    /// How it was started.
    pub spec: Spec,
}

fn mysql(sql: &str) -> Result<()> {
    let out = Command::new("mysql")
        .args(["-uroot", "-h127.0.0.1", "-P3306", "-e", sql])
        .output()
        .context("running the mysql client (mariadb-client; .ci/prepare installs it)")?;
    if !out.status.success() {
        bail!(
            "MariaDB on 127.0.0.1:3306 (user root): {}; start it with .ci/prepare",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The cluster CA and its issued certificates (server and client use).
struct Ca {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
}

impl Ca {
    fn new(pem: &Path) -> Result<Ca> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "groxide xtask cluster CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate()?;
        std::fs::write(pem, params.self_signed(&key)?.pem())?;
        Ok(Ca { params, key })
    }

    fn issue(&self, names: &[String], cert: &Path, key: &Path) -> Result<()> {
        let mut params = rcgen::CertificateParams::new(names.to_vec())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0].clone());
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let leaf = rcgen::KeyPair::generate()?;
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        std::fs::write(cert, params.signed_by(&leaf, &issuer)?.pem())?;
        std::fs::write(key, leaf.serialize_pem())?;
        Ok(())
    }
}

impl Spec {
    fn data_of(&self, i: usize) -> PathBuf {
        if self.shared_storage {
            self.root.join("data")
        } else {
            self.root.join(format!("node{}", i + 1)).join("data")
        }
    }

    /// exmdb_list.txt and midb_list.txt: one line per node prefix.
    fn lists(&self) -> (String, String) {
        let mut exmdb = String::from("# prefix type host port (one line per node)\n");
        let mut midb = String::from("# prefix host port (one line per node)\n");
        for (i, ip) in self.ips.iter().enumerate() {
            let users = format!("{}/user/{ip}/", self.data_of(i).display());
            exmdb.push_str(&format!("{users} private {ip} {}\n", PORTS.exmdb));
            midb.push_str(&format!("{users} {ip} {}\n", PORTS.midb));
        }
        exmdb.push_str(&format!(
            "{}/domain/ public {} {}\n",
            self.data_of(0).display(),
            self.ips[0],
            PORTS.exmdb
        ));
        (exmdb, midb)
    }
}

/// Writes every node's config, starts every daemon of every node and
/// registers the nodes in the directory.
pub fn start(spec: Spec, bin_dir: &Path) -> Result<Running> {
    if spec.root.exists() {
        std::fs::remove_dir_all(&spec.root)
            .with_context(|| format!("removing {}", spec.root.display()))?;
    }
    let tls_dir = spec.root.join("tls");
    std::fs::create_dir_all(&tls_dir)?;
    let directory_url = match &spec.mariadb {
        Some(db) => {
            mysql(&format!(
                "DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}` CHARACTER SET utf8mb4"
            ))?;
            format!("mysql://root@127.0.0.1:3306/{db}")
        }
        None => format!("sqlite://{}/directory.sqlite3", spec.root.display()),
    };
    let ca_pem = tls_dir.join("ca.pem");
    let ca = Ca::new(&ca_pem)?;
    let lists = spec.lists();
    let mut nodes = Vec::new();
    for (i, ip) in spec.ips.iter().enumerate() {
        let name = format!("node{}", i + 1);
        let extname = format!("{name}.{DOMAIN}");
        let dir = spec.root.join(&name);
        let (cert, key) = (
            tls_dir.join(format!("{name}.pem")),
            tls_dir.join(format!("{name}-key.pem")),
        );
        ca.issue(&[ip.to_string(), extname.clone()], &cert, &key)?;
        let config = NodeConfig {
            made_by: "cargo xtask cluster",
            host_id: ip.to_string(),
            rpc_ip: *ip,
            public_ip: *ip,
            data: spec.data_of(i),
            local: dir.join("local"),
            directory_url: directory_url.clone(),
            allow: spec.ips.clone(),
            cert: cert.clone(),
            key: key.clone(),
            rpc_tls: spec.tls.then(|| RpcTls {
                ca: ca_pem.clone(),
                cert: cert.clone(),
                key: key.clone(),
            }),
            lists: Some(lists.clone()),
            zcore_socket: dir.join("local/zcore.sock"),
            log_level: spec.log_level,
        };
        let config_dir = dir.join("config");
        config.write(&config_dir)?;
        for (file, lines) in &spec.extra {
            let path = config_dir.join(file);
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(lines);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        nodes.push(Node {
            name,
            ip: *ip,
            extname,
            config_dir,
            config,
        });
    }
    let mut running = Running {
        sup: Supervisor::default(),
        nodes,
        bin_dir: bin_dir.to_path_buf(),
        ca_pem,
        spec,
    };
    for i in 0..running.nodes.len() {
        let node = running.nodes[i].clone();
        for daemon in DAEMONS {
            let label = format!("{}/{daemon}", node.name);
            start_daemon(
                &mut running.sup,
                bin_dir,
                daemon,
                &label,
                &node.config_dir,
                node.config.ready_addr(daemon),
            )?;
        }
    }
    for node in &running.nodes {
        running.admin(
            0,
            &[
                "server",
                "add",
                &node.ip.to_string(),
                "--extname",
                &node.extname,
            ],
        )?;
    }
    Ok(running)
}

impl Running {
    /// Runs groxide-admin with node `i`'s config; returns its stdout.
    pub fn admin(&self, i: usize, args: &[&str]) -> Result<String> {
        let out = Command::new(self.bin_dir.join("groxide-admin"))
            .arg("--config-dir")
            .arg(&self.nodes[i].config_dir)
            .args(args)
            .output()
            .context("running groxide-admin")?;
        if !out.status.success() {
            bail!(
                "groxide-admin {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates `address` homed on node `home` through that node (so its
    /// store lies in that node's data dir); returns the store directory.
    pub fn create_user(&self, address: &str, password: &str, home: usize) -> Result<String> {
        let ip = self.nodes[home].ip.to_string();
        let out = self.admin(
            home,
            &[
                "--json",
                "user",
                "create",
                address,
                "--password",
                password,
                "--server",
                &ip,
            ],
        )?;
        let v: serde_json::Value = serde_json::from_str(&out).context("groxide-admin --json")?;
        v["maildir"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no maildir in {out}"))
    }

    /// The LMTP address of node `i`.
    pub fn lmtp(&self, i: usize) -> String {
        format!("{}:{}", host_literal(self.nodes[i].ip), PORTS.lmtp)
    }
}

struct Args {
    spec: Spec,
    release: bool,
    password: Option<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        spec: Spec {
            root: workspace_root().join("var/cluster"),
            ips: (2..=4)
                .map(|n| IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, n)))
                .collect(),
            shared_storage: false,
            mariadb: None,
            tls: false,
            log_level: "info",
            extra: Vec::new(),
        },
        release: false,
        password: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--mariadb" => a.spec.mariadb = Some(DATABASE.to_string()),
            "--shared-storage" => a.spec.shared_storage = true,
            "--tls" => a.spec.tls = true,
            "--release" => a.release = true,
            "--password" => match it.next() {
                Some(pw) if !pw.is_empty() => a.password = Some(pw.clone()),
                _ => bail!("cluster: --password needs a password"),
            },
            other => bail!(
                "cluster: unknown argument {other} (known: --mariadb --shared-storage --tls --release --password PW)"
            ),
        }
    }
    Ok(a)
}

fn rel(p: &Path) -> String {
    p.strip_prefix(workspace_root())
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.display().to_string())
}

pub fn run(args: &[String]) -> Result<()> {
    let Args {
        spec,
        release,
        password,
    } = parse(args)?;
    build_bins(release)?;
    let bin_dir = target_dir().join(if release { "release" } else { "debug" });
    let mut running = start(spec, &bin_dir)?;
    let password = match password {
        Some(pw) => pw,
        None => crate::demo::generate_password()?,
    };
    running.admin(0, &["domain", "create", DOMAIN])?;
    let n = running.nodes.len();
    let mut users = Vec::new();
    for (i, name) in USERS.iter().enumerate() {
        let address = format!("{name}@{DOMAIN}");
        let home = i % n;
        let store = running.create_user(&address, &password, home)?;
        // Delivered at the next node: the message crosses the cluster.
        let via = (home + 1) % n;
        crate::welcome::send(
            &running.lmtp(via),
            &address,
            "Welcome to the groxide cluster",
            &format!(
                "This message came in through LMTP at {} ({}) and was stored at\r\n\
                 {} ({}), the home of {address}. Read it at any node.\r\n",
                running.nodes[via].name,
                running.nodes[via].ip,
                running.nodes[home].name,
                running.nodes[home].ip
            ),
        )?;
        users.push((address, home, store));
    }
    print_summary(&running, &users, &password);
    if let Some((name, st)) = running.sup.run_until_ctrl_c()? {
        bail!("{name} refused its configuration ({st}); the cluster is stopped");
    }
    Ok(())
}

fn print_summary(r: &Running, users: &[(String, usize, String)], password: &str) {
    let s = &r.spec;
    let p = PORTS;
    println!();
    println!(
        "groxide cluster is running: {} nodes, {} storage, directory {}, RPC {}.",
        r.nodes.len(),
        if s.shared_storage {
            "shared"
        } else {
            "share-nothing"
        },
        match &s.mariadb {
            Some(db) => format!("MariaDB 127.0.0.1:3306/{db}"),
            None => rel(&s.root.join("directory.sqlite3")),
        },
        if s.tls {
            "over TLS with client certificates"
        } else {
            "in plain text"
        }
    );
    println!("\n  node   address      extname              config                     data");
    for node in &r.nodes {
        println!(
            "  {:<6} {:<12} {:<20} {:<26} {}",
            node.name,
            node.ip,
            node.extname,
            rel(&node.config_dir),
            rel(&node.config.data)
        );
    }
    println!(
        "  every node: RPC exmdb :{}, midb :{}, event :{}, timer :{}; LMTP :{}; IMAP :{} (STARTTLS), :{} (TLS); POP3 :{} (STLS), :{} (TLS)",
        p.exmdb, p.midb, p.event, p.timer, p.lmtp, p.imap, p.imaps, p.pop3, p.pop3s
    );
    println!(
        "  HTTP :{}, HTTPS :{} (autodiscover names each user's home node: servers.extname), metrics :{}",
        p.http, p.https, p.http_metrics
    );
    println!(
        "  certificates: {} signs every node's (IP and extname)",
        rel(&r.ca_pem)
    );
    println!(
        "\n  users (password {password}), each with a welcome message delivered at the next node:"
    );
    for (address, home, store) in users {
        let node = &r.nodes[*home];
        println!(
            "    {address:<22} home {} ({})  store {}",
            node.name,
            node.ip,
            rel(Path::new(store))
        );
    }
    let (n1, n2, n3) = (&r.nodes[0], &r.nodes[1], &r.nodes[2 % r.nodes.len()]);
    let carol = format!("carol@{DOMAIN}");
    let ca = rel(&r.ca_pem);
    let admin = rel(&r.bin_dir.join("groxide-admin"));
    println!("\n  try it (carol lives on {}):", n3.name);
    println!(
        "    swaks --protocol LMTP --server {}:{} --to {carol} --from you@example.test   # deliver at {}",
        n1.ip, p.lmtp, n1.name
    );
    println!(
        "    curl --cacert {ca} 'imaps://{}:{}/INBOX;UID=1' -u {carol}:{password}   # read at {}",
        n2.ip, p.imaps, n2.name
    );
    println!(
        "    curl --cacert {ca} pop3s://{}:{}/1 -u {carol}:{password}   # read at {}",
        n1.ip, p.pop3s, n1.name
    );
    println!(
        "    curl --cacert {ca} 'https://{}:{}/autodiscover/autodiscover.json?Email={carol}&Protocol=Ews'   # names {}'s extname",
        n1.ip, p.https, n3.name
    );
    println!(
        "  fail {} over to {} (then SIGHUP every node's daemons):",
        n3.name, n1.name
    );
    println!(
        "    {admin} --config-dir {} failover --from {} --to {}",
        rel(&n1.config_dir),
        n3.ip,
        n1.ip
    );
    for node in &r.nodes[1..] {
        println!("    {admin} --config-dir {} reload", rel(&node.config_dir));
    }
    if !s.shared_storage {
        println!(
            "    (share-nothing: {}'s store files must reach {} first; --shared-storage needs no copy)",
            n3.name, n1.name
        );
    }
    println!(
        "  spread users again: {admin} --config-dir {} rebalance, then reload every node",
        rel(&n1.config_dir)
    );
    println!("  docs/operations.md explains both cluster modes, failover, rebalance and TLS.");
    println!("Press Ctrl-C to stop.");
}
