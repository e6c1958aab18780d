//! Groupware import and export end to end: groxide-admin against a real
//! groxide-exmdb — a user created with a language gets localised folders,
//! iCalendar and vCard files from the corpus are imported (a malformed
//! object is skipped with its line, the rest stored), exported again and
//! compared with the source by meaning, re-imported without duplicates,
//! and free/busy is read through the routed client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, MysqlAdaptor};
use groxide_directory::{Directory, DirectorySettings};
use groxide_e2e::{Node, Service, run_bin};
use groxide_pim::ical::compare_calendars;
use groxide_pim::vcard::compare_vcards;
use groxide_rpc::ExmdbClient;
use groxide_rpc::exmdb_client::folder_role;
use groxide_runtime::{Routing, client_options};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const NODE: &str = "127.0.0.1";

fn corpus(kind: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/groupware")
        .join(kind)
        .join(name)
}

fn admin(config: &Path, args: &[&str]) -> (i32, Value, String, String) {
    let mut all = vec!["--config-dir", config.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_bin("admin", &all);
    let value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (status.code().unwrap_or(-1), value, stdout, stderr)
}

#[track_caller]
fn admin_ok(config: &Path, args: &[&str]) -> Value {
    let (code, value, _, stderr) = admin(config, args);
    assert_eq!(code, 0, "groxide-admin {args:?}: {stderr}");
    value
}

async fn exmdb_client(config: &Path) -> ExmdbClient {
    let (cfg, _) = Config::<MysqlAdaptor>::load(config).unwrap();
    let settings = DirectorySettings::from_config(&cfg).unwrap();
    let directory = Directory::connect(&settings).await.unwrap();
    let routing = Routing::load(&cfg, Some(Arc::new(directory) as _)).unwrap();
    let opts = client_options(&cfg, routing.node()).unwrap();
    ExmdbClient::new(routing.exmdb().clone(), opts)
}

#[tokio::test]
async fn import_and_export_round_trip_through_the_real_daemons() {
    let mut node = Node::standalone(NODE);
    node.start_all(&[Service::Event, Service::Exmdb]);
    let cfg = node.config.path().to_path_buf();
    let cfg = cfg.as_path();
    admin_ok(cfg, &["server", "add", NODE]);
    admin_ok(cfg, &["domain", "create", "example.test", "--server", "1"]);
    let user = admin_ok(
        cfg,
        &[
            "user",
            "create",
            "anna@example.test",
            "--password",
            "pw",
            "--server",
            NODE,
            "--lang",
            "de_DE",
        ],
    );
    let dir = user["maildir"].as_str().unwrap().to_string();
    let exmdb = exmdb_client(cfg).await;

    // German folder names; the calendar is empty.
    let folders = exmdb
        .list_folders(groxide_rpc::pb::exmdb::v1::ListFoldersRequest {
            dir: dir.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let cal = folders
        .folders
        .iter()
        .find(|f| f.role == "calendar")
        .unwrap();
    assert_eq!(
        (cal.name.as_str(), cal.container_class.as_str()),
        ("Kalender", "IPF.Appointment")
    );

    // A malformed file: the good events are stored, each bad one skipped with its line.
    let bad = corpus("ical", "malformed-mixed.ics");
    let out = admin_ok(
        cfg,
        &["import", "ics", "anna@example.test", bad.to_str().unwrap()],
    );
    assert_eq!(out["imported"], 3, "{out}");
    let skipped = out["skipped"].as_array().unwrap();
    assert!(skipped.len() >= 3, "{out}");
    for s in skipped {
        assert!(s["line"].as_u64().is_some_and(|l| l > 1), "{s}");
        assert!(s["reason"].as_str().unwrap().contains("line "), "{s}");
    }
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap().contains("DTSTART")),
        "the bad DTSTART is not named: {out}"
    );

    // Well-formed files: every object stored, exported, and the export says
    // what the sources said.
    let files = [
        "outlook-weekly-windows-zone.ics",
        "google-export.ics",
        "thunderbird-lightning.ics",
    ];
    for f in files {
        let out = admin_ok(
            cfg,
            &[
                "import",
                "ics",
                "anna@example.test",
                corpus("ical", f).to_str().unwrap(),
                "--tz",
                "Europe/Berlin",
            ],
        );
        assert!(out["skipped"].as_array().unwrap().is_empty(), "{f}: {out}");
        assert!(out["imported"].as_u64().unwrap() >= 1, "{f}: {out}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let exported = tmp.path().join("calendar.ics");
    let out = admin_ok(
        cfg,
        &[
            "export",
            "ics",
            "anna@example.test",
            "-o",
            exported.to_str().unwrap(),
            "--tz",
            "Europe/Berlin",
        ],
    );
    let mut text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(text.matches("BEGIN:VCALENDAR").count(), 1);
    assert!(out["exported"].as_u64().unwrap() >= 3 + 3, "{out}");
    // Tasks went to the Tasks folder.
    let tasks = tmp.path().join("tasks.ics");
    let out = admin_ok(
        cfg,
        &[
            "export",
            "ics",
            "anna@example.test",
            "--folder",
            "tasks",
            "-o",
            tasks.to_str().unwrap(),
            "--tz",
            "Europe/Berlin",
        ],
    );
    assert!(out["exported"].as_u64().unwrap() >= 1, "{out}");
    let tasks_text = std::fs::read_to_string(&tasks).unwrap();
    text.push_str(&tasks_text);
    for f in files {
        let source = std::fs::read_to_string(corpus("ical", f)).unwrap();
        let diff = compare_calendars(&source, &text, &[], Some(chrono_tz::Europe::Berlin));
        assert!(diff.is_empty(), "{f}: the export lost {:#?}", diff.missing);
    }
    // Time zones appear once each.
    let calendar_only = std::fs::read_to_string(&exported).unwrap();
    let tzids: Vec<&str> = calendar_only
        .lines()
        .filter(|l| l.starts_with("TZID:"))
        .collect();
    let mut unique = tzids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(tzids.len(), unique.len(), "{tzids:?}");

    // Importing the same file again replaces, it does not duplicate.
    let (before, _) = exmdb
        .list_items(&dir, folder_role("calendar"))
        .await
        .unwrap();
    let again = admin_ok(
        cfg,
        &[
            "import",
            "ics",
            "anna@example.test",
            corpus("ical", files[1]).to_str().unwrap(),
            "--tz",
            "Europe/Berlin",
        ],
    );
    assert_eq!(again["created"], 0, "{again}");
    let (after, _) = exmdb
        .list_items(&dir, folder_role("calendar"))
        .await
        .unwrap();
    assert_eq!(before.len(), after.len());

    // Contacts: vCard 3 in, vCard 3 out, nothing lost.
    for f in ["apple-contacts-v3.vcf", "google-contacts-v3.vcf"] {
        let out = admin_ok(
            cfg,
            &[
                "import",
                "vcf",
                "anna@example.test",
                corpus("vcard", f).to_str().unwrap(),
            ],
        );
        assert!(out["skipped"].as_array().unwrap().is_empty(), "{f}: {out}");
    }
    let vcf = tmp.path().join("contacts.vcf");
    admin_ok(
        cfg,
        &[
            "export",
            "vcf",
            "anna@example.test",
            "-o",
            vcf.to_str().unwrap(),
        ],
    );
    let cards = std::fs::read(&vcf).unwrap();
    for f in ["apple-contacts-v3.vcf", "google-contacts-v3.vcf"] {
        let lost = compare_vcards(&std::fs::read(corpus("vcard", f)).unwrap(), &cards, &[]);
        assert!(lost.is_empty(), "{f}: the export lost {lost:#?}");
    }
    // A malformed vCard file: the bad cards are named by line, the good stored.
    let out = admin_ok(
        cfg,
        &[
            "import",
            "vcf",
            "anna@example.test",
            corpus("vcard", "malformed.vcf").to_str().unwrap(),
        ],
    );
    assert!(!out["skipped"].as_array().unwrap().is_empty(), "{out}");
    assert!(out["skipped"][0]["line"].as_u64().is_some(), "{out}");

    // Free/busy over the stored series, through the routed client.
    let slots = exmdb
        .free_busy(&dir, 1_709_251_200, 1_719_792_000, "Europe/Berlin")
        .await
        .unwrap();
    assert!(slots.len() >= 16, "{slots:?}");
    assert!(slots.windows(2).all(|w| w[0].start <= w[1].start));

    // Unknown users and formats are refused clearly.
    let (code, _, _, stderr) = admin(
        cfg,
        &[
            "import",
            "ics",
            "nobody@example.test",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    let (code, _, _, stderr) = admin(
        cfg,
        &["import", "ics", "anna@example.test", "/does/not/exist.ics"],
    );
    assert_eq!(code, 3, "{stderr}");
}
