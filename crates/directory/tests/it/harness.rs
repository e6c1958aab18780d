//! A fresh directory per test, on SQLite or on the local MariaDB.

use groxide_directory::{
    Clock, Directory, DirectorySettings, DirectoryUrl, ManualClock, MysqlTarget, NewDomain,
    NewUser, ServerId,
};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The MariaDB the tests use (.ci/prepare starts it).
pub const MARIADB_HOST: &str = "127.0.0.1";
pub const MARIADB_PORT: u16 = 3306;
pub const MARIADB_USER: &str = "root";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mariadb,
}

/// A database that exists for one test and is dropped with it.
pub struct TestDb {
    pub url: DirectoryUrl,
    pub clock: Arc<ManualClock>,
    _temp: Option<tempfile::TempDir>,
    mariadb_name: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn server_options() -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .host(MARIADB_HOST)
        .port(MARIADB_PORT)
        .username(MARIADB_USER)
}

impl TestDb {
    /// An empty database (no tables yet).
    pub async fn empty(backend: Backend) -> TestDb {
        let clock = Arc::new(ManualClock::new());
        match backend {
            Backend::Sqlite => {
                let temp = tempfile::tempdir().unwrap();
                let path = temp.path().join("directory.sqlite3");
                TestDb {
                    url: DirectoryUrl::Sqlite { path },
                    clock,
                    _temp: Some(temp),
                    mariadb_name: None,
                }
            }
            Backend::Mariadb => {
                let name = format!(
                    "groxide_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                let mut conn = match server_options().connect().await {
                    Ok(conn) => conn,
                    Err(e) => panic!(
                        "MariaDB is not reachable on {MARIADB_HOST}:{MARIADB_PORT} as {MARIADB_USER} ({e}); \
                         run .ci/prepare (it installs and starts MariaDB) — these tests are never skipped"
                    ),
                };
                sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                TestDb {
                    url: DirectoryUrl::Mysql(MysqlTarget::new(
                        MARIADB_HOST,
                        MARIADB_PORT,
                        MARIADB_USER,
                        "",
                        &name,
                    )),
                    clock,
                    _temp: None,
                    mariadb_name: Some(name),
                }
            }
        }
    }

    pub fn settings(&self) -> DirectorySettings {
        let mut settings = DirectorySettings::new(self.url.clone());
        settings.connect_timeout = Duration::from_secs(10);
        settings.cache_ttl = Duration::from_secs(60);
        settings
    }

    /// Connects (creating groxide's tables when there are none).
    pub async fn connect(&self) -> Directory {
        Directory::connect_with_clock(&self.settings(), self.clock.clone() as Arc<dyn Clock>)
            .await
            .unwrap()
    }

    /// Runs SQL directly, outside the directory (to set up what admin would refuse).
    pub async fn raw(&self, sql: &str) {
        match &self.url {
            DirectoryUrl::Sqlite { path } => {
                let mut conn = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .connect()
                    .await
                    .unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
            }
            DirectoryUrl::Mysql(target) => {
                let pool = MySqlPoolOptions::new()
                    .max_connections(1)
                    .connect_with(server_options().database(&target.database))
                    .await
                    .unwrap();
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
    }

    /// The stored password hash of `username`, read directly.
    pub async fn password_of(&self, username: &str) -> String {
        let sql = "SELECT password FROM users WHERE username = ?";
        match &self.url {
            DirectoryUrl::Sqlite { path } => {
                let mut conn = SqliteConnectOptions::new()
                    .filename(path)
                    .connect()
                    .await
                    .unwrap();
                let hash: String = sqlx::query_scalar(sql)
                    .bind(username)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                hash
            }
            DirectoryUrl::Mysql(target) => {
                let pool = MySqlPoolOptions::new()
                    .max_connections(1)
                    .connect_with(server_options().database(&target.database))
                    .await
                    .unwrap();
                let hash: String = sqlx::query_scalar(sql)
                    .bind(username)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                hash
            }
        }
    }

    /// Names of the tables that exist now.
    pub async fn tables(&self) -> Vec<String> {
        let directory_free = match &self.url {
            DirectoryUrl::Sqlite { path } => {
                let mut conn = SqliteConnectOptions::new()
                    .filename(path)
                    .connect()
                    .await
                    .unwrap();
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                rows
            }
            DirectoryUrl::Mysql(target) => {
                let mut conn = server_options()
                    .database(&target.database)
                    .connect()
                    .await
                    .unwrap();
                sqlx::query_as("SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
            }
        };
        directory_free
            .into_iter()
            .map(|(n,)| n)
            .filter(|n| !n.starts_with("sqlite_"))
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.mariadb_name.take() else {
            return;
        };
        // Drop runs outside any runtime's async context: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = server_options().connect().await {
                    let _ =
                        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

/// The fixture most tests start from: domain x.test with alice (password
/// "alice-pw"), bob, alias info@ → alice, altname "al" → alice, server 1 = node1.
pub async fn fixture(directory: &Directory) {
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
    let mut alice = NewUser::new("alice@x.test", "/data/user/node1/x.test/alice");
    alice.homeserver = ServerId(1);
    alice.lang = "de_AT".into();
    directory
        .create_user(&alice, Some("alice-pw"))
        .await
        .unwrap();
    directory
        .create_user(
            &NewUser::new("bob@x.test", "/data/user/local/x.test/bob"),
            Some("bob-pw"),
        )
        .await
        .unwrap();
    directory
        .add_alias("info@x.test", "alice@x.test")
        .await
        .unwrap();
    directory.add_altname("alice@x.test", "al").await.unwrap();
}

/// Writes one async test function per backend for each scenario.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::harness::Backend::Sqlite).await
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::harness::Backend::Mariadb).await
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
