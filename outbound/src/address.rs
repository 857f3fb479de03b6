//! The address rule: which IP addresses Crier refuses to connect to for a team, and the operator's
//! exemptions.
//!
//! The rule follows IANA's special-purpose registries (the ranges that are not globally reachable),
//! looking through the IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64,
//! 6to4): `::ffff:127.0.0.1` is loopback, whatever its spelling.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::OutboundError;

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// `0.0.0.0/8` ("this network") or `::`: connecting to it reaches this machine.
    Unspecified,
    /// `127.0.0.0/8` or `::1`: this machine.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918).
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT's shared address space (RFC 6598).
    SharedAddressSpace,
    /// `169.254.0.0/16` or `fe80::/10`, where cloud metadata services answer (169.254.169.254).
    LinkLocal,
    /// `fc00::/7` (RFC 4193), IPv6's private addresses.
    UniqueLocal,
    /// `fec0::/10`, the deprecated IPv6 site-local addresses.
    SiteLocal,
    /// `224.0.0.0/4` or `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`: for
    /// examples only, so a URL using one is a mistake or a trick.
    Documentation,
    /// `198.18.0.0/15` or `2001:2::/48`, for network benchmarks in a lab.
    Benchmarking,
    /// Reserved or special-purpose ranges that are not routed on the internet (`240.0.0.0/4`,
    /// `192.0.0.0/24`, Teredo, local-use NAT64, anything outside IPv6's global unicast `2000::/3`).
    Reserved,
}

impl Refusal {
    /// The kind of address, as a sentence fragment: "a loopback address (this machine)".
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::Unspecified => "an unspecified address (0.0.0.0/8 or ::, which reach this machine)",
            Refusal::Loopback => "a loopback address (this machine)",
            Refusal::Private => "a private address (RFC 1918)",
            Refusal::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            Refusal::LinkLocal => "a link-local address (where cloud metadata services answer)",
            Refusal::UniqueLocal => "a unique-local IPv6 address (fc00::/7, IPv6's private range)",
            Refusal::SiteLocal => "a site-local IPv6 address (fec0::/10)",
            Refusal::Multicast => "a multicast address",
            Refusal::Broadcast => "the broadcast address",
            Refusal::Documentation => "a documentation address (reserved for examples)",
            Refusal::Benchmarking => "a benchmarking address (198.18.0.0/15 or 2001:2::/48)",
            Refusal::Reserved => "a reserved address that is not routed on the internet",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The built-in rule alone: why `ip` is refused, or `None` for a public address.
pub fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let n = u32::from(ip);
    // Whether `ip` is in `net/prefix` (prefix 1 to 32).
    let within = |net: [u8; 4], prefix: u32| (n ^ u32::from_be_bytes(net)) >> (32 - prefix) == 0;
    Some(if n == u32::MAX {
        Refusal::Broadcast
    } else if within([0, 0, 0, 0], 8) {
        Refusal::Unspecified
    } else if within([127, 0, 0, 0], 8) {
        Refusal::Loopback
    } else if within([10, 0, 0, 0], 8) || within([172, 16, 0, 0], 12) || within([192, 168, 0, 0], 16) {
        Refusal::Private
    } else if within([100, 64, 0, 0], 10) {
        Refusal::SharedAddressSpace
    } else if within([169, 254, 0, 0], 16) {
        Refusal::LinkLocal
    } else if within([192, 0, 2, 0], 24) || within([198, 51, 100, 0], 24) || within([203, 0, 113, 0], 24) {
        Refusal::Documentation
    } else if within([198, 18, 0, 0], 15) {
        Refusal::Benchmarking
    } else if within([224, 0, 0, 0], 4) {
        Refusal::Multicast
    } else if within([240, 0, 0, 0], 4)
        // IETF protocol assignments (DS-Lite, NAT64 discovery…) and the retired 6to4 relay anycast.
        || within([192, 0, 0, 0], 24)
        || within([192, 88, 99, 0], 24)
    {
        Refusal::Reserved
    } else {
        return None;
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let n = u128::from(ip);
    // Whether `ip` is in `net/prefix` (prefix 1 to 128).
    let within = |net: &str, prefix: u32| {
        let net: Ipv6Addr = net.parse().expect("a literal network");
        (n ^ u128::from(net)) >> (128 - prefix) == 0
    };
    let low_v4 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if n == 0 {
        return Some(Refusal::Unspecified);
    }
    if n == 1 {
        return Some(Refusal::Loopback);
    }
    // ::ffff:a.b.c.d reaches a.b.c.d itself on a dual-stack socket.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    // ::a.b.c.d (IPv4-compatible, deprecated) and ::ffff:0:a.b.c.d (SIIT): nothing legitimate uses
    // them, and some stacks still translate them to the IPv4 address.
    if within("::", 96) || within("::ffff:0:0:0", 96) {
        return Some(classify_v4(low_v4).unwrap_or(Refusal::Reserved));
    }
    // NAT64's well-known prefix reaches the IPv4 address in its last 32 bits through the network's
    // translator: as public or as internal as that address.
    if within("64:ff9b::", 96) {
        return classify_v4(low_v4);
    }
    // 6to4 tunnels to the IPv4 address in bits 16 to 48.
    if within("2002::", 16) {
        return classify_v4(Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32));
    }
    Some(if within("fe80::", 10) {
        Refusal::LinkLocal
    } else if within("fc00::", 7) {
        Refusal::UniqueLocal
    } else if within("fec0::", 10) {
        Refusal::SiteLocal
    } else if within("ff00::", 8) {
        Refusal::Multicast
    } else if within("2001:db8::", 32) || within("3fff::", 20) {
        Refusal::Documentation
    } else if within("2001:2::", 48) {
        Refusal::Benchmarking
    } else if within("2001::", 32) // Teredo: a tunnel through the host's own adapter.
        || within("64:ff9b:1::", 48) // local-use NAT64 (RFC 8215)
        || within("100::", 64) // discard-only
        || !within("2000::", 3)
    {
        // Every global unicast allocation is inside 2000::/3; the rest is reserved or local.
        Refusal::Reserved
    } else {
        return None;
    })
}

/// The rule Crier applies to every address it connects to for a team: the built-in refusals
/// ([`classify`]), minus the networks the operator allows (`CRIER_OUTBOUND_ALLOW_NETWORKS`, e.g.
/// a receiver on the office network, or loopback in tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// Refuses every internal address: no network is allowed.
    pub fn strict() -> Self {
        AddressPolicy::default()
    }

    /// Allows these networks besides public addresses.
    pub fn allowing(networks: impl IntoIterator<Item = IpNet>) -> Self {
        AddressPolicy { allowed: networks.into_iter().collect() }
    }

    /// Parses the setting's value: CIDR ranges or single addresses, comma-separated (empty: none).
    pub fn parse(raw: &str) -> Result<Self, OutboundError> {
        let allowed = raw
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| OutboundError::BadNetwork(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    /// The networks allowed besides public addresses.
    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether Crier may connect to `ip`: `Err` says why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        // An IPv4-mapped address is the IPv4 address itself to the kernel, so an allowed IPv4
        // network allows its mapped form too.
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        if self.allowed.iter().any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m))) {
            return Ok(());
        }
        classify(ip).map_or(Ok(()), Err)
    }

    /// [`AddressPolicy::check`] as an error naming `host` (as the team wrote it) and the setting.
    pub fn check_host(&self, host: &str, ip: IpAddr) -> Result<(), OutboundError> {
        self.check(ip).map_err(|reason| OutboundError::Refused { host: host.to_owned(), addr: ip, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(ip: &str) -> Option<Refusal> {
        classify(ip.parse().unwrap())
    }

    #[test]
    fn every_internal_ipv4_range_is_refused_with_its_reason() {
        use Refusal::*;
        let cases = [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("192.0.2.10", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.200", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("240.0.0.1", Reserved),
            ("192.0.0.170", Reserved),
            ("192.88.99.1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(refusal(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_addresses_pass_including_the_edges_of_refused_ranges() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
        ] {
            assert_eq!(refusal(ip), None, "{ip}");
        }
        for ip in ["169.253.255.255", "169.255.0.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255"] {
            assert_eq!(refusal(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_internal_ipv6_range_is_refused_with_its_reason() {
        use Refusal::*;
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf:ffff::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd12:3456:789a::1", UniqueLocal),
            ("fec0::1", SiteLocal),
            ("ff02::1", Multicast),
            ("ff0e::1", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Reserved),
            ("64:ff9b:1::a00:1", Reserved),
            ("100::1", Reserved),
            ("4000::1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(refusal(ip), Some(expected), "{ip}");
        }
        for ip in ["2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e", "2001:4:112::1"] {
            assert_eq!(refusal(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_as_internal_as_the_ipv4_address() {
        use Refusal::*;
        let cases = [
            // IPv4-mapped.
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:7f00:1", Some(Loopback)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:100.64.0.1", Some(SharedAddressSpace)),
            ("::ffff:0.0.0.0", Some(Unspecified)),
            ("::ffff:8.8.8.8", None),
            // IPv4-compatible (deprecated): refused either way.
            ("::127.0.0.1", Some(Loopback)),
            ("::10.0.0.1", Some(Private)),
            ("::8.8.8.8", Some(Reserved)),
            // SIIT's IPv4-translated form.
            ("::ffff:0:192.168.0.1", Some(Private)),
            // NAT64's well-known prefix: through the translator to the IPv4 address.
            ("64:ff9b::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::10.1.2.3", Some(Private)),
            ("64:ff9b::8.8.8.8", None),
            // 6to4.
            ("2002:7f00:1::1", Some(Loopback)),
            ("2002:c0a8:101::1", Some(Private)),
            ("2002:808:808::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(refusal(ip), expected, "{ip}");
        }
    }

    #[test]
    fn the_operator_allows_networks_and_their_mapped_forms() {
        let policy = AddressPolicy::parse(" 10.0.0.0/8, 127.0.0.1 ,fd00::/8,").unwrap();
        assert_eq!(policy.allowed_networks().len(), 3);
        let check = |ip: &str| policy.check(ip.parse().unwrap());
        assert_eq!(check("10.1.2.3"), Ok(()));
        assert_eq!(check("127.0.0.1"), Ok(()));
        assert_eq!(check("::ffff:127.0.0.1"), Ok(()), "the mapped form of an allowed address");
        assert_eq!(check("fd00::5"), Ok(()));
        assert_eq!(check("127.0.0.2"), Err(Refusal::Loopback), "a single address allows that one only");
        assert_eq!(check("::1"), Err(Refusal::Loopback));
        assert_eq!(check("192.168.0.1"), Err(Refusal::Private));
        assert_eq!(check("8.8.8.8"), Ok(()));
        assert_eq!(AddressPolicy::parse("").unwrap(), AddressPolicy::strict());
        assert_eq!(AddressPolicy::strict().check("169.254.169.254".parse().unwrap()), Err(Refusal::LinkLocal));
    }

    #[test]
    fn a_bad_network_is_named() {
        let err = AddressPolicy::parse("10.0.0.0/8,intranet").unwrap_err();
        assert!(matches!(&err, OutboundError::BadNetwork(entry) if entry == "intranet"), "{err:?}");
        assert!(AddressPolicy::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn a_refusal_names_the_host_the_address_the_reason_and_the_setting() {
        let err = AddressPolicy::strict().check_host("hooks.internal", "10.0.0.5".parse().unwrap()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("hooks.internal") && text.contains("10.0.0.5"), "{text}");
        assert!(text.contains("private address"), "{text}");
        assert!(text.contains(crate::ALLOW_NETWORKS_SETTING), "{text}");
        let literal = AddressPolicy::strict().check_host("127.0.0.1", "127.0.0.1".parse().unwrap()).unwrap_err().to_string();
        assert!(literal.starts_with("127.0.0.1 is a loopback address"), "{literal}");
    }
}
