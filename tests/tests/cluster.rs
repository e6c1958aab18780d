//! groxide as a cluster of real processes on loopback addresses: three
//! share-nothing nodes serving each other's users through RPC (LMTP at one
//! node, IMAP at another, POP3 at a third, IDLE across nodes), the
//! `*_hosts_allow` lists refusing a node (and SIGHUP restoring it), and in
//! shared-storage mode a failover after kill -9 of a node under load and a
//! rebalance back, with nothing acknowledged lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::clients::{Imap, Pop3, message};
use groxide_e2e::{Cluster, ClusterOptions, Service};
use std::time::{Duration, Instant};

const DOMAIN: &str = "cluster.test";
const PASSWORD: &str = "secret";
/// How long a message may take to reach an idling session.
const IDLE_DEADLINE: Duration = Duration::from_secs(10);

fn user(name: &str) -> String {
    format!("{name}@{DOMAIN}")
}

#[test]
fn share_nothing_nodes_serve_each_others_users_over_lmtp_imap_pop3_and_idle() {
    let c = Cluster::start(ClusterOptions::new("127.0.90", 3));
    c.create_domain(DOMAIN);
    let carol = user("carol");
    let dir = c.create_user(&carol, PASSWORD, 2);
    assert!(
        dir.starts_with(c.node(2).data.to_str().unwrap()),
        "the store of a node-3 user lies in node 3's data dir: {dir}"
    );

    // IDLE at node 2 on carol's INBOX before anything arrives.
    let mut idler = Imap::login_select(c.node(1).addr(Service::Imap), &carol, PASSWORD, "INBOX")
        .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
    idler.idle().unwrap();

    // Delivered at node 1, stored at node 3.
    let raw = message(
        "alice@remote.test",
        &carol,
        "across the cluster",
        "x1@remote.test",
    );
    c.node(0).deliver_ok(&carol, &raw);
    assert!(
        std::path::Path::new(&dir)
            .join("exmdb/exchange.sqlite3")
            .exists(),
        "the store is at node 3"
    );

    // The idling session at node 2 hears of it through node 3's event service.
    let seen = idler
        .idle_until(Instant::now() + IDLE_DEADLINE, |l| l.ends_with(" EXISTS"))
        .unwrap();
    assert_eq!(seen.as_deref(), Some("* 1 EXISTS"), "{}", c.logs());
    assert!(idler.done().unwrap().is_ok());

    // IMAP at node 2 reads the exact bytes.
    let got = idler.fetch_all().unwrap();
    assert_eq!(got.len(), 1);
    let body = &got[0].1;
    assert!(
        body.ends_with(&raw),
        "stored bytes end with the delivered message"
    );
    assert!(
        String::from_utf8_lossy(body).contains(&format!("Delivered-To: {carol}")),
        "delivery's trace header is there"
    );
    idler.logout();

    // POP3 at node 1 reads the same message.
    let mut pop = Pop3::login(c.node(0).addr(Service::Pop3), &carol, PASSWORD)
        .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
    assert_eq!(pop.stat().unwrap().0, 1);
    assert_eq!(&pop.retr(1).unwrap(), body);
    pop.quit().unwrap();
}

#[test]
fn a_node_removed_from_exmdb_hosts_allow_is_refused_and_sighup_restores_it() {
    let c = Cluster::start(ClusterOptions::new("127.0.91", 3));
    c.create_domain(DOMAIN);
    let carol = user("carol");
    c.create_user(&carol, PASSWORD, 2);
    let (n1, n2, n3) = (c.node(0), c.node(1), c.node(2));
    n2.deliver_ok(
        &carol,
        &message("a@remote.test", &carol, "before", "b1@remote.test"),
    );

    // Node 3 stops trusting node 2's exmdb clients.
    n3.set(
        "exmdb_provider.cfg",
        "exmdb_hosts_allow",
        &format!("{} {}", n1.ip, n3.ip),
    );
    n3.reload_service(Service::Exmdb);
    let replies = n2
        .deliver(
            "a@remote.test",
            &[&carol],
            &message("a@remote.test", &carol, "refused", "r1@remote.test"),
        )
        .unwrap();
    assert_eq!(replies.len(), 1);
    assert!(
        (400..500).contains(&replies[0].code),
        "a refused node gives a temporary failure: {replies:?}"
    );
    let log = n2.daemon(Service::Delivery).log();
    let line = log
        .lines()
        .find(|l| l.contains("exmdb_hosts_allow"))
        .unwrap_or_else(|| panic!("delivery's log does not name the refusal:\n{log}"));
    assert!(line.contains("PERMISSION_DENIED"), "{line}");
    assert!(line.contains(&n2.ip.to_string()), "{line}");
    assert!(
        n3.daemon(Service::Exmdb)
            .wait_log(&format!("peer={}", n2.ip), Duration::from_secs(5)),
        "node 3 logs the refused peer:\n{}",
        n3.daemon(Service::Exmdb).log()
    );
    // groxide-admin on node 2 is refused the same way.
    let (code, out, err) = n2.try_admin(&["user", "create-store", &carol]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("exmdb_hosts_allow"), "{err}");
    // Node 1 is still trusted.
    n1.deliver_ok(
        &carol,
        &message("a@remote.test", &carol, "from node 1", "n1@remote.test"),
    );

    // SIGHUP with node 2 back on the list restores it.
    n3.set(
        "exmdb_provider.cfg",
        "exmdb_hosts_allow",
        &format!("{} {} {}", n1.ip, n2.ip, n3.ip),
    );
    n3.reload_service(Service::Exmdb);
    n2.deliver_ok(
        &carol,
        &message("a@remote.test", &carol, "after", "a1@remote.test"),
    );
    let mut imap = Imap::login_select(n2.addr(Service::Imap), &carol, PASSWORD, "INBOX").unwrap();
    let subjects: Vec<String> = imap
        .fetch_all()
        .unwrap()
        .iter()
        .map(|(_, b)| {
            String::from_utf8_lossy(b)
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
                .unwrap()
        })
        .collect();
    assert_eq!(subjects, ["before", "from node 1", "after"]);
}

/// A log line of `d` naming `needle`, waited for.
fn log_line(d: &groxide_e2e::Daemon, needle: &str) -> String {
    assert!(
        d.wait_log(needle, Duration::from_secs(10)),
        "no log line names {needle}:\n{}",
        d.log()
    );
    d.log()
        .lines()
        .find(|l| l.contains(needle))
        .unwrap()
        .to_string()
}

#[test]
fn every_rpc_client_calls_from_its_nodes_address_so_the_other_nodes_lists_decide() {
    use groxide_rpc::pb::timer::v1::JobState;
    use groxide_rpc::timer_client::{TimerClient, maintenance};
    use groxide_rpc::{ClientOptions, NodeAddr};

    let c = Cluster::start(ClusterOptions::new("127.0.92", 3));
    c.create_domain(DOMAIN);
    let carol = user("carol");
    let dir = c.create_user(&carol, PASSWORD, 2);
    let (n1, n2, n3) = (c.node(0), c.node(1), c.node(2));
    n1.deliver_ok(
        &carol,
        &message("a@remote.test", &carol, "one", "o1@remote.test"),
    );
    let trusted = format!("{} {}", n1.ip, n3.ip);
    let everyone = format!("{} {} {}", n1.ip, n2.ip, n3.ip);

    // Node 3 stops trusting node 2 on every service.
    for (file, key) in [
        ("exmdb_provider.cfg", "exmdb_hosts_allow"),
        ("midb.cfg", "midb_hosts_allow"),
        ("event.cfg", "event_hosts_allow"),
    ] {
        n3.set(file, key, &trusted);
    }
    n3.reload();

    // POP3 and IMAP at node 2 reach node 3's midb: a temporary failure, logged.
    let err = Pop3::login(n2.addr(Service::Pop3), &carol, PASSWORD)
        .and_then(|mut p| p.stat())
        .unwrap_err();
    assert!(err.to_string().contains("SYS/TEMP"), "{err}");
    let line = log_line(n2.daemon(Service::Pop3), "midb_hosts_allow");
    assert!(line.contains("PERMISSION_DENIED"), "{line}");
    let err = Imap::login_select(n2.addr(Service::Imap), &carol, PASSWORD, "INBOX").unwrap_err();
    assert!(err.to_string().contains("[UNAVAILABLE]"), "{err}");
    let line = log_line(n2.daemon(Service::Imap), "midb_hosts_allow");
    assert!(line.contains("PERMISSION_DENIED"), "{line}");

    // The timer at node 2 runs a job on carol's store at node 3: refused.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _in_runtime = rt.enter();
    let timer = TimerClient::new(
        NodeAddr::new(n2.ip.to_string(), n2.ports.timer),
        &ClientOptions {
            source_ip: Some(n2.ip),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let job = rt
        .block_on(timer.add(0, maintenance(dir.clone(), "purge-datafiles", 0)))
        .unwrap();
    let mut result = String::new();
    assert!(
        groxide_e2e::wait_until(Duration::from_secs(20), || {
            let j = rt.block_on(timer.get(job)).unwrap();
            result = j.result;
            j.state == JobState::Failed as i32 || result.contains("exmdb_hosts_allow")
        }),
        "the timer job did not fail: {result}\n{}",
        n2.daemon(Service::Timer).log()
    );
    assert!(result.contains("exmdb_hosts_allow"), "{result}");

    // midb back, event still closed to node 2: IMAP works, its event
    // subscription at node 3 is refused (and retried).
    n3.set("midb.cfg", "midb_hosts_allow", &everyone);
    n3.reload_service(Service::Midb);
    let mut idler = Imap::login_select(n2.addr(Service::Imap), &carol, PASSWORD, "INBOX").unwrap();
    idler.idle().unwrap();
    let line = log_line(n2.daemon(Service::Imap), "event_hosts_allow");
    assert!(line.contains("event subscription failed"), "{line}");

    // Every list open again: the retried subscription brings new mail to IDLE.
    n3.set("exmdb_provider.cfg", "exmdb_hosts_allow", &everyone);
    n3.set("event.cfg", "event_hosts_allow", &everyone);
    n3.reload();
    n2.deliver_ok(
        &carol,
        &message("a@remote.test", &carol, "two", "o2@remote.test"),
    );
    let seen = idler
        .idle_until(Instant::now() + Duration::from_secs(30), |l| {
            l.ends_with(" EXISTS")
        })
        .unwrap();
    assert_eq!(seen.as_deref(), Some("* 2 EXISTS"), "{}", c.logs());
}
