//! Which peers a hosts_allow list lets in.

use std::net::IpAddr;

use groxide_config::HostsAllow;

fn list(text: &str) -> HostsAllow {
    HostsAllow::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

/// Asserts, for each peer, whether `text` lets it in.
#[track_caller]
fn check(text: &str, peers: &[(&str, bool)]) {
    let allow = list(text);
    for (peer, expected) in peers {
        let address: IpAddr = peer.parse().unwrap();
        assert_eq!(
            allow.allows(address),
            *expected,
            "list {text:?}, peer {peer}"
        );
    }
}

#[test]
fn listed_addresses_are_allowed_and_others_refused() {
    check(
        "10.0.0.2 2001:db8::7",
        &[
            ("10.0.0.2", true),
            ("2001:db8::7", true),
            ("10.0.0.3", false),
            ("2001:db8::8", false),
            ("::1", false),
            ("127.0.0.1", false),
        ],
    );
}

#[test]
fn ipv4_and_ipv4_mapped_ipv6_are_the_same_peer_both_ways() {
    check(
        "10.0.0.2",
        &[
            ("10.0.0.2", true),
            ("::ffff:10.0.0.2", true),
            ("::ffff:10.0.0.3", false),
        ],
    );
    check(
        "::ffff:10.0.0.2",
        &[
            ("10.0.0.2", true),
            ("::ffff:10.0.0.2", true),
            ("10.0.0.3", false),
        ],
    );
    assert_eq!(list("::ffff:10.0.0.2").to_string(), "10.0.0.2");
}

#[test]
fn cidr_networks_cover_their_addresses_in_both_families() {
    check(
        "10.0.0.0/8",
        &[
            ("10.0.0.1", true),
            ("10.255.255.255", true),
            ("::ffff:10.1.2.3", true),
            ("11.0.0.1", false),
            ("9.255.255.255", false),
        ],
    );
    check(
        "::ffff:192.168.0.0/112",
        &[("192.168.7.7", true), ("192.169.0.1", false)],
    );
    assert_eq!(list("::ffff:192.168.0.0/112").to_string(), "192.168.0.0/16");
    check(
        "fd00::/8",
        &[
            ("fd12::1", true),
            ("fdff:ffff::", true),
            ("fe80::1", false),
            ("10.0.0.1", false),
        ],
    );
    check("127.0.0.2/32", &[("127.0.0.2", true), ("127.0.0.3", false)]);
    check(
        "0.0.0.0/0",
        &[
            ("192.0.2.1", true),
            ("::ffff:192.0.2.1", true),
            ("::1", false),
        ],
    );
    check(
        "::/0",
        &[("2001:db8::1", true), ("::1", true), ("192.0.2.1", true)],
    );
}

#[test]
fn the_empty_list_means_ipv6_loopback_only() {
    for text in ["", "   "] {
        let allow = list(text);
        assert!(allow.is_default());
        assert_eq!(allow.to_string(), "::1");
        check(
            text,
            &[
                ("::1", true),
                ("127.0.0.1", false),
                ("::ffff:127.0.0.1", false),
                ("10.0.0.1", false),
            ],
        );
    }
    assert!(!list("::1").is_default());
}

#[test]
fn display_lists_the_entries_without_duplicates() {
    assert_eq!(
        list("::1  10.0.0.0/8\t192.0.2.1 ::1").to_string(),
        "::1 10.0.0.0/8 192.0.2.1"
    );
}

#[track_caller]
fn check_bad(text: &str, expected: &str) {
    assert_eq!(
        HostsAllow::parse(text).err().map(|e| e.to_string()),
        Some(expected.to_string()),
        "{text:?}"
    );
}

#[test]
fn bad_entries_are_errors_that_name_each_entry() {
    check_bad(
        "db1.example.com",
        "\"db1.example.com\": not an IP address (hostnames are not allowed)",
    );
    check_bad(
        "10.0.0.0/33",
        "\"10.0.0.0/33\": prefix length must be 0..=32",
    );
    check_bad(
        "fd00::/129",
        "\"fd00::/129\": prefix length must be 0..=128",
    );
    check_bad("10.0.0.0/", "\"10.0.0.0/\": prefix length must be 0..=32");
    check_bad(
        "10.0.0.0/+8",
        "\"10.0.0.0/+8\": prefix length must be 0..=32",
    );
    check_bad(
        "10.0.0.1/8",
        "\"10.0.0.1/8\": host bits are set (did you mean 10.0.0.0/8?)",
    );
    check_bad(
        "::1 host 10.0.0.0/8 10.0.0.0/99",
        "\"host\": not an IP address (hostnames are not allowed); \"10.0.0.0/99\": prefix length must be 0..=32",
    );
    let too_many = vec!["::1"; groxide_config::hosts_allow::MAX_HOSTS_ALLOW_ENTRIES + 1].join(" ");
    check_bad(&too_many, "4097 entries, at most 4096 allowed");
}

mod invariants {
    use std::net::{IpAddr, Ipv4Addr};

    use proptest::prelude::*;

    use groxide_config::HostsAllow;

    proptest! {
        #[test]
        fn a_listed_ipv4_address_allows_its_mapped_form(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            let allow = HostsAllow::parse(&v4.to_string()).unwrap();
            prop_assert!(allow.allows(IpAddr::V4(v4)));
            prop_assert!(allow.allows(IpAddr::V6(v4.to_ipv6_mapped())));
        }

        #[test]
        fn a_network_allows_exactly_the_addresses_sharing_its_prefix(net in any::<u32>(), len in 0u8..=32, peer in any::<u32>()) {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let text = format!("{}/{len}", Ipv4Addr::from(net & mask));
            let allow = HostsAllow::parse(&text).unwrap();
            prop_assert_eq!(allow.allows(IpAddr::V4(Ipv4Addr::from(peer))), peer & mask == net & mask);
        }
    }
}
