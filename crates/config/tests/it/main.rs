//! Integration tests of groxide-config through its public API.

// Integration tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod etc_files;
mod hosts_allow;
mod load;
mod schemas;

use groxide_config::{
    ConfigFile, Delivery, Event, Exmdb, Http, Imap, Midb, MysqlAdaptor, Pop3, Shared, Timer, Zcore,
};

/// A check to run with the config type of each file.
pub trait EveryFile {
    fn visit<F: ConfigFile>(&mut self);
}

/// Runs `check` once per config file type, groxide.cfg first.
pub fn every_file(check: &mut impl EveryFile) {
    check.visit::<Shared>();
    check.visit::<Exmdb>();
    check.visit::<Midb>();
    check.visit::<Event>();
    check.visit::<Timer>();
    check.visit::<Delivery>();
    check.visit::<Imap>();
    check.visit::<Pop3>();
    check.visit::<Http>();
    check.visit::<Zcore>();
    check.visit::<MysqlAdaptor>();
}

#[test]
fn every_file_visits_every_schema() {
    struct Files(Vec<&'static str>);
    impl EveryFile for Files {
        fn visit<F: ConfigFile>(&mut self) {
            self.0.push(F::SCHEMA.file);
        }
    }
    let mut files = Files(Vec::new());
    every_file(&mut files);
    let all: Vec<&str> = groxide_config::schema::all()
        .iter()
        .map(|schema| schema.file)
        .collect();
    assert_eq!(files.0, all);
}
