//! The connection pool of either backend, the mapping of driver errors, and
//! reading columns whatever integer or text type the table declares.

use crate::error::DirectoryError;
use crate::settings::{DirectorySettings, DirectoryUrl, MysqlTls, TlsMode};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions, MySqlRow, MySqlSslMode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{MySqlPool, Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// Idle time after which a pooled connection is closed (gromox: mysql_pool_idle_timeout).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The pool of one backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Mysql(MySqlPool),
}

/// Runs `$body` with `$p` bound to the pool of whichever backend is in use;
/// the body is compiled once per backend, so it may use either's row type.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Mysql($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The pool and the name of its backend for messages (no password).
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) pool: Pool,
    pub(crate) backend: String,
}

impl Db {
    /// Opens the pool and one connection, so that a wrong address or
    /// password is reported now, naming the backend.
    pub(crate) async fn connect(settings: &DirectorySettings) -> Result<Db, DirectoryError> {
        let backend = settings.url.to_string();
        let unavailable = |message: String| DirectoryError::Unavailable {
            backend: backend.clone(),
            message,
        };
        let pool = match &settings.url {
            DirectoryUrl::Sqlite { path } => {
                let parent_ok = path
                    .parent()
                    .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir());
                if !parent_ok {
                    return Err(unavailable(format!(
                        "the directory {} does not exist",
                        path.parent()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    )));
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(settings.connect_timeout);
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.connect_timeout)
                    .idle_timeout(POOL_IDLE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| unavailable(e.to_string()))?;
                Pool::Sqlite(pool)
            }
            DirectoryUrl::Mysql(target) => {
                let mut options = MySqlConnectOptions::new()
                    .host(&target.host)
                    .port(target.port)
                    .username(&target.username)
                    .database(&target.database)
                    .charset("utf8mb4");
                // An empty password means "none", not "the empty string" (MySQL tells them apart).
                if !target.password().is_empty() {
                    options = options.password(target.password());
                }
                options = apply_tls(options, &target.tls).map_err(unavailable)?;
                let tls = target.tls.clone();
                let connect = MySqlPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.connect_timeout)
                    .idle_timeout(POOL_IDLE_TIMEOUT)
                    .connect_with(options);
                // The pool's own timeout covers acquiring, not a TCP connect that hangs.
                let pool = tokio::time::timeout(settings.connect_timeout, connect)
                    .await
                    .map_err(|_| {
                        unavailable(format!(
                            "no connection within {:?}",
                            settings.connect_timeout
                        ))
                    })?
                    .map_err(|e| unavailable(describe_mysql_error(&e, &tls)))?;
                Pool::Mysql(pool)
            }
        };
        Ok(Db { pool, backend })
    }

    /// A driver error as a directory error naming the backend.
    pub(crate) fn error(&self, error: sqlx::Error) -> DirectoryError {
        let message = error.to_string();
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => DirectoryError::Unavailable {
                backend: self.backend.clone(),
                message,
            },
            _ => DirectoryError::Query {
                backend: self.backend.clone(),
                message,
            },
        }
    }

    /// Whether `error` is a unique-key violation (a duplicate name).
    pub(crate) fn is_duplicate(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
    }

    /// Whether `error` is a foreign-key violation (a dangling or still-used reference).
    pub(crate) fn is_reference(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
    }

    /// An inconsistency report naming the backend.
    pub(crate) fn inconsistent(&self, message: impl Into<String>) -> DirectoryError {
        DirectoryError::Inconsistent {
            backend: self.backend.clone(),
            message: message.into(),
        }
    }

    /// A schema problem naming the backend.
    pub(crate) fn schema_error(&self, message: impl Into<String>) -> DirectoryError {
        DirectoryError::Schema {
            backend: self.backend.clone(),
            message: message.into(),
        }
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        on_pool!(&self.pool, p => p.close().await)
    }
}

/// Sets the TLS mode and reads the CA, client certificate and key now, so
/// that a missing or unreadable file is reported with its path.
fn apply_tls(options: MySqlConnectOptions, tls: &MysqlTls) -> Result<MySqlConnectOptions, String> {
    let read = |what: &str, path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
    };
    let mut options = options.ssl_mode(match tls.effective_mode() {
        TlsMode::Off => MySqlSslMode::Disabled,
        TlsMode::Prefer => MySqlSslMode::Preferred,
        TlsMode::Require => MySqlSslMode::Required,
        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
        TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
    });
    if let Some(ca) = &tls.ca {
        options = options.ssl_ca_from_pem(read("TLS CA file", ca)?);
    }
    if let Some(cert) = &tls.cert {
        options = options.ssl_client_cert_from_pem(read("TLS client certificate", cert)?);
    }
    if let Some(key) = &tls.key {
        options = options.ssl_client_key_from_pem(read("TLS client key", key)?);
    }
    Ok(options)
}

/// A connect error of the MariaDB/MySQL driver, with the TLS mode when TLS
/// (or the lack of it) is the likely cause.
fn describe_mysql_error(error: &sqlx::Error, tls: &MysqlTls) -> String {
    let mode = tls.effective_mode();
    match error {
        sqlx::Error::Tls(e) => format!("TLS handshake failed (mysql_tls = {mode}): {e}"),
        // rustls reports a refused handshake (an unknown CA, a name the
        // certificate lacks, an alert from the server) through the socket.
        sqlx::Error::Io(e)
            if e.get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            format!("TLS handshake failed (mysql_tls = {mode}): {e}")
        }
        sqlx::Error::Configuration(e) => format!("TLS settings unusable (mysql_tls = {mode}): {e}"),
        // ER_SECURE_TRANSPORT_REQUIRED (MariaDB 1941, MySQL 3159).
        sqlx::Error::Database(e)
            if matches!(e.code().as_deref(), Some("08004"))
                || e.message().contains("secure transport") =>
        {
            format!("the server requires TLS (mysql_tls = {mode}): {e}")
        }
        // MariaDB answers a login without TLS that needs it, or without a
        // client certificate that needs one, as any wrong login.
        sqlx::Error::Database(e) if e.message().contains("Access denied") => {
            if mode == TlsMode::Off {
                format!(
                    "{e} (mysql_tls = off: a server with require_secure_transport = ON, or an account created REQUIRE SSL or X509, refuses connections without TLS)"
                )
            } else if tls.cert.is_none() {
                format!(
                    "{e} (no client certificate sent: an account created REQUIRE X509, SUBJECT or ISSUER needs mysql_tls_cert and mysql_tls_key)"
                )
            } else {
                e.to_string()
            }
        }
        _ => error.to_string(),
    }
}

/// Reads a column whatever integer or text type the table declares
/// (grommunio's columns are unsigned where ours may be signed).
pub(crate) trait Columns {
    /// An integer column; NULL reads as 0.
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    /// A text column; NULL reads as "".
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;

    /// An integer column that must fit `T` (ids, bit sets, status bytes).
    fn int_as<T: TryFrom<i64>>(&self, column: &str) -> Result<T, sqlx::Error> {
        let value = self.int(column)?;
        T::try_from(value).map_err(|_| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: format!("{value} is out of range").into(),
        })
    }
}

fn unsigned_to_i64(column: &str, value: u64) -> Result<i64, sqlx::Error> {
    i64::try_from(value).map_err(|_| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: format!("{value} is out of range").into(),
    })
}

impl Columns for SqliteRow {
    fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
        Ok(self.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
    }

    fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        Ok(self
            .try_get::<Option<String>, _>(column)?
            .unwrap_or_default())
    }
}

impl Columns for MySqlRow {
    fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
        match self.try_get::<Option<i64>, _>(column) {
            Ok(value) => Ok(value.unwrap_or(0)),
            Err(sqlx::Error::ColumnDecode { .. }) => self
                .try_get::<Option<u64>, _>(column)?
                .map_or(Ok(0), |v| unsigned_to_i64(column, v)),
            Err(e) => Err(e),
        }
    }

    fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        match self.try_get::<Option<String>, _>(column) {
            Ok(value) => Ok(value.unwrap_or_default()),
            // A binary collation (varbinary): the bytes are still text to us.
            Err(sqlx::Error::ColumnDecode { .. }) => Ok(self
                .try_get::<Option<Vec<u8>>, _>(column)?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()),
            Err(e) => Err(e),
        }
    }
}

/// The id of the row an INSERT made, whichever backend ran it.
pub(crate) trait InsertedId {
    /// The new row's id.
    fn inserted_id(&self) -> i64;
}

impl InsertedId for sqlx::sqlite::SqliteQueryResult {
    fn inserted_id(&self) -> i64 {
        self.last_insert_rowid()
    }
}

impl InsertedId for sqlx::mysql::MySqlQueryResult {
    fn inserted_id(&self) -> i64 {
        i64::try_from(self.last_insert_id()).unwrap_or(i64::MAX)
    }
}
