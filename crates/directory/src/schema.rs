//! The directory's tables: created by groxide's migrations in a database of
//! its own, read as they are in an existing grommunio database.

use crate::db::{Db, Pool};
use crate::error::DirectoryError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Row, SqlSafeStr};

/// groxide's record of applied migrations. A database that has a `users`
/// table but not this one belongs to grommunio and is never migrated.
pub const MIGRATIONS_TABLE: &str = "groxide_directory_migrations";

/// Where the directory's tables came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaOrigin {
    /// groxide created them (and migrates them).
    Groxide,
    /// They existed before (grommunio's): read and written as they are,
    /// never created, altered or dropped.
    Existing,
}

/// The columns groxide reads, per table.
pub const REQUIRED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "id",
            "username",
            "password",
            "domain_id",
            "maildir",
            "homeserver",
            "address_status",
            "privilege_bits",
            "lang",
            "timezone",
        ],
    ),
    (
        "domains",
        &[
            "id",
            "domainname",
            "homedir",
            "homeserver",
            "domain_status",
            "max_user",
            "title",
        ],
    ),
    ("servers", &["id", "hostname", "extname"]),
    ("aliases", &["aliasname", "mainname"]),
    ("altnames", &["user_id", "altname", "magic"]),
];

fn migrator(sql: &'static str) -> Migrator {
    let mut migrator = Migrator::with_migrations(vec![Migration::new(
        1,
        "directory tables".into(),
        MigrationType::Simple,
        SqlSafeStr::into_sql_str(sql),
        false,
    )]);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// Makes sure the tables are there: migrates a database of groxide's own
/// (creating it when empty), and checks an existing grommunio database for
/// the columns groxide reads.
pub(crate) async fn prepare(db: &Db) -> Result<SchemaOrigin, DirectoryError> {
    let tables = table_names(db).await?;
    let has = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name));
    if has("users") && !has(MIGRATIONS_TABLE) {
        check_columns(db).await?;
        return Ok(SchemaOrigin::Existing);
    }
    // Two processes starting on a fresh SQLite file may race; the loser's
    // second run finds the migration applied.
    let mut result = migrate(db).await;
    if result.is_err() {
        result = migrate(db).await;
    }
    result.map_err(|e| db.schema_error(format!("creating the directory tables: {e}")))?;
    Ok(SchemaOrigin::Groxide)
}

async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    match &db.pool {
        Pool::Sqlite(p) => {
            migrator(include_str!("../migrations/sqlite/0001_directory.sql"))
                .run(p)
                .await
        }
        Pool::Mysql(p) => {
            migrator(include_str!("../migrations/mysql/0001_directory.sql"))
                .run(p)
                .await
        }
    }
}

async fn table_names(db: &Db) -> Result<Vec<String>, DirectoryError> {
    let rows: Vec<String> = match &db.pool {
        Pool::Sqlite(p) => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(p)
            .await
            .map_err(|e| db.error(e))?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>(),
        Pool::Mysql(p) => sqlx::query(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE()",
        )
        .fetch_all(p)
        .await
        .map_err(|e| db.error(e))?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>(),
    }
    .map_err(|e| db.error(e))?;
    Ok(rows)
}

async fn column_names(db: &Db, table: &str) -> Result<Vec<String>, DirectoryError> {
    let names: Result<Vec<String>, sqlx::Error> = match &db.pool {
        Pool::Sqlite(p) => sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(|e| db.error(e))?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect(),
        Pool::Mysql(p) => sqlx::query(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ?",
        )
        .bind(table)
        .fetch_all(p)
        .await
        .map_err(|e| db.error(e))?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect(),
    };
    names.map_err(|e| db.error(e))
}

async fn check_columns(db: &Db) -> Result<(), DirectoryError> {
    let mut missing = Vec::new();
    for (table, columns) in REQUIRED_COLUMNS {
        let present = column_names(db, table).await?;
        if present.is_empty() {
            missing.push(format!("table {table}"));
            continue;
        }
        for column in *columns {
            if !present.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(db.schema_error(format!(
            "this existing (grommunio) database lacks {}; groxide does not alter it",
            missing.join(", ")
        )))
    }
}
