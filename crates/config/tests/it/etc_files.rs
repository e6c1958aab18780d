//! etc/ in the repository must be exactly the rendered default files.

use std::path::Path;

use groxide_config::{Config, ConfigFile, Origin, render_default_file, schema};

use crate::{EveryFile, every_file};

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
    struct SetsNothing;
    impl EveryFile for SetsNothing {
        fn visit<F: ConfigFile>(&mut self) {
            let file = F::SCHEMA.file;
            let text = render_default_file(F::SCHEMA);
            assert!(
                text.lines()
                    .all(|line| line.is_empty() || line.starts_with('#')),
                "{file}"
            );
            let loaded = Config::<F>::from_str_for_tests(Path::new("/etc/groxide"), &text, &text);
            let (config, warnings) = loaded.unwrap_or_else(|errors| panic!("{file}: {errors}"));
            assert_eq!(warnings, vec![]);
            assert!(
                config
                    .entries()
                    .all(|(_, _, origin)| *origin == Origin::Default)
            );
        }
    }
    every_file(&mut SetsNothing);
}

#[test]
fn uncommenting_every_line_of_a_default_file_reproduces_the_defaults() {
    struct Uncommented;
    impl EveryFile for Uncommented {
        fn visit<F: ConfigFile>(&mut self) {
            let file = F::SCHEMA.file;
            let uncommented: String = render_default_file(F::SCHEMA)
                .lines()
                .filter(|line| {
                    line.starts_with('#') && line.contains(" =") && !line.starts_with("# ")
                })
                .map(|line| format!("{}\n", &line[1..]))
                .collect();
            // groxide.cfg may hold any daemon's keys, so the same text serves as both files.
            let loaded = Config::<F>::from_str_for_tests(
                Path::new("/etc/groxide"),
                &uncommented,
                &uncommented,
            );
            let (config, warnings) = loaded.unwrap_or_else(|errors| panic!("{file}: {errors}"));
            assert_eq!(warnings, vec![], "{file}");
            let own: Vec<_> = config
                .entries()
                .filter(|(spec, _, _)| F::SCHEMA.key(spec.name).is_some())
                .collect();
            assert_eq!(own.len(), F::SCHEMA.keys.len(), "{file}");
            for (spec, text, origin) in own {
                assert_eq!(text, spec.default, "{file}: {}", spec.name);
                assert!(matches!(origin, Origin::File { .. }), "{}", spec.name);
            }
        }
    }
    every_file(&mut Uncommented);
}
