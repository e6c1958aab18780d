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
        }
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
        if rest.contains('?') {
            return Err(bad("URL parameters (?…) are not supported"));
        }
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
        }))
    }
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
        let url = if !url_text.is_empty() {
            DirectoryUrl::parse(url_text)?
        } else if mysql_set {
            DirectoryUrl::Mysql(MysqlTarget {
                host: config.get(mysql_adaptor::MYSQL_HOST).to_string(),
                port: config.get(mysql_adaptor::MYSQL_PORT),
                username: config.get(mysql_adaptor::MYSQL_USERNAME).to_string(),
                password: config.get(mysql_adaptor::MYSQL_PASSWORD).to_string(),
                database: config.get(mysql_adaptor::MYSQL_DBNAME).to_string(),
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
}
