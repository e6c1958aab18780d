//! `*_hosts_allow`: which peer addresses may talk to an RPC daemon.
//!
//! gromox compares the peer's address text byte for byte with a list of
//! single addresses, so on a dual-stack socket an IPv4 client had to be listed
//! as `::ffff:10.0.0.2`. groxide compares addresses, not text: `10.0.0.2` and
//! `::ffff:10.0.0.2` are the same peer, both in the list and in the peer being
//! checked, and CIDR prefixes (`10.0.0.0/8`, `fd00::/8`) are accepted too.
//! The empty list means `::1` only, exactly as in gromox.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// Most entries one list may hold; a longer list is certainly a mistake.
pub const MAX_HOSTS_ALLOW_ENTRIES: usize = 4096;

/// One allowed address or network: `10.0.0.2`, `10.0.0.0/8`, `fd00::/8`.
///
/// IPv4-mapped IPv6 entries are stored as IPv4 (`::ffff:10.0.0.0/104` is
/// `10.0.0.0/8`), so each network has exactly one form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllowedNet {
    network: IpAddr,
    prefix_len: u8,
}

impl AllowedNet {
    /// The network address (host bits are always zero).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The number of leading bits that must match (32 or 128 for one address).
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `peer` lies in this network; IPv4 and IPv4-mapped IPv6 peers
    /// are the same peer.
    pub fn contains(&self, peer: IpAddr) -> bool {
        match (self.network, peer.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(peer)) => same_prefix(
                u128::from(u32::from(net)),
                u128::from(u32::from(peer)),
                32,
                self.prefix_len,
            ),
            (IpAddr::V6(net), IpAddr::V6(peer)) => {
                same_prefix(u128::from(net), u128::from(peer), 128, self.prefix_len)
            }
            // An IPv6 network can still cover IPv4 peers through ::ffff:0:0/96 (e.g. `::/0`).
            (IpAddr::V6(net), IpAddr::V4(peer)) => same_prefix(
                u128::from(net),
                u128::from(peer.to_ipv6_mapped()),
                128,
                self.prefix_len,
            ),
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }

    fn is_single_address(&self) -> bool {
        self.prefix_len == address_bits(self.network)
    }
}

impl fmt::Display for AllowedNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single_address() {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix_len)
        }
    }
}

impl FromStr for AllowedNet {
    type Err = BadHostsEntry;

    fn from_str(entry: &str) -> Result<AllowedNet, BadHostsEntry> {
        let bad = |reason: String| BadHostsEntry {
            entry: entry.to_string(),
            reason,
        };
        let (address_text, prefix_text) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let address: IpAddr = address_text
            .parse()
            .map_err(|_| bad("not an IP address (hostnames are not allowed)".to_string()))?;
        let bits = address_bits(address);
        let prefix_len = match prefix_text {
            None => bits,
            Some(text) => match text.parse::<u8>() {
                Ok(len) if len <= bits && text.bytes().all(|b| b.is_ascii_digit()) => len,
                _ => return Err(bad(format!("prefix length must be 0..={bits}"))),
            },
        };
        let (network, prefix_len) = normalise_mapped(address, prefix_len);
        let net = AllowedNet {
            network: masked(network, prefix_len),
            prefix_len,
        };
        if net.network != network {
            return Err(bad(format!("host bits are set (did you mean {net}?)")));
        }
        Ok(net)
    }
}

/// An entry of a hosts_allow list that is not an address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHostsEntry {
    /// The entry as written.
    pub entry: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for BadHostsEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.entry, self.reason)
    }
}

/// A hosts_allow list that could not be parsed: every bad entry, in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostsAllowError {
    /// Entries that are not IP addresses or CIDR networks.
    #[error("{}", join_bad_entries(.0))]
    BadEntries(Vec<BadHostsEntry>),
    /// More entries than [`MAX_HOSTS_ALLOW_ENTRIES`].
    #[error("{0} entries, at most {MAX_HOSTS_ALLOW_ENTRIES} allowed")]
    TooManyEntries(usize),
}

fn join_bad_entries(entries: &[BadHostsEntry]) -> String {
    entries
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A parsed `*_hosts_allow` value: the peers an RPC daemon accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsAllow {
    entries: Vec<AllowedNet>,
    is_default: bool,
}

impl HostsAllow {
    /// Parses a space-separated list of addresses and CIDR networks; the empty
    /// list means `::1` only.
    pub fn parse(text: &str) -> Result<HostsAllow, HostsAllowError> {
        let entries = parse_nets(text)?;
        if entries.is_empty() {
            return Ok(HostsAllow::default());
        }
        Ok(HostsAllow {
            entries,
            is_default: false,
        })
    }

    /// Whether a connection from `peer` may be served.
    pub fn allows(&self, peer: IpAddr) -> bool {
        self.entries.iter().any(|net| net.contains(peer))
    }

    /// True when the list was empty and so stands for `::1` only.
    pub fn is_default(&self) -> bool {
        self.is_default
    }

    /// The allowed networks, in the order written, duplicates removed.
    pub fn entries(&self) -> &[AllowedNet] {
        &self.entries
    }
}

impl Default for HostsAllow {
    /// `::1` only: what an empty list means.
    fn default() -> HostsAllow {
        let loopback = AllowedNet {
            network: IpAddr::V6(Ipv6Addr::LOCALHOST),
            prefix_len: 128,
        };
        HostsAllow {
            entries: vec![loopback],
            is_default: true,
        }
    }
}

impl FromStr for HostsAllow {
    type Err = HostsAllowError;

    fn from_str(text: &str) -> Result<HostsAllow, HostsAllowError> {
        HostsAllow::parse(text)
    }
}

impl fmt::Display for HostsAllow {
    /// The entries separated by spaces, e.g. `::1 10.0.0.0/8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, net) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// Parses space-separated addresses and networks, duplicates dropped; every
/// bad entry is reported.
fn parse_nets(text: &str) -> Result<Vec<AllowedNet>, HostsAllowError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > MAX_HOSTS_ALLOW_ENTRIES {
        return Err(HostsAllowError::TooManyEntries(words.len()));
    }
    let mut entries = Vec::with_capacity(words.len());
    let mut bad = Vec::new();
    for word in words {
        match word.parse::<AllowedNet>() {
            Ok(net) if entries.contains(&net) => {}
            Ok(net) => entries.push(net),
            Err(error) => bad.push(error),
        }
    }
    if !bad.is_empty() {
        return Err(HostsAllowError::BadEntries(bad));
    }
    Ok(entries)
}

/// A list of addresses and CIDR networks where the empty list means none,
/// e.g. `http_trusted_proxies`. Same syntax and address rules as
/// [`HostsAllow`] (IPv4 and IPv4-mapped IPv6 are the same peer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetList {
    entries: Vec<AllowedNet>,
}

impl NetList {
    /// Parses a space-separated list of addresses and CIDR networks; the
    /// empty list is empty.
    pub fn parse(text: &str) -> Result<NetList, HostsAllowError> {
        Ok(NetList {
            entries: parse_nets(text)?,
        })
    }

    /// Whether `peer` lies in one of the networks.
    pub fn contains(&self, peer: IpAddr) -> bool {
        self.entries.iter().any(|net| net.contains(peer))
    }

    /// Whether the list is empty (it then contains nobody).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The networks, in the order written, duplicates removed.
    pub fn entries(&self) -> &[AllowedNet] {
        &self.entries
    }
}

impl FromStr for NetList {
    type Err = HostsAllowError;

    fn from_str(text: &str) -> Result<NetList, HostsAllowError> {
        NetList::parse(text)
    }
}

fn address_bits(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `::ffff:a.b.c.d/n` with n ≥ 96 is the IPv4 network `a.b.c.d/(n-96)`.
fn normalise_mapped(address: IpAddr, prefix_len: u8) -> (IpAddr, u8) {
    if let IpAddr::V6(v6) = address
        && let Some(v4) = v6.to_ipv4_mapped()
        && prefix_len >= 96
    {
        return (IpAddr::V4(v4), prefix_len - 96);
    }
    (address, prefix_len)
}

fn masked(address: IpAddr, prefix_len: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4) & (prefix_mask(32, prefix_len) as u32);
            IpAddr::V4(bits.into())
        }
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & prefix_mask(128, prefix_len)).into()),
    }
}

/// A mask of `prefix_len` leading one bits in a `width`-bit number.
fn prefix_mask(width: u8, prefix_len: u8) -> u128 {
    if prefix_len == 0 {
        return 0;
    }
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    all & (all << (width - prefix_len))
}

fn same_prefix(a: u128, b: u128, width: u8, prefix_len: u8) -> bool {
    let mask = prefix_mask(width, prefix_len);
    a & mask == b & mask
}
