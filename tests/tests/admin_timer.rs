//! `groxide-admin timer list|show|cancel` against a real groxide-timer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{ConfigDir, free_port, run_bin, start_daemon, wait_listening};
use groxide_rpc::client::{ClientOptions, NodeAddr};
use groxide_rpc::timer_client::{TimerClient, command};
use std::net::SocketAddr;
use std::time::Duration;

fn admin(dir: &ConfigDir, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["--config-dir", dir.path().to_str().unwrap()];
    all.extend_from_slice(args);
    let (st, out, err) = run_bin("admin", &all);
    (st.code(), out, err)
}

#[test]
fn admin_lists_shows_and_cancels_timer_jobs() {
    let port = free_port("127.0.0.1".parse().unwrap());
    let dir = ConfigDir::new();
    let state = dir.path().join("timer.sqlite3");
    dir.write(
        "timer.cfg",
        &format!(
            "timer_listen_ip = 127.0.0.1\ntimer_listen_port = {port}\ntimer_hosts_allow = 127.0.0.1\n\
             timer_state_path = {}\ntimer_command_allow = /bin/true\n",
            state.display()
        ),
    );
    let _timer = start_daemon("timer", dir.path(), &[]);
    assert!(wait_listening(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(10)
    ));

    // A job far in the future stays pending.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let opts = ClientOptions {
            source_ip: Some("127.0.0.1".parse().unwrap()),
            ..ClientOptions::default()
        };
        let client = TimerClient::new(NodeAddr::new("127.0.0.1", port), &opts).unwrap();
        let due = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 3600;
        client.add(due, command(["/bin/true"], 10)).await.unwrap()
    });

    let (code, out, err) = admin(&dir, &["--json", "timer", "list"]);
    assert_eq!(code, Some(0), "{err}");
    let jobs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{out}");
    assert_eq!(jobs[0]["id"], id);

    let (code, out, _) = admin(&dir, &["timer", "show", &id.to_string()]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("/bin/true") && out.to_lowercase().contains("pending"),
        "{out}"
    );

    let (code, out, err) = admin(&dir, &["timer", "cancel", &id.to_string()]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Cancelling again is refused with the conflict status; unknown ids are not found.
    let (code, _, err) = admin(&dir, &["timer", "cancel", &id.to_string()]);
    assert_eq!(code, Some(4), "{err}");
    let (code, _, err) = admin(&dir, &["timer", "show", "999999"]);
    assert_eq!(code, Some(3), "{err}");
    let (code, out, _) = admin(&dir, &["timer", "list", "--state", "cancelled"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(&id.to_string()), "{out}");
}
