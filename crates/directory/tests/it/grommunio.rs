//! An existing grommunio database (MariaDB, with grommunio's extra columns
//! and tables) is read as it is and never altered.

use crate::harness::{Backend, TestDb};
use groxide_directory::{
    AddressStatus, Authenticator, Directory, DirectoryError, LoginThrottle, Protocol,
    RecipientMatch, RecipientPolicy, SchemaOrigin, ServerId, SystemClock, ThrottlePolicy,
};
use std::sync::Arc;

/// Written by hand from the column list of grommunio's schema (reference §5).
const GROMMUNIO_DDL: &str = r#"
CREATE TABLE `options` (`key` varchar(32) NOT NULL PRIMARY KEY, `value` varchar(255) DEFAULT NULL);
INSERT INTO `options` VALUES ('schemaversion', '130');
CREATE TABLE `orgs` (`id` int(10) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` varchar(32) NOT NULL, `description` varchar(128) DEFAULT NULL);
CREATE TABLE `servers` (
  `id` tinyint(3) unsigned NOT NULL AUTO_INCREMENT,
  `hostname` varchar(255) NOT NULL,
  `extname` varchar(255) NOT NULL,
  PRIMARY KEY (`id`), UNIQUE KEY `hostname` (`hostname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `domains` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `org_id` int(10) unsigned NOT NULL DEFAULT 0,
  `domainname` varchar(64) CHARACTER SET ascii NOT NULL,
  `homedir` varchar(128) NOT NULL DEFAULT '',
  `max_user` int(10) unsigned NOT NULL,
  `title` varchar(128) NOT NULL DEFAULT '',
  `address` varchar(128) NOT NULL DEFAULT '',
  `admin_name` varchar(32) NOT NULL DEFAULT '',
  `tel` varchar(64) NOT NULL DEFAULT '',
  `end_day` date NOT NULL DEFAULT '3333-03-03',
  `domain_status` tinyint(4) NOT NULL DEFAULT 0,
  `homeserver` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `sync_policy` text DEFAULT NULL,
  `chat_id` varchar(26) DEFAULT NULL,
  PRIMARY KEY (`id`), UNIQUE KEY `domainname` (`domainname`), KEY `homedir` (`homedir`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `users` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `username` varchar(320) CHARACTER SET ascii NOT NULL,
  `password` varchar(136) NOT NULL DEFAULT '',
  `domain_id` int(10) unsigned NOT NULL,
  `group_id` int(10) unsigned NOT NULL DEFAULT 0,
  `homeserver` tinyint(3) unsigned NOT NULL DEFAULT 0,
  `maildir` varchar(128) NOT NULL DEFAULT '',
  `lang` varchar(32) NOT NULL DEFAULT '',
  `timezone` varchar(64) NOT NULL DEFAULT '',
  `privilege_bits` int(10) unsigned NOT NULL DEFAULT 0,
  `address_status` tinyint(4) NOT NULL DEFAULT 0,
  `externid` varbinary(64) DEFAULT NULL,
  `sync_policy` text DEFAULT NULL,
  `chat_id` varchar(26) DEFAULT NULL,
  `primary_email` varchar(320) DEFAULT NULL,
  `altname` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`), UNIQUE KEY `username` (`username`), KEY `domain_id` (`domain_id`), KEY `maildir` (`maildir`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `aliases` (
  `aliasname` varchar(320) CHARACTER SET ascii NOT NULL,
  `mainname` varchar(320) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (`aliasname`), KEY `mainname` (`mainname`),
  CONSTRAINT `aliases_ibfk_1` FOREIGN KEY (`mainname`) REFERENCES `users` (`username`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `altnames` (
  `user_id` int(10) unsigned NOT NULL,
  `altname` varchar(320) CHARACTER SET ascii NOT NULL,
  `magic` int(10) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (`user_id`, `altname`), UNIQUE KEY `altname` (`altname`),
  CONSTRAINT `altnames_ibfk_1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `user_properties` (
  `user_id` int(10) unsigned NOT NULL, `proptag` int(10) unsigned NOT NULL,
  `order_id` int(10) unsigned NOT NULL DEFAULT 1, `propval_bin` varbinary(4096) DEFAULT NULL,
  `propval_str` varchar(4096) DEFAULT NULL, PRIMARY KEY (`user_id`, `proptag`, `order_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO servers (id, hostname, extname) VALUES (1, 'gx1.internal', 'mail1.example.com'), (2, 'gx2.internal', 'mail2.example.com');
INSERT INTO domains (id, org_id, domainname, homedir, max_user, title, domain_status, homeserver)
  VALUES (7, 1, 'example.com', '/var/lib/gromox/domain/example.com', 100, 'Example', 0, 2);
INSERT INTO users (id, username, password, domain_id, homeserver, maildir, lang, timezone, privilege_bits, address_status, externid, primary_email)
  VALUES (200, 'anna@example.com', '$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/', 7, 1,
          '/var/lib/gromox/user/gx1/example.com/anna', 'de_DE', 'Europe/Berlin', 4294967295, 0, x'00ff', 'anna@example.com'),
         (201, 'shared@example.com', '', 7, 2, '/var/lib/gromox/user/gx2/example.com/shared', '', '', 0, 4, NULL, NULL);
INSERT INTO aliases VALUES ('sales@example.com', 'anna@example.com'), ('@example.com', 'shared@example.com');
INSERT INTO altnames VALUES (200, 'anna.m', 0);
INSERT INTO user_properties VALUES (200, 956628995, 1, NULL, 'Anna M.');
"#;

async fn grommunio_db() -> TestDb {
    let db = TestDb::empty(Backend::Mariadb).await;
    db.raw(GROMMUNIO_DDL).await;
    db
}

#[tokio::test]
async fn a_grommunio_database_is_read_as_it_is_and_never_altered() {
    let db = grommunio_db().await;
    let tables_before = db.tables().await;
    let dir: Directory = db.connect().await;
    assert_eq!(dir.schema_origin(), SchemaOrigin::Existing);
    assert_eq!(db.tables().await, tables_before, "no table was created");

    let anna = dir.user_by_login("anna.m").await.unwrap().unwrap();
    assert_eq!(anna.username, "anna@example.com");
    assert_eq!(anna.id.0, 200);
    assert_eq!(anna.homeserver, ServerId(1));
    assert_eq!(
        anna.privilege_bits.0,
        u32::MAX,
        "unsigned int columns read whole"
    );
    assert_eq!(anna.timezone, "Europe/Berlin");
    assert_eq!(
        dir.user_by_login("SALES@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        anna.id
    );

    assert_eq!(
        dir.homeserver_hostname("/var/lib/gromox/user/gx1/example.com/anna")
            .await
            .unwrap()
            .as_deref(),
        Some("gx1.internal")
    );
    assert_eq!(
        dir.homeserver_hostname("/var/lib/gromox/domain/example.com")
            .await
            .unwrap()
            .as_deref(),
        Some("gx2.internal")
    );
    let domain = dir.domain_by_name("example.com").await.unwrap().unwrap();
    assert_eq!((domain.max_user, domain.homeserver), (100, ServerId(2)));
    assert_eq!(dir.servers().await.unwrap()[1].extname, "mail2.example.com");

    let catch_all = dir
        .resolve_recipient("nobody@example.com", &RecipientPolicy::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(catch_all.matched, RecipientMatch::CatchAll);
    assert_eq!(catch_all.user.address_status, AddressStatus::SHARED_MAILBOX);
    assert!(catch_all.deliverable());

    let auth = Authenticator::new(
        dir.clone(),
        LoginThrottle::new(ThrottlePolicy::default(), Arc::new(SystemClock)),
    );
    let client = "192.0.2.1".parse().unwrap();
    auth.authenticate("anna@example.com", "password", Protocol::Dav, client)
        .await
        .unwrap();
    assert!(
        auth.authenticate("shared@example.com", "", Protocol::Imap, client)
            .await
            .is_err()
    );

    // The seed's failover works on grommunio's tables too.
    let moved = dir.failover(ServerId(1), ServerId(2)).await.unwrap();
    assert_eq!((moved.users, moved.domains), (1, 0));
    assert_eq!(
        dir.homeserver_hostname("/var/lib/gromox/user/gx1/example.com/anna")
            .await
            .unwrap()
            .as_deref(),
        Some("gx2.internal")
    );
    // Reconnecting still does not migrate.
    assert_eq!(db.connect().await.schema_origin(), SchemaOrigin::Existing);
    assert_eq!(db.tables().await, tables_before);
}

#[tokio::test]
async fn a_grommunio_database_without_a_table_groxide_reads_is_named_not_altered() {
    let db = grommunio_db().await;
    db.raw("DROP TABLE altnames; ALTER TABLE users DROP COLUMN timezone")
        .await;
    let tables_before = db.tables().await;
    let err = Directory::connect(&db.settings()).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Schema { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("table altnames") && message.contains("users.timezone"),
        "{message}"
    );
    assert!(
        message.contains("mysql://root@127.0.0.1:3306/groxide_test_"),
        "{message}"
    );
    assert_eq!(db.tables().await, tables_before);
}
