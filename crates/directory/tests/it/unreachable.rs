//! A directory that cannot be reached says which one and why.

use groxide_directory::{Directory, DirectoryError, DirectorySettings, DirectoryUrl, MysqlTarget};
use std::time::Duration;

#[tokio::test]
async fn an_unreachable_mariadb_is_reported_with_its_address_but_not_its_password() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let url = DirectoryUrl::Mysql(MysqlTarget::new("127.0.0.1", 1, "gx", "s3cret-pw", "email"));
    let mut settings = DirectorySettings::new(url);
    settings.connect_timeout = Duration::from_secs(5);
    let err = Directory::connect(&settings).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unavailable { .. }), "{err}");
    assert!(err.is_retryable());
    let message = err.to_string();
    assert!(
        message.contains("mysql://gx@127.0.0.1:1/email"),
        "{message}"
    );
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[tokio::test]
async fn wrong_mariadb_credentials_are_reported_as_unavailable() {
    let url = DirectoryUrl::Mysql(MysqlTarget::new(
        crate::harness::MARIADB_HOST,
        crate::harness::MARIADB_PORT,
        "groxide_no_such_user",
        "wrong",
        "email",
    ));
    let err = Directory::connect(&DirectorySettings::new(url))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Unavailable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("groxide_no_such_user@127.0.0.1:3306"),
        "{err}"
    );
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_directory_is_reported_with_its_path() {
    let url = DirectoryUrl::Sqlite {
        path: "/nonexistent-groxide-dir/directory.sqlite3".into(),
    };
    let err = Directory::connect(&DirectorySettings::new(url))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Unavailable { .. }), "{err}");
    assert!(
        err.to_string().contains("/nonexistent-groxide-dir"),
        "{err}"
    );
}
