//! Which hosts count as this node.

use std::net::IpAddr;

use groxide_routing::LocalNode;

fn node(host_id: &str, addresses: &[&str]) -> LocalNode {
    LocalNode::new(
        host_id,
        addresses
            .iter()
            .map(|a| a.parse::<IpAddr>().unwrap())
            .collect(),
    )
}

#[track_caller]
fn check(node: &LocalNode, hosts: &[(&str, bool)]) {
    for (host, expected) in hosts {
        assert_eq!(
            node.is_local(host),
            *expected,
            "{node:?} is_local({host:?})"
        );
    }
}

#[test]
fn the_host_id_is_local_in_any_case() {
    let n = node("mx1.example.org", &["10.0.0.1"]);
    check(
        &n,
        &[
            ("mx1.example.org", true),
            ("MX1.Example.ORG", true),
            ("mx2.example.org", false),
            ("mx1", false),
        ],
    );
}

#[test]
fn an_empty_host_id_matches_nothing() {
    check(&node("", &["10.0.0.1"]), &[("", false), ("10.0.0.1", true)]);
}

#[test]
fn configured_addresses_are_local_in_either_ipv4_spelling() {
    let n = node("n1", &["10.0.0.1", "::ffff:10.0.0.5", "2001:db8::1"]);
    check(
        &n,
        &[
            ("10.0.0.1", true),
            ("::ffff:10.0.0.1", true),
            ("10.0.0.5", true),
            ("[2001:db8::1]", true),
            ("2001:db8::1", true),
            ("10.0.0.2", false),
            ("2001:db8::2", false),
        ],
    );
}

#[test]
fn another_loopback_address_is_another_node() {
    let n = node("n3", &["127.0.0.3"]);
    check(
        &n,
        &[
            ("127.0.0.3", true),
            ("127.0.0.2", false),
            ("127.0.0.1", false),
            ("::1", false),
            ("localhost", false),
            ("0.0.0.0", false),
        ],
    );
}

#[test]
fn loopback_and_unspecified_aliases_are_local_only_for_a_wildcard_listener() {
    let dual_stack = node("n", &["::"]);
    check(
        &dual_stack,
        &[
            ("::1", true),
            ("127.0.0.1", true),
            ("127.0.0.9", true),
            ("localhost", true),
            ("::", true),
            ("0.0.0.0", true),
            ("10.0.0.1", false),
        ],
    );
    let ipv4_only = node("n", &["0.0.0.0"]);
    check(
        &ipv4_only,
        &[
            ("127.0.0.1", true),
            ("localhost", true),
            ("0.0.0.0", true),
            ("::1", false),
            ("::", false),
        ],
    );
    let loopback_v6 = node("n", &["::1"]);
    check(
        &loopback_v6,
        &[("::1", true), ("localhost", true), ("127.0.0.1", false)],
    );
}

#[test]
fn hostnames_are_never_resolved() {
    check(
        &node("n1", &["127.0.0.1", "::1"]),
        &[("db1.example.org", false), ("localhost", true)],
    );
}
