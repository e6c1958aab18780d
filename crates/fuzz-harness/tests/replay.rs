//! Replays every corpus file and crash reproducer under tests/fuzz through
//! its target's harness on stable: a crash a fuzzer once found stays fixed.
//! A reproducer goes in `tests/fuzz/reproducers/<target>/` with its fix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz")
}

fn replay(kind: &str) -> usize {
    let mut n = 0;
    for (name, run) in groxide_fuzz_harness::TARGETS {
        let dir = fuzz_dir().join(kind).join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            eprintln!("{}", path.display());
            run(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn every_crash_reproducer_runs_clean() {
    replay("reproducers");
}

#[test]
fn every_corpus_seed_runs_clean() {
    assert!(
        replay("corpus") > 0,
        "no seeds under {}",
        fuzz_dir().display()
    );
}

#[test]
fn every_target_has_seeds() {
    for (name, _) in groxide_fuzz_harness::TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
        assert!(n > 0, "no seeds in {}", dir.display());
    }
}
