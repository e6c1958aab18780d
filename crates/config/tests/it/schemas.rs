//! The key catalogue itself: defaults that parse, names that do not collide.

use std::collections::HashSet;
use std::path::Path;

use groxide_config::keys::{event, exmdb, imap, midb, pop3, timer, zcore};
use groxide_config::{Config, ConfigFile, schema};

use crate::{EveryFile, every_file};

#[test]
fn every_schema_loads_with_all_defaults_and_no_warnings() {
    struct Defaults;
    impl EveryFile for Defaults {
        fn visit<F: ConfigFile>(&mut self) {
            match Config::<F>::from_str_for_tests(Path::new("/etc/groxide"), "", "") {
                Ok((config, warnings)) => {
                    assert_eq!(warnings, vec![], "{}", F::SCHEMA.file);
                    for (spec, text, _) in config.entries() {
                        assert_eq!(text, spec.default, "{}", spec.name);
                    }
                }
                Err(errors) => panic!("defaults of {} do not parse:\n{errors}", F::SCHEMA.file),
            }
        }
    }
    every_file(&mut Defaults);
}

#[test]
fn key_names_are_lower_case_unique_and_documented_in_one_line() {
    let mut files = HashSet::new();
    for daemon in schema::all() {
        assert!(files.insert(daemon.file), "{} listed twice", daemon.file);
        let mut names = HashSet::new();
        for spec in daemon.keys {
            assert!(
                names.insert(spec.name),
                "{}: {} listed twice",
                daemon.file,
                spec.name
            );
            assert!(
                spec.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}: key {:?} is not lower_snake_case",
                daemon.file,
                spec.name
            );
            assert!(
                !spec.doc.is_empty() && !spec.doc.contains('\n'),
                "{}: {} needs a one-line doc",
                daemon.file,
                spec.name
            );
            if daemon.file != schema::SHARED.file {
                assert!(
                    schema::SHARED.key(spec.name).is_none(),
                    "{}: {} is also in groxide.cfg",
                    daemon.file,
                    spec.name
                );
            }
        }
    }
}

#[test]
fn gromox_defaults_are_kept_where_gromox_has_the_key() {
    assert_eq!(exmdb::LISTEN_IP.spec().default, "::1");
    assert_eq!(exmdb::EXMDB_LISTEN_PORT.spec().default, "5000");
    assert_eq!(midb::MIDB_LISTEN_PORT.spec().default, "5555");
    assert_eq!(event::EVENT_LISTEN_PORT.spec().default, "33333");
    assert_eq!(timer::TIMER_LISTEN_PORT.spec().default, "6666");
    assert_eq!(imap::IMAP_LISTEN.spec().default, "[::]:143");
    assert_eq!(pop3::POP3_LISTEN_TLS.spec().default, "[::]:995");
    assert_eq!(
        zcore::ZCORE_LISTEN.spec().default,
        "unix:/run/groxide/zcore.sock"
    );
}
