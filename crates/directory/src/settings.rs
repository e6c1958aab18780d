//! Where the directory lives and how it is reached: `directory_url`, or
//! gromox's `mysql_*` keys, or the default SQLite file.

use groxide_config::keys::{mysql_adaptor, shared};
use groxide_config::{Config, ConfigFile, MysqlAdaptor};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Default MariaDB/MySQL port.
pub const DEFAULT_MYSQL_PORT: u16 = 3306;
/// File name of the default SQLite directory below `data_path`.
pub const DEFAULT_SQLITE_FILE: &str = "directory.sqlite3";
/// Longest `directory_url` accepted.
pub const MAX_URL_LEN: usize = 4096;

/// The database that holds the directory.
#[derive(Clone, PartialEq, Eq)]
pub enum DirectoryUrl {
    /// A SQLite file (one node, or nodes sharing a file system).
    Sqlite {
        /// Absolute path of the database file.
        path: PathBuf,
    },
    /// A MariaDB/MySQL database (a cluster).
    Mysql(MysqlTarget),
}

/// A MariaDB/MySQL database and its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlTarget {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub username: String,
    password: String,
    /// Database name.
    pub database: String,
    /// How the connection is secured.
    pub tls: MysqlTls,
}

/// How the connection to MariaDB/MySQL is secured (`mysql_tls`, or
/// `ssl-mode` in `directory_url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Off,
    /// TLS when the server offers it, its certificate unchecked (sqlx's and
    /// the MySQL client's default, and the behaviour before these settings).
    Prefer,
    /// TLS or no connection; the certificate is unchecked.
    Require,
    /// TLS with a certificate that chains to the configured CA.
    VerifyCa,
    /// `VerifyCa`, and the certificate names the host connected to.
    VerifyFull,
}

impl TlsMode {
    /// The mode's name in mysql_adaptor.cfg.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Off => "off",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// Reads our names (`off`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`) and the MySQL client's (`DISABLED`, `PREFERRED`,
    /// `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`), in any case.
    pub fn parse(text: &str) -> Option<TlsMode> {
        Some(match text.to_ascii_lowercase().replace('_', "-").as_str() {
            "off" | "disabled" => TlsMode::Off,
            "prefer" | "preferred" => TlsMode::Prefer,
            "require" | "required" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" | "verify-identity" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    /// Whether the server's certificate is checked.
    pub fn verifies(self) -> bool {
        matches!(self, TlsMode::VerifyCa | TlsMode::VerifyFull)
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TLS settings of a MariaDB/MySQL connection. Paths are of PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MysqlTls {
    /// The mode asked for; `None` = `verify-ca` when `ca` is set (as the
    /// MySQL client does), else `prefer`.
    pub mode: Option<TlsMode>,
    /// CA certificate(s) trusted for the server's certificate.
    pub ca: Option<PathBuf>,
    /// Client certificate (chain).
    pub cert: Option<PathBuf>,
    /// The client certificate's private key.
    pub key: Option<PathBuf>,
}

impl MysqlTls {
    /// The mode in effect.
    pub fn effective_mode(&self) -> TlsMode {
        self.mode.unwrap_or(if self.ca.is_some() {
            TlsMode::VerifyCa
        } else {
            TlsMode::Prefer
        })
    }

    /// Refuses combinations that cannot mean what they say; `name` gives
    /// each field's name for the message (`"mode"`, `"ca"`, `"cert"`, `"key"`).
    fn check(&self, name: &dyn Fn(&str) -> String) -> Result<(), String> {
        match (&self.cert, &self.key) {
            (Some(_), None) => {
                return Err(format!("{} is set without {}", name("cert"), name("key")));
            }
            (None, Some(_)) => {
                return Err(format!("{} is set without {}", name("key"), name("cert")));
            }
            _ => {}
        }
        let mode = self.effective_mode();
        if self.ca.is_some() && !mode.verifies() {
            return Err(format!(
                "{} is set but {} = {mode} does not check the server's certificate; use verify-ca or verify-full",
                name("ca"),
                name("mode")
            ));
        }
        if self.cert.is_some() && mode == TlsMode::Off {
            return Err(format!(
                "{} is set but {} = off sends no certificate",
                name("cert"),
                name("mode")
            ));
        }
        Ok(())
    }
}

impl MysqlTarget {
    /// A target with these parts.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        password: impl Into<String>,
        database: impl Into<String>,
    ) -> MysqlTarget {
        MysqlTarget {
            host: host.into(),
            port,
            username: username.into(),
            password: password.into(),
            database: database.into(),
            tls: MysqlTls::default(),
        }
    }

    /// This target with these TLS settings.
    pub fn with_tls(mut self, tls: MysqlTls) -> MysqlTarget {
        self.tls = tls;
        self
    }

    /// The password (never printed by `Debug` or `Display`).
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Display for MysqlTarget {
    // The password is left out on purpose: this text goes into logs and errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "mysql://{}@{host}:{}/{}",
            self.username, self.port, self.database
        )
    }
}

impl fmt::Debug for MysqlTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MysqlTarget({self})")
    }
}

impl fmt::Display for DirectoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectoryUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DirectoryUrl::Mysql(target) => target.fmt(f),
        }
    }
}

impl fmt::Debug for DirectoryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DirectoryUrl({self})")
    }
}

/// A `directory_url` or directory setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The URL is malformed; the message never repeats a password.
    #[error("directory_url: {0}")]
    BadUrl(String),
    /// mysql_adaptor.cfg (or groxide.cfg) of the config directory is invalid.
    #[error("{0}")]
    Config(String),
}

impl DirectoryUrl {
    /// Parses `sqlite:///absolute/path` or
    /// `mysql://user:password@host:port/database` (`mariadb://` too; user
    /// defaults to root, port to 3306; `%XX` escapes in user and password).
    /// A mysql URL may end in `?ssl-mode=…&ssl-ca=…&ssl-cert=…&ssl-key=…`
    /// (absolute paths; `sslmode`, `sslca`, `sslcert`, `sslkey` too).
    pub fn parse(text: &str) -> Result<DirectoryUrl, SettingsError> {
        let bad = |why: &str| SettingsError::BadUrl(why.to_string());
        if text.len() > MAX_URL_LEN {
            return Err(bad("longer than 4096 bytes"));
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad(
                    "a sqlite URL needs an absolute path: sqlite:///path/to/file",
                ));
            }
            return Ok(DirectoryUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        let rest = text
            .strip_prefix("mysql://")
            .or_else(|| text.strip_prefix("mariadb://"))
            .ok_or_else(|| bad("must start with sqlite:// or mysql://"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let tls = match query {
            Some(query) => parse_tls_query(query)?,
            None => MysqlTls::default(),
        };
        let (authority, database) = rest
            .split_once('/')
            .ok_or_else(|| bad("a mysql URL needs a database: mysql://user@host/database"))?;
        if database.is_empty() || database.contains('/') {
            return Err(bad("a mysql URL needs one database name after the host"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => ("root".to_string(), String::new()),
            Some(info) => {
                let (user, pass) = info.split_once(':').unwrap_or((info, ""));
                (
                    percent_decode(user).ok_or_else(|| bad("bad %-escape in the user name"))?,
                    percent_decode(pass).ok_or_else(|| bad("bad %-escape in the password"))?,
                )
            }
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("bad host or port"))?;
        Ok(DirectoryUrl::Mysql(MysqlTarget {
            host,
            port,
            username,
            password,
            database: percent_decode(database)
                .ok_or_else(|| bad("bad %-escape in the database"))?,
            tls,
        }))
    }
}

/// The name of a TLS field as a `directory_url` parameter.
fn url_param(field: &str) -> String {
    match field {
        "mode" => "ssl-mode",
        "ca" => "ssl-ca",
        "cert" => "ssl-cert",
        _ => "ssl-key",
    }
    .to_string()
}

fn parse_tls_query(query: &str) -> Result<MysqlTls, SettingsError> {
    let bad = |why: String| SettingsError::BadUrl(why);
    let mut tls = MysqlTls::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("URL parameter {pair:?} has no value")))?;
        let value = percent_decode(value)
            .ok_or_else(|| bad(format!("bad %-escape in URL parameter {name}")))?;
        let path = || {
            if value.starts_with('/') {
                Ok(Some(PathBuf::from(&value)))
            } else {
                Err(bad(format!("URL parameter {name} needs an absolute path")))
            }
        };
        let slot = match name.to_ascii_lowercase().as_str() {
            "ssl-mode" | "sslmode" => {
                tls.mode = Some(TlsMode::parse(&value).ok_or_else(|| {
                    bad(format!(
                        "URL parameter {name}: {value:?} is not one of off, prefer, require, verify-ca, verify-full"
                    ))
                })?);
                continue;
            }
            "ssl-ca" | "sslca" => &mut tls.ca,
            "ssl-cert" | "sslcert" => &mut tls.cert,
            "ssl-key" | "sslkey" => &mut tls.key,
            _ => {
                return Err(bad(format!(
                    "URL parameter {name:?} is not supported (only ssl-mode, ssl-ca, ssl-cert, ssl-key)"
                )));
            }
        };
        *slot = path()?;
    }
    tls.check(&url_param).map_err(bad)?;
    Ok(tls)
}

fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (host, port)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => DEFAULT_MYSQL_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0)?,
    };
    Some((host.to_string(), port))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// How to reach the directory, from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySettings {
    /// The database.
    pub url: DirectoryUrl,
    /// Most connections this process keeps open (`connection_num`).
    pub max_connections: u32,
    /// Time allowed to open or wait for a connection (`directory_connect_timeout`).
    pub connect_timeout: Duration,
    /// How long lookups are cached (`directory_cache_time`); zero = no cache.
    pub cache_ttl: Duration,
}

impl DirectorySettings {
    /// Settings for `url` with the default pool size, timeout and cache time.
    pub fn new(url: DirectoryUrl) -> DirectorySettings {
        DirectorySettings {
            url,
            max_connections: 8,
            connect_timeout: Duration::from_secs(20),
            cache_ttl: Duration::from_secs(60),
        }
    }

    /// The directory configured in the config directory of a daemon's
    /// `config` (groxide.cfg `directory_url`, or mysql_adaptor.cfg's keys).
    pub fn from_config_dir<F: ConfigFile>(
        config: &Config<F>,
    ) -> Result<DirectorySettings, SettingsError> {
        let (adaptor, _) = Config::<MysqlAdaptor>::load(config.dir())
            .map_err(|e| SettingsError::Config(e.to_string()))?;
        DirectorySettings::from_config(&adaptor)
    }

    /// Reads the settings from mysql_adaptor.cfg (and groxide.cfg, which
    /// that config holds too). `directory_url` wins when set; when it is
    /// empty, the `mysql_*` keys name a MariaDB/MySQL database if any of them
    /// is set; otherwise the directory is `<data_path>/directory.sqlite3`.
    pub fn from_config(config: &Config<MysqlAdaptor>) -> Result<DirectorySettings, SettingsError> {
        let url_text = config.get(shared::DIRECTORY_URL).trim();
        let mysql_set = config.is_set(mysql_adaptor::MYSQL_HOST)
            || config.is_set(mysql_adaptor::MYSQL_PORT)
            || config.is_set(mysql_adaptor::MYSQL_USERNAME)
            || config.is_set(mysql_adaptor::MYSQL_PASSWORD)
            || config.is_set(mysql_adaptor::MYSQL_DBNAME);
        let tls_set = config.is_set(mysql_adaptor::MYSQL_TLS)
            || config.is_set(mysql_adaptor::MYSQL_TLS_CA)
            || config.is_set(mysql_adaptor::MYSQL_TLS_CERT)
            || config.is_set(mysql_adaptor::MYSQL_TLS_KEY);
        let url = if !url_text.is_empty() {
            let mut url = DirectoryUrl::parse(url_text)?;
            if let DirectoryUrl::Mysql(target) = &mut url {
                target.tls = tls_from_config(config, Some(&target.tls))?;
            }
            url
        } else if mysql_set || tls_set {
            DirectoryUrl::Mysql(MysqlTarget {
                host: config.get(mysql_adaptor::MYSQL_HOST).to_string(),
                port: config.get(mysql_adaptor::MYSQL_PORT),
                username: config.get(mysql_adaptor::MYSQL_USERNAME).to_string(),
                password: config.get(mysql_adaptor::MYSQL_PASSWORD).to_string(),
                database: config.get(mysql_adaptor::MYSQL_DBNAME).to_string(),
                tls: tls_from_config(config, None)?,
            })
        } else {
            DirectoryUrl::Sqlite {
                path: config.get(shared::DATA_PATH).join(DEFAULT_SQLITE_FILE),
            }
        };
        Ok(DirectorySettings {
            url,
            max_connections: config.get(mysql_adaptor::CONNECTION_NUM),
            connect_timeout: config.get(shared::DIRECTORY_CONNECT_TIMEOUT),
            cache_ttl: config.get(shared::DIRECTORY_CACHE_TIME),
        })
    }
}

/// The `mysql_tls*` keys, each overridden by `directory_url`'s parameter
/// of the same meaning when the URL has one.
fn tls_from_config(
    config: &Config<MysqlAdaptor>,
    url: Option<&MysqlTls>,
) -> Result<MysqlTls, SettingsError> {
    let path = |key| {
        let path: PathBuf = config.get(key);
        (!path.as_os_str().is_empty()).then_some(path)
    };
    let from_config = MysqlTls {
        mode: config
            .is_set(mysql_adaptor::MYSQL_TLS)
            .then(|| TlsMode::parse(config.get(mysql_adaptor::MYSQL_TLS)))
            .flatten(),
        ca: path(mysql_adaptor::MYSQL_TLS_CA),
        cert: path(mysql_adaptor::MYSQL_TLS_CERT),
        key: path(mysql_adaptor::MYSQL_TLS_KEY),
    };
    let url = url.cloned().unwrap_or_default();
    let in_url = |field: &str| match field {
        "mode" => url.mode.is_some(),
        "ca" => url.ca.is_some(),
        "cert" => url.cert.is_some(),
        _ => url.key.is_some(),
    };
    let tls = MysqlTls {
        mode: url.mode.or(from_config.mode),
        ca: url.ca.clone().or(from_config.ca),
        cert: url.cert.clone().or(from_config.cert),
        key: url.key.clone().or(from_config.key),
    };
    // Name each field where it was set: the URL parameter, or the key with
    // its file and line (its default when unset).
    let name = |field: &str| {
        if in_url(field) {
            return format!("directory_url {}", url_param(field));
        }
        let (key, origin) = match field {
            "mode" => (
                "mysql_tls",
                config.origin(mysql_adaptor::MYSQL_TLS).to_string(),
            ),
            "ca" => (
                "mysql_tls_ca",
                config.origin(mysql_adaptor::MYSQL_TLS_CA).to_string(),
            ),
            "cert" => (
                "mysql_tls_cert",
                config.origin(mysql_adaptor::MYSQL_TLS_CERT).to_string(),
            ),
            _ => (
                "mysql_tls_key",
                config.origin(mysql_adaptor::MYSQL_TLS_KEY).to_string(),
            ),
        };
        format!("{key} ({origin})")
    };
    tls.check(&name).map_err(SettingsError::Config)?;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, &str>) {
        let got = DirectoryUrl::parse(text);
        match (got, expected) {
            (Ok(url), Ok(shown)) => assert_eq!(url.to_string(), shown, "{text}"),
            (Err(SettingsError::BadUrl(why)), Err(part)) => {
                assert!(why.contains(part), "{text}: {why}")
            }
            (got, expected) => panic!("{text}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn directory_urls_name_sqlite_files_or_mysql_databases() {
        check(
            "sqlite:///var/lib/groxide/d.sqlite3",
            Ok("sqlite:///var/lib/groxide/d.sqlite3"),
        );
        check("sqlite:/tmp/x", Ok("sqlite:///tmp/x"));
        check(
            "mysql://gx:secret@db1:3307/email",
            Ok("mysql://gx@db1:3307/email"),
        );
        check("mariadb://db1/email", Ok("mysql://root@db1:3306/email"));
        check("mysql://u:p@[::1]:3306/e", Ok("mysql://u@[::1]:3306/e"));
        check("mysql://u%40x:p%3Aw@h/e", Ok("mysql://u@x@h:3306/e"));
        check("sqlite://relative.db", Err("absolute path"));
        check("postgres://h/db", Err("must start with"));
        check("mysql://h", Err("needs a database"));
        check("mysql://h:0/e", Err("bad host or port"));
        check("mysql://h:x/e", Err("bad host or port"));
        check("mysql://u:p%zz@h/e", Err("password"));
        check("mysql://h/e?ssl=1", Err("not supported"));
        check("mysql://h/e?ssl-mode=sometimes", Err("not one of"));
        check("mysql://h/e?ssl-ca=ca.pem", Err("absolute path"));
        check(
            "mysql://h/e?ssl-cert=/c.pem",
            Err("ssl-cert is set without ssl-key"),
        );
        check(
            "mysql://h/e?ssl-mode=require&ssl-ca=/ca.pem",
            Err("ssl-mode = require does not check"),
        );
    }

    #[test]
    fn passwords_never_appear_in_debug_or_display_or_errors() {
        let url = DirectoryUrl::parse("mysql://gx:hunter2@db1/email").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        let DirectoryUrl::Mysql(target) = &url else {
            panic!("not mysql")
        };
        assert_eq!(target.password(), "hunter2");
        let err = DirectoryUrl::parse("mysql://gx:hunter2%zz@db1/email").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    fn settings(shared: &str, mysql: &str) -> DirectorySettings {
        let (config, _) =
            Config::<MysqlAdaptor>::from_str_for_tests(Path::new("/etc/groxide"), shared, mysql)
                .unwrap();
        DirectorySettings::from_config(&config).unwrap()
    }

    #[test]
    fn the_backend_is_the_url_else_the_gromox_mysql_keys_else_sqlite_under_data_path() {
        let s = settings("data_path = /srv/gx\n", "");
        assert_eq!(s.url.to_string(), "sqlite:///srv/gx/directory.sqlite3");
        assert_eq!(s.cache_ttl, Duration::from_secs(60));

        let s = settings(
            "",
            "mysql_host = db1\nmysql_password = pw\nconnection_num = 3\n",
        );
        assert_eq!(s.url.to_string(), "mysql://root@db1:3306/email");
        assert_eq!(s.max_connections, 3);

        let s = settings(
            "directory_url = sqlite:///d.sqlite3\ndirectory_cache_time = 5s\n",
            "mysql_host = db1\n",
        );
        assert_eq!(s.url.to_string(), "sqlite:///d.sqlite3");
        assert_eq!(s.cache_ttl, Duration::from_secs(5));
    }

    fn settings_err(shared: &str, mysql: &str) -> String {
        let (config, _) =
            Config::<MysqlAdaptor>::from_str_for_tests(Path::new("/etc/groxide"), shared, mysql)
                .unwrap();
        DirectorySettings::from_config(&config)
            .unwrap_err()
            .to_string()
    }

    fn tls_of(s: &DirectorySettings) -> &MysqlTls {
        match &s.url {
            DirectoryUrl::Mysql(target) => &target.tls,
            other => panic!("not mysql: {other}"),
        }
    }

    #[test]
    fn tls_defaults_to_prefer_and_a_ca_alone_means_verify_ca() {
        let s = settings("", "mysql_host = db1\n");
        assert_eq!(tls_of(&s).effective_mode(), TlsMode::Prefer);
        assert_eq!(tls_of(&s).ca, None);

        // A TLS key alone selects MariaDB, as any mysql_* key does.
        let s = settings("", "mysql_tls_ca = db-ca.pem\n");
        assert_eq!(s.url.to_string(), "mysql://root@localhost:3306/email");
        let tls = tls_of(&s);
        assert_eq!(tls.effective_mode(), TlsMode::VerifyCa);
        assert_eq!(tls.ca.as_deref(), Some(Path::new("/etc/groxide/db-ca.pem")));

        let s = settings(
            "",
            "mysql_tls = verify-full\nmysql_tls_ca = /ca.pem\nmysql_tls_cert = c.pem\nmysql_tls_key = /k.pem\n",
        );
        let tls = tls_of(&s);
        assert_eq!(tls.effective_mode(), TlsMode::VerifyFull);
        assert_eq!(tls.cert.as_deref(), Some(Path::new("/etc/groxide/c.pem")));
        assert_eq!(tls.key.as_deref(), Some(Path::new("/k.pem")));
    }

    #[test]
    fn contradictory_tls_keys_are_refused_naming_file_line_and_key() {
        let err = settings_err("", "mysql_host = db1\nmysql_tls_cert = /c.pem\n");
        assert!(
            err.contains(
                "mysql_tls_cert (/etc/groxide/mysql_adaptor.cfg:2) is set without mysql_tls_key"
            ),
            "{err}"
        );
        let err = settings_err("", "mysql_tls = require\nmysql_tls_ca = /ca.pem\n");
        assert!(
            err.contains("mysql_tls_ca (/etc/groxide/mysql_adaptor.cfg:2) is set but mysql_tls (/etc/groxide/mysql_adaptor.cfg:1) = require does not check"),
            "{err}"
        );
        let err = settings_err(
            "",
            "mysql_tls = off\nmysql_tls_cert = /c.pem\nmysql_tls_key = /k.pem\n",
        );
        assert!(err.contains("= off sends no certificate"), "{err}");

        // A value outside the list is the config loader's error, with file, line and key.
        let err = Config::<MysqlAdaptor>::from_str_for_tests(
            Path::new("/etc/groxide"),
            "",
            "mysql_host = db1\nmysql_tls = yes\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("mysql_adaptor.cfg:2"), "{err}");
        assert!(err.contains("mysql_tls"), "{err}");
        assert!(err.contains("verify-full"), "{err}");
    }

    #[test]
    fn url_tls_parameters_override_the_keys_one_by_one() {
        let s = settings(
            "directory_url = mysql://gx@db9/mail?ssl-mode=VERIFY_IDENTITY&ssl-ca=/url-ca.pem\n",
            "mysql_tls = require\nmysql_tls_cert = /c.pem\nmysql_tls_key = /k.pem\n",
        );
        assert_eq!(s.url.to_string(), "mysql://gx@db9:3306/mail");
        let tls = tls_of(&s);
        assert_eq!(tls.effective_mode(), TlsMode::VerifyFull);
        assert_eq!(tls.ca.as_deref(), Some(Path::new("/url-ca.pem")));
        assert_eq!(tls.cert.as_deref(), Some(Path::new("/c.pem")));

        let err = settings_err(
            "directory_url = mysql://db9/mail?sslmode=prefer\n",
            "mysql_tls_ca = /ca.pem\n",
        );
        assert!(
            err.contains("mysql_tls_ca (/etc/groxide/mysql_adaptor.cfg:1) is set but directory_url ssl-mode = prefer"),
            "{err}"
        );
    }
}
