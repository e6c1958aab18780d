//! TLS to MariaDB, against a real mariadbd of its own: the shared MariaDB
//! on 127.0.0.1:3306 stays as it is. The test server has certificates made
//! here, requires TLS of every connection (`require_secure_transport`), and
//! has one account that logs in with a password and one created
//! `REQUIRE X509`. The settings come from a mysql_adaptor.cfg on disk, as a
//! daemon reads them.

use groxide_config::{Config, MysqlAdaptor};
use groxide_directory::{
    Authenticator, Clock, Directory, DirectoryError, DirectorySettings, LoginThrottle, NewDomain,
    NewUser, Protocol, ServerId, SystemClock, ThrottlePolicy,
};
use std::io::Read;
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long mariadbd may take to create its data directory and to start.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// The directory's connect timeout in these tests: every refusal must come
/// well before it (a refusal, not a hang).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A CA, and a certificate with its key signed by it.
struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names` (DNS names or IP addresses).
    fn issue(&self, common_name: &str, names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A throw-away mariadbd in a temporary directory; killed when dropped.
struct TlsMariadb {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn find_program(name: &str, usual: &str) -> PathBuf {
    if Path::new(usual).is_file() {
        return PathBuf::from(usual);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed (looked at {usual} and in PATH): the TLS directory tests \
                 start their own MariaDB server; run .ci/prepare (it installs mariadb-server) — \
                 these tests are never skipped"
            )
        })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn read_log(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

/// Arguments that keep the throw-away server small.
const SMALL: [&str; 3] = [
    "--innodb-log-file-size=4M",
    "--innodb-buffer-pool-size=16M",
    "--skip-name-resolve",
];

impl TlsMariadb {
    /// Creates a data directory and starts mariadbd on a free loopback port
    /// with `server` as its certificate, `ca_pem` as the CA it trusts for
    /// client certificates, TLS required of every connection, and the
    /// accounts of `init_sql`.
    fn start(ca_pem: &str, server: &(String, String), init_sql: &str) -> TlsMariadb {
        let mariadbd = find_program("mariadbd", "/usr/sbin/mariadbd");
        let install_db = find_program("mariadb-install-db", "/usr/bin/mariadb-install-db");
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let data = path("data");
        std::fs::write(path("ca.pem"), ca_pem).unwrap();
        std::fs::write(path("server.pem"), &server.0).unwrap();
        std::fs::write(path("server-key.pem"), &server.1).unwrap();
        std::fs::write(path("init.sql"), init_sql).unwrap();
        // mariadbd refuses to run as root unless told to; as another user it
        // runs as that user (and mariadb-install-db would try to chown).
        let user: &[&str] = if running_as_root() {
            &["--user=root"]
        } else {
            &[]
        };

        let output = Command::new(&install_db)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(user)
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .args(SMALL)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", install_db.display()));
        assert!(
            output.status.success(),
            "{} failed ({}): {}{}",
            install_db.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let port = free_port();
        let log = path("error.log");
        let mut child = Command::new(&mariadbd)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(user)
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", path("mysqld.sock").display()))
            .arg(format!("--pid-file={}", path("mysqld.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--ssl-ca={}", path("ca.pem").display()))
            .arg(format!("--ssl-cert={}", path("server.pem").display()))
            .arg(format!("--ssl-key={}", path("server-key.pem").display()))
            .arg("--require-secure-transport=ON")
            .arg(format!("--init-file={}", path("init.sql").display()))
            .args(SMALL)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", mariadbd.display()));

        let started = Instant::now();
        loop {
            let text = read_log(&log);
            if text.contains("ready for connections") {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("mariadbd exited ({status}) before it was ready:\n{text}");
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mariadbd not ready within {START_TIMEOUT:?}:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        TlsMariadb { child, port, dir }
    }

    /// A config directory whose mysql_adaptor.cfg reaches this server as
    /// `user`/`password` with `tls_lines`, and files `files` beside it.
    fn config(
        &self,
        user: &str,
        password: &str,
        database: &str,
        tls_lines: &str,
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, DirectorySettings) {
        self.config_at("127.0.0.1", user, password, database, tls_lines, files)
    }

    /// [`TlsMariadb::config`] with `host` as mysql_host.
    fn config_at(
        &self,
        host: &str,
        user: &str,
        password: &str,
        database: &str,
        tls_lines: &str,
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, DirectorySettings) {
        let dir = tempfile::tempdir_in(self.dir.path()).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        std::fs::write(
            dir.path().join("mysql_adaptor.cfg"),
            format!(
                "mysql_host = {host}\nmysql_port = {}\nmysql_username = {user}\n\
                 mysql_password = {password}\nmysql_dbname = {database}\n{tls_lines}",
                self.port
            ),
        )
        .unwrap();
        let (config, warnings) =
            Config::<MysqlAdaptor>::load_with_env(dir.path(), &|_| None).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut settings = DirectorySettings::from_config(&config).unwrap();
        settings.connect_timeout = CONNECT_TIMEOUT;
        (dir, settings)
    }
}

impl Drop for TlsMariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const INIT_SQL: &str = "\
CREATE DATABASE gx_pw CHARACTER SET utf8mb4;
CREATE DATABASE gx_x509 CHARACTER SET utf8mb4;
CREATE USER 'gx'@'%' IDENTIFIED BY 'gx-pw';
GRANT ALL ON gx_pw.* TO 'gx'@'%';
CREATE USER 'gxcert'@'%' IDENTIFIED BY 'cert-pw' REQUIRE X509;
GRANT ALL ON gx_x509.* TO 'gxcert'@'%';
";

/// Connects, failing the test if that takes as long as the connect timeout
/// (a hang rather than an answer).
async fn connect(settings: &DirectorySettings) -> Result<Directory, DirectoryError> {
    let started = Instant::now();
    let result = Directory::connect(settings).await;
    assert!(
        started.elapsed() < CONNECT_TIMEOUT / 2,
        "took {:?}: {:?}",
        started.elapsed(),
        result.as_ref().err()
    );
    result
}

async fn refused(settings: &DirectorySettings) -> String {
    match connect(settings).await {
        Ok(_) => panic!(
            "connected, but should have been refused: {:?}",
            settings.url
        ),
        Err(e) => {
            assert!(matches!(e, DirectoryError::Unavailable { .. }), "{e}");
            eprintln!("refused: {e}");
            e.to_string()
        }
    }
}

/// A domain, a user, and a login by that user: the directory works.
async fn create_and_log_in(directory: Directory) {
    directory.add_server("node1", "mail1.x.test").await.unwrap();
    directory
        .create_domain(&NewDomain {
            domainname: "x.test".into(),
            homedir: "/data/domain/x.test".into(),
            homeserver: ServerId::ANY,
            max_user: 0,
            title: "X".into(),
        })
        .await
        .unwrap();
    directory
        .create_user(
            &NewUser::new("alice@x.test", "/data/user/node1/x.test/alice"),
            Some("alice-pw"),
        )
        .await
        .unwrap();
    let auth = Authenticator::new(
        directory,
        LoginThrottle::new(
            ThrottlePolicy::default(),
            Arc::new(SystemClock) as Arc<dyn Clock>,
        ),
    );
    let client: IpAddr = "192.0.2.10".parse().unwrap();
    let user = auth
        .authenticate("alice@x.test", "alice-pw", Protocol::Imap, client)
        .await
        .unwrap();
    assert_eq!(user.maildir, "/data/user/node1/x.test/alice");
    assert!(
        auth.authenticate("alice@x.test", "wrong", Protocol::Imap, client)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn mariadb_over_tls_checks_the_server_certificate_and_presents_the_client_certificate() {
    let pki = Pki::new("groxide test database CA");
    // The server's certificate names 127.0.0.1 and mariadb.test, not localhost.
    let server = pki.issue("mariadb.test", &["127.0.0.1", "mariadb.test"]);
    let client = pki.issue("groxide-directory", &[]);
    let stranger = Pki::new("some other CA");
    let stranger_client = stranger.issue("groxide-directory", &[]);
    let db = TlsMariadb::start(&pki.ca_pem, &server, INIT_SQL);

    // verify-ca with the CA that signed the server's certificate: the
    // directory works (tables created, a user added and logged in).
    let (_c, settings) = db.config(
        "gx",
        "gx-pw",
        "gx_pw",
        "mysql_tls = verify-ca\nmysql_tls_ca = ca.pem\n",
        &[("ca.pem", &pki.ca_pem)],
    );
    create_and_log_in(connect(&settings).await.unwrap()).await;

    // verify-full: the certificate names 127.0.0.1 as well.
    let (_c, settings) = db.config(
        "gx",
        "gx-pw",
        "gx_pw",
        "mysql_tls = verify-full\nmysql_tls_ca = ca.pem\n",
        &[("ca.pem", &pki.ca_pem)],
    );
    let directory = connect(&settings).await.unwrap();
    assert!(
        directory
            .user_by_name("alice@x.test")
            .await
            .unwrap()
            .is_some()
    );

    // Reached as localhost, the certificate still chains to the CA
    // (verify-ca) but does not name the host (verify-full).
    let ca_lines = "mysql_tls_ca = ca.pem\n";
    let (_c, settings) = db.config_at(
        "localhost",
        "gx",
        "gx-pw",
        "gx_pw",
        ca_lines,
        &[("ca.pem", &pki.ca_pem)],
    );
    connect(&settings).await.unwrap();
    let (_c, settings) = db.config_at(
        "localhost",
        "gx",
        "gx-pw",
        "gx_pw",
        &format!("mysql_tls = verify-full\n{ca_lines}"),
        &[("ca.pem", &pki.ca_pem)],
    );
    let message = refused(&settings).await;
    assert!(
        message.contains("TLS handshake failed (mysql_tls = verify-full)")
            && message.contains("not valid for name \"localhost\""),
        "{message}"
    );

    // The default (prefer) takes the TLS the server offers: existing
    // configs without TLS keys keep working against a TLS-only server.
    let (_c, settings) = db.config("gx", "gx-pw", "gx_pw", "", &[]);
    connect(&settings).await.unwrap();

    // A CA that did not sign the server's certificate: refused at the
    // handshake, and the message says so.
    let (_c, settings) = db.config(
        "gx",
        "gx-pw",
        "gx_pw",
        "mysql_tls_ca = wrong-ca.pem\n",
        &[("wrong-ca.pem", &stranger.ca_pem)],
    );
    let message = refused(&settings).await;
    assert!(
        message.contains("TLS handshake failed (mysql_tls = verify-ca)")
            && message.contains(&format!("127.0.0.1:{}", db.port))
            && message.contains("UnknownIssuer"),
        "{message}"
    );

    // A CA file that is not there is named.
    let (c, settings) = db.config("gx", "gx-pw", "gx_pw", "mysql_tls_ca = missing.pem\n", &[]);
    let message = refused(&settings).await;
    assert!(
        message.contains(&format!(
            "cannot read the TLS CA file {}",
            c.path().join("missing.pem").display()
        )),
        "{message}"
    );

    // off against a server with require_secure_transport = ON.
    let (_c, settings) = db.config("gx", "gx-pw", "gx_pw", "mysql_tls = off\n", &[]);
    let message = refused(&settings).await;
    assert!(
        message.contains("mysql_tls = off") && message.contains("require_secure_transport"),
        "{message}"
    );

    // The REQUIRE X509 account: in with the client certificate...
    let files = [
        ("ca.pem", pki.ca_pem.as_str()),
        ("client.pem", client.0.as_str()),
        ("client-key.pem", client.1.as_str()),
    ];
    let (_c, settings) = db.config(
        "gxcert",
        "cert-pw",
        "gx_x509",
        "mysql_tls_ca = ca.pem\nmysql_tls_cert = client.pem\nmysql_tls_key = client-key.pem\n",
        &files,
    );
    create_and_log_in(connect(&settings).await.unwrap()).await;

    // ...refused without it, with a hint at the missing keys...
    let (_c, settings) = db.config(
        "gxcert",
        "cert-pw",
        "gx_x509",
        "mysql_tls_ca = ca.pem\n",
        &files,
    );
    let message = refused(&settings).await;
    assert!(
        message.contains("Access denied for user 'gxcert'")
            && message.contains("mysql_tls_cert and mysql_tls_key"),
        "{message}"
    );

    // ...and refused with a certificate the server's CA did not sign.
    let (_c, settings) = db.config(
        "gxcert",
        "cert-pw",
        "gx_x509",
        "mysql_tls_ca = ca.pem\nmysql_tls_cert = client.pem\nmysql_tls_key = client-key.pem\n",
        &[
            ("ca.pem", &pki.ca_pem),
            ("client.pem", &stranger_client.0),
            ("client-key.pem", &stranger_client.1),
        ],
    );
    let message = refused(&settings).await;
    assert!(
        message.contains("TLS handshake failed (mysql_tls = verify-ca)")
            && message.contains("alert"),
        "{message}"
    );
}
