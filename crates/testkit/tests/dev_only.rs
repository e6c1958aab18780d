//! The test kit never reaches a release binary: every workspace package
//! takes it as a dev-dependency, except the end-to-end harness, a test-only
//! package without binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn only_dev_dependencies_and_the_e2e_harness_use_the_test_kit() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut users = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let has_bin = package["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"));
        for dep in package["dependencies"].as_array().unwrap() {
            if dep["name"] != "groxide-testkit" {
                continue;
            }
            users.push(name.to_string());
            let kind = dep["kind"].as_str().unwrap_or("normal");
            assert!(
                kind == "dev" || (name == "groxide-e2e" && !has_bin),
                "{name} takes groxide-testkit as a {kind} dependency"
            );
        }
    }
    assert!(
        users.iter().any(|u| u == "groxide-e2e"),
        "the harness uses the kit: {users:?}"
    );
}
