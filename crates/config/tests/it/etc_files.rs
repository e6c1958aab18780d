//! etc/ in the repository must be exactly the rendered default files.

use std::path::Path;

use groxide_config::{Config, render_default_file, schema};

#[test]
fn etc_files_are_up_to_date() {
    let etc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc");
    let mut stale = Vec::new();
    for daemon in schema::all() {
        let on_disk = std::fs::read_to_string(etc.join(daemon.file)).unwrap_or_default();
        if on_disk != render_default_file(daemon) {
            stale.push(format!(
                "etc/{} is out of date: run `cargo xtask gen-etc`",
                daemon.file
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn a_rendered_default_file_sets_nothing() {
    for daemon in schema::all() {
        let text = render_default_file(daemon);
        assert!(
            text.lines()
                .all(|line| line.is_empty() || line.starts_with('#')),
            "{}",
            daemon.file
        );
        let loaded = Config::from_str_for_tests(Path::new("/etc/groxide"), daemon, &text, &text);
        let (config, warnings) =
            loaded.unwrap_or_else(|errors| panic!("{}: {errors}", daemon.file));
        assert_eq!(warnings, vec![]);
        assert!(
            config
                .entries()
                .all(|(_, _, origin)| *origin == groxide_config::Origin::Default)
        );
    }
}

#[test]
fn uncommenting_every_line_of_a_default_file_reproduces_the_defaults() {
    for daemon in schema::all() {
        let uncommented: String = render_default_file(daemon)
            .lines()
            .filter(|line| line.starts_with('#') && line.contains(" =") && !line.starts_with("# "))
            .map(|line| format!("{}\n", &line[1..]))
            .collect();
        // groxide.cfg may hold any daemon's keys, so the same text serves as both files.
        let loaded = Config::from_str_for_tests(
            Path::new("/etc/groxide"),
            daemon,
            &uncommented,
            &uncommented,
        );
        let (config, warnings) =
            loaded.unwrap_or_else(|errors| panic!("{}: {errors}", daemon.file));
        assert_eq!(warnings, vec![], "{}", daemon.file);
        for spec in daemon.keys {
            assert_eq!(
                config.string(spec.name),
                spec.default,
                "{}: {}",
                daemon.file,
                spec.name
            );
            assert!(
                matches!(
                    config.origin(spec.name),
                    groxide_config::Origin::File { .. }
                ),
                "{}",
                spec.name
            );
        }
    }
}
