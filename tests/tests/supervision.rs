//! A node under the development supervisor (`cargo xtask supervise`, what
//! `cargo xtask run` uses) heals by itself: exmdb, midb, event and imap are
//! each killed with SIGKILL while mail arrives over LMTP and an IMAP client
//! reads, the supervisor starts them again, deliveries go on, and every
//! message whose delivery was acknowledged is in the mailbox afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::clients::{Imap, lmtp_deliver, message};
use groxide_e2e::{Daemon, Node, Service, wait_listening_from, wait_until, workspace_bin};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const USER: &str = "heal@example.test";
const PASSWORD: &str = "secret";

/// The supervisor process; stopped with SIGTERM (so it stops its daemons)
/// when dropped, also when the test fails.
struct Supervisor(Daemon);

impl Drop for Supervisor {
    fn drop(&mut self) {
        if self.0.exited().is_none() {
            self.0.signal("TERM");
            let _ = self.0.wait_exit(Duration::from_secs(20));
        }
    }
}

fn pid_of(pids: &Path, service: Service) -> Option<u32> {
    std::fs::read_to_string(pids.join(format!("{}.pid", service.name())))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

#[test]
fn a_supervised_node_heals_after_kill_9_under_load_and_loses_nothing_acknowledged() {
    let node = Node::standalone("127.0.190.10");
    let pids: PathBuf = node.data.join("pids");
    let services = [
        Service::Event,
        Service::Exmdb,
        Service::Midb,
        Service::Delivery,
        Service::Imap,
    ];
    let mut cmd = Command::new(workspace_bin("xtask"));
    cmd.arg("supervise")
        .arg("--config-dir")
        .arg(node.config.path())
        .arg("--pid-dir")
        .arg(&pids);
    for s in services {
        cmd.arg(s.name());
    }
    let sup = Supervisor(Daemon::spawn("xtask supervise", cmd));
    for s in services {
        assert!(
            wait_listening_from(node.addr(s), node.ip, Duration::from_secs(60)),
            "groxide-{} did not start:\n{}",
            s.name(),
            sup.0.log()
        );
    }
    node.create_domain("example.test");
    node.create_user(USER, PASSWORD, None);

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let lmtp = node.addr(Service::Delivery);
    let deliveries = {
        let stop = stop.clone();
        let acknowledged = acknowledged.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("heal-{n}@test");
                let msg = message("load@test", USER, &format!("load {n}"), &id);
                if let Ok(replies) = lmtp_deliver(lmtp, "load@test", &[USER], &msg)
                    && replies.iter().all(|r| r.is_ok())
                {
                    acknowledged.lock().unwrap().push(id);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let imap = node.addr(Service::Imap);
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut c) = Imap::login_select(imap, USER, PASSWORD, "INBOX") {
                    let _ = c.command("FETCH 1:* (FLAGS ENVELOPE)");
                    c.logout();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let acked = || acknowledged.lock().unwrap().len();
    assert!(
        wait_until(Duration::from_secs(30), || acked() >= 5),
        "mail is delivered before the kills:\n{}",
        sup.0.log()
    );

    for victim in [Service::Exmdb, Service::Midb, Service::Event, Service::Imap] {
        let pid = pid_of(&pids, victim).expect("the supervisor wrote the pid");
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        assert!(
            wait_until(Duration::from_secs(30), || pid_of(&pids, victim)
                .is_some_and(|p| p != pid)),
            "groxide-{} was not restarted:\n{}",
            victim.name(),
            sup.0.log()
        );
        assert!(
            wait_listening_from(node.addr(victim), node.ip, Duration::from_secs(60)),
            "groxide-{} did not listen again:\n{}",
            victim.name(),
            sup.0.log()
        );
        let before = acked();
        assert!(
            wait_until(Duration::from_secs(30), || acked() >= before + 3),
            "deliveries go on after groxide-{} was killed:\n{}",
            victim.name(),
            sup.0.log()
        );
    }
    stop.store(true, Ordering::Relaxed);
    deliveries.join().unwrap();
    reader.join().unwrap();

    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut client = Imap::login_select(imap, USER, PASSWORD, "INBOX").unwrap();
    let stored: Vec<String> = client
        .fetch_all()
        .unwrap()
        .into_iter()
        .map(|(_, body)| String::from_utf8_lossy(&body).into_owned())
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.iter().any(|m| m.contains(&format!("<{id}>"))))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged deliveries are missing: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    assert!(sup.0.log().contains("restarting in"), "{}", sup.0.log());
}
