//! groxide as a cluster of real processes on loopback addresses: three
//! share-nothing nodes serving each other's users through RPC (LMTP at one
//! node, IMAP at another, POP3 at a third, IDLE across nodes), the
//! `*_hosts_allow` lists refusing a node (and SIGHUP restoring it), and in
//! shared-storage mode a failover after kill -9 of a node under load and a
//! rebalance back, with nothing acknowledged lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::clients::{Imap, Pop3, message};
use groxide_e2e::cluster::Storage;
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
    // Delivery's log names the refusal (the line may land just after the reply).
    let line = log_line(n2.daemon(Service::Delivery), "exmdb_hosts_allow");
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

fn shared(prefix: &str) -> ClusterOptions {
    ClusterOptions {
        storage: Storage::Shared,
        ..ClusterOptions::new(prefix, 3)
    }
}

/// The Message-IDs of every message in `user`'s INBOX, read over IMAP at `addr`.
fn inbox_ids(addr: std::net::SocketAddr, user: &str) -> Vec<String> {
    let mut imap = Imap::login_select(addr, user, PASSWORD, "INBOX")
        .unwrap_or_else(|e| panic!("{user} at {addr}: {e}"));
    let ids = imap
        .fetch_all()
        .unwrap()
        .iter()
        .filter_map(|(_, b)| {
            String::from_utf8_lossy(b).lines().find_map(|l| {
                l.strip_prefix("Message-ID: <")
                    .map(|v| v.trim_end_matches('>').to_string())
            })
        })
        .collect();
    imap.logout();
    ids
}

/// A raw gRPC channel to `service` at `node`, calling from `source`.
fn channel(
    node: &groxide_e2e::Node,
    service: Service,
    source: std::net::IpAddr,
) -> tonic::transport::Channel {
    let opts = groxide_rpc::ClientOptions {
        source_ip: Some(source),
        ..groxide_rpc::ClientOptions::default()
    };
    let addr = groxide_rpc::NodeAddr::new(node.ip.to_string(), node.ports.of(service));
    groxide_rpc::client::channel(service.name(), &addr, &opts).unwrap()
}

#[test]
fn shared_storage_failover_after_kill_9_under_load_keeps_every_acknowledged_message() {
    use groxide_e2e::clients::lmtp_deliver;
    use groxide_rpc::pb::exmdb::v1 as xpb;
    use groxide_rpc::pb::midb::v1 as mpb;
    use groxide_rpc::reason::{Reason, owner_of, reason_of};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let mut c = Cluster::start(shared("127.0.93"));
    c.create_domain(DOMAIN);
    let moved: Vec<String> = (1..=4).map(|i| user(&format!("c{i}"))).collect();
    let dirs: Vec<String> = moved
        .iter()
        .map(|u| c.create_user(u, PASSWORD, 2))
        .collect();
    let stay = user("alice");
    c.create_user(&stay, PASSWORD, 0);
    let (ip1, ip3) = (c.node(0).ip, c.node(2).ip);

    // Mail for node 3's users flows in through node 1's LMTP.
    let lmtp = c.node(0).addr(Service::Delivery);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let load = {
        let (stop, acked, failed, moved) =
            (stop.clone(), acked.clone(), failed.clone(), moved.clone());
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let rcpt = &moved[i % moved.len()];
                let id = format!("load-{i}@remote.test");
                let msg = message("load@remote.test", rcpt, &format!("load {i}"), &id);
                match lmtp_deliver(lmtp, "load@remote.test", &[rcpt], &msg) {
                    Ok(r) if r.len() == 1 && r[0].code == 250 => {
                        acked.lock().unwrap().push((rcpt.clone(), id));
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
                i += 1;
            }
        })
    };
    assert!(
        groxide_e2e::wait_until(Duration::from_secs(60), || acked.lock().unwrap().len()
            >= 20),
        "deliveries did not get going:\n{}",
        c.logs()
    );
    c.node_mut(2).kill_all();
    let failed_at_kill = failed.load(Ordering::SeqCst);
    assert!(
        groxide_e2e::wait_until(Duration::from_secs(30), || failed.load(Ordering::SeqCst)
            >= failed_at_kill + 3),
        "deliveries to the dead node did not fail:\n{}",
        c.logs()
    );
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();
    let acked = acked.lock().unwrap().clone();

    // Fail node 3's users over to node 1 (admin reloads node 1), then node 2.
    let sql_change = Instant::now();
    let v = c.node(0).admin_json(&[
        "failover",
        "--from",
        &ip3.to_string(),
        "--to",
        &ip1.to_string(),
    ]);
    assert_eq!(v["users"], 4, "{v}");
    c.node(1).reload();
    let imap1 = c.node(0).addr(Service::Imap);
    let mut last_error = String::new();
    let served = groxide_e2e::wait_until(Duration::from_secs(30), || {
        match Imap::login_select(imap1, &moved[0], PASSWORD, "INBOX") {
            Ok(s) => {
                s.logout();
                true
            }
            Err(e) => {
                last_error = e.to_string();
                false
            }
        }
    });
    let took = sql_change.elapsed();
    assert!(
        served,
        "node 1 never served {}: {last_error}\n{}",
        moved[0],
        c.logs()
    );
    println!(
        "failover: SQL change (groxide-admin failover) to the first IMAP LOGIN + SELECT of a moved user at the new home: {} ms",
        took.as_millis()
    );

    // Every message acknowledged before the kill is at node 1 (and node 2).
    for u in &moved {
        let at1 = inbox_ids(imap1, u);
        let at2 = inbox_ids(c.node(1).addr(Service::Imap), u);
        assert_eq!(at1, at2, "{u}: nodes 1 and 2 see the same INBOX");
        for (rcpt, id) in acked.iter().filter(|(r, _)| r == u) {
            assert!(
                at1.contains(id),
                "{rcpt}: acknowledged {id} is lost after the failover"
            );
        }
    }
    println!(
        "failover: {} deliveries acknowledged before the kill, {} refused or cut, none lost",
        acked.len(),
        failed.load(Ordering::SeqCst)
    );
    // New mail for the moved users is accepted at both remaining nodes.
    for u in &moved {
        c.node(0).deliver_ok(
            u,
            &message("a@remote.test", u, "after failover", "af1@remote.test"),
        );
        c.node(1).deliver_ok(
            u,
            &message("a@remote.test", u, "after failover", "af2@remote.test"),
        );
    }
    c.node(0).deliver_ok(
        &stay,
        &message("a@remote.test", &stay, "still here", "s1@remote.test"),
    );

    // Node 3 comes back: it refuses the stores it no longer holds.
    c.node_mut(2).start_all(&Service::STORE);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let n3 = c.node(2);
        let st = xpb::exmdb_client::ExmdbClient::new(channel(n3, Service::Exmdb, ip3))
            .get_store_info(xpb::StoreRequest {
                dir: dirs[0].clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&st), Some(Reason::StoreNotHere), "{st:?}");
        assert_eq!(owner_of(&st), Some(format!("{ip1}:{}", n3.ports.exmdb)));
        let st = mpb::midb_client::MidbClient::new(channel(n3, Service::Midb, ip3))
            .mailbox_status(mpb::MailboxStatusRequest {
                dir: dirs[0].clone(),
                name: "INBOX".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&st), Some(Reason::StoreNotHere), "midb: {st:?}");
        assert_eq!(owner_of(&st), Some(format!("{ip1}:{}", n3.ports.midb)));
    });
}

/// Every selectable mailbox of `user` with the SHA-256 of each message, by UID.
fn mailbox_digest(addr: std::net::SocketAddr, user: &str) -> Vec<(String, Vec<[u8; 32]>)> {
    use sha2::Digest;
    let mut imap = Imap::connect(addr).unwrap();
    imap.login(user, PASSWORD)
        .unwrap_or_else(|e| panic!("{user}: {e}"));
    let mut names = imap.mailboxes().unwrap();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        imap.ok(&format!("EXAMINE {}", groxide_e2e::clients::quote(&name)))
            .unwrap_or_else(|e| panic!("{user} {name}: {e}"));
        let hashes = imap
            .fetch_all()
            .unwrap()
            .iter()
            .map(|(_, b)| sha2::Sha256::digest(b).into())
            .collect();
        out.push((name, hashes));
    }
    imap.logout();
    out
}

#[test]
fn rebalance_after_a_failover_spreads_users_over_three_nodes_and_loses_nothing() {
    let mut c = Cluster::start(shared("127.0.94"));
    c.create_domain(DOMAIN);
    let users: Vec<String> = (0..9).map(|i| user(&format!("u{i}"))).collect();
    for (i, u) in users.iter().enumerate() {
        c.create_user(u, PASSWORD, i % 3);
        for n in 0..3 {
            c.node(n).deliver_ok(
                u,
                &message(
                    "a@remote.test",
                    u,
                    &format!("m{n}"),
                    &format!("{i}.{n}@remote.test"),
                ),
            );
        }
    }
    // A mailbox of its own and a moved message, made over IMAP at another node.
    let mut imap =
        Imap::login_select(c.node(1).addr(Service::Imap), &users[2], PASSWORD, "INBOX").unwrap();
    imap.ok("CREATE Archive").unwrap();
    imap.ok("UID MOVE 1 Archive").unwrap();
    imap.logout();

    // Node 3 fails; its users go to node 1; more mail arrives for them.
    let (ip1, ip3) = (c.node(0).ip.to_string(), c.node(2).ip.to_string());
    c.node_mut(2).kill_all();
    c.node(0).admin(&["failover", "--from", &ip3, "--to", &ip1]);
    c.node(1).reload();
    for u in users.iter().skip(2).step_by(3) {
        c.node(1)
            .deliver_ok(u, &message("a@remote.test", u, "during", "d@remote.test"));
    }
    let homes = |c: &Cluster| -> Vec<u64> {
        let list = c.node(0).admin_json(&["user", "list"]);
        let mut count = [0u64; 4];
        for u in list.as_array().unwrap() {
            count[u["homeserver"].as_u64().unwrap() as usize] += 1;
        }
        count[1..].to_vec()
    };
    assert_eq!(homes(&c), [6, 3, 0], "after the failover");
    let imap2 = c.node(1).addr(Service::Imap);
    let before: Vec<_> = users.iter().map(|u| mailbox_digest(imap2, u)).collect();

    // Node 3 is back: rebalance, SIGHUP everywhere.
    c.node_mut(2).start_all(&Service::ALL);
    let v = c.node(0).admin_json(&["rebalance"]);
    assert_eq!(v["moved"], 3, "{v}");
    c.reload_all();
    assert_eq!(homes(&c), [3, 3, 3], "after the rebalance");

    // Nothing lost, nothing changed: the same mailboxes, counts and bytes, seen from every node.
    for n in 0..3 {
        let addr = c.node(n).addr(Service::Imap);
        let after: Vec<_> = users.iter().map(|u| mailbox_digest(addr, u)).collect();
        assert_eq!(after, before, "seen from node {}", n + 1);
    }
    assert!(
        before[2]
            .iter()
            .any(|(name, h)| name == "Archive" && h.len() == 1)
    );
    // And every user takes new mail at its (new) home.
    for u in &users {
        c.node(2).deliver_ok(
            u,
            &message("a@remote.test", u, "after", "after@remote.test"),
        );
    }
}

#[test]
fn rpc_between_nodes_over_tls_with_client_certificates_refuses_a_node_without_one() {
    use groxide_rpc::pb::exmdb::v1 as xpb;
    let c = Cluster::start(ClusterOptions {
        rpc_tls: true,
        ..ClusterOptions::new("127.0.95", 2)
    });
    c.create_domain(DOMAIN);
    let bob = user("bob");
    let dir = c.create_user(&bob, PASSWORD, 1);
    // LMTP at node 1 → exmdb at node 2, IMAP at node 1 → midb and event at node 2: all TLS.
    let mut idler = Imap::login_select(c.node(0).addr(Service::Imap), &bob, PASSWORD, "INBOX")
        .unwrap_or_else(|e| panic!("{e}\n{}", c.logs()));
    idler.idle().unwrap();
    let raw = message("a@remote.test", &bob, "over tls", "tls1@remote.test");
    c.node(0).deliver_ok(&bob, &raw);
    let seen = idler
        .idle_until(Instant::now() + IDLE_DEADLINE, |l| l.ends_with(" EXISTS"))
        .unwrap();
    assert_eq!(seen.as_deref(), Some("* 1 EXISTS"), "{}", c.logs());
    idler.done().unwrap();
    assert!(idler.fetch_all().unwrap()[0].1.ends_with(&raw));

    // The same call from node 1's address: with the cluster CA's client
    // certificate it is served; without one, or in plain text, it is refused.
    let (n1, n2) = (c.node(0), c.node(1));
    let ca = c.ca.as_ref().unwrap();
    let (cert, key) = ca.issue(n1.ip, c.root(), "client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let call = |tls: Option<std::sync::Arc<rustls::ClientConfig>>| {
        rt.block_on(async {
            let opts = groxide_rpc::ClientOptions {
                source_ip: Some(n1.ip),
                tls,
                ..groxide_rpc::ClientOptions::default()
            };
            let addr = groxide_rpc::NodeAddr::new(n2.ip.to_string(), n2.ports.exmdb);
            let ch = groxide_rpc::client::channel("exmdb", &addr, &opts).unwrap();
            xpb::exmdb_client::ExmdbClient::new(ch)
                .get_store_info(xpb::StoreRequest { dir: dir.clone() })
                .await
        })
    };
    let with_cert = groxide_rpc::tls::client_config(&ca.pem, Some((&cert, &key))).unwrap();
    call(Some(with_cert)).unwrap();
    let without = groxide_rpc::tls::client_config(&ca.pem, None).unwrap();
    // The refusal comes as a TLS alert or a closed connection, whichever the client reads first.
    let refused = [
        tonic::Code::Unavailable,
        tonic::Code::Unknown,
        tonic::Code::Cancelled,
    ];
    let st = call(Some(without)).unwrap_err();
    assert!(refused.contains(&st.code()), "{st:?}");
    let line = log_line(n2.daemon(Service::Exmdb), "TLS handshake failed");
    assert!(line.contains(&format!("peer={}", n1.ip)), "{line}");
    assert!(line.contains("certificate"), "{line}");
    // Plain text to a TLS port: whatever the client makes of the answer, no store answers it.
    let st = call(None).unwrap_err();
    assert_eq!(groxide_rpc::reason::reason_of(&st), None, "{st:?}");
}

#[test]
fn the_seeds_failover_by_sql_update_and_sighup_works_with_a_mariadb_directory() {
    use groxide_e2e::cluster::{DirectoryBackend, mysql};
    let mut c = Cluster::start(ClusterOptions {
        directory: DirectoryBackend::MariaDb,
        ..shared("127.0.96")
    });
    c.create_domain(DOMAIN);
    let dave = user("dave");
    c.create_user(&dave, PASSWORD, 1);
    c.node(0).deliver_ok(
        &dave,
        &message("a@remote.test", &dave, "before", "m1@remote.test"),
    );
    c.node_mut(1).kill_all();
    let db = c.node(0).admin_json(&["server", "list"]);
    let id_of = |ip: std::net::IpAddr| {
        db.as_array()
            .unwrap()
            .iter()
            .find(|s| s["hostname"] == ip.to_string())
            .map(|s| s["id"].as_u64().unwrap())
            .unwrap()
    };
    let (to, from) = (id_of(c.node(0).ip), id_of(c.node(1).ip));
    let database = c.database().unwrap();
    // The seed's procedure: one UPDATE, then SIGHUP.
    mysql(&format!(
        "UPDATE `{database}`.users SET homeserver={to} WHERE homeserver={from}"
    ));
    c.node(0).reload();
    assert_eq!(
        inbox_ids(c.node(0).addr(Service::Imap), &dave),
        ["m1@remote.test"],
        "{}",
        c.logs()
    );
    c.node(0).deliver_ok(
        &dave,
        &message("a@remote.test", &dave, "after", "m2@remote.test"),
    );
    assert_eq!(
        inbox_ids(c.node(0).addr(Service::Imap), &dave),
        ["m1@remote.test", "m2@remote.test"]
    );
}
