//! Outbound HTTP to addresses a team gives Crier: webhook endpoints today; notification webhooks,
//! feeds, media and document URLs later.
//!
//! A URL a team types could point inside the network Crier runs in (`https://127.0.0.1:9`,
//! `https://10.0.0.1`, the cloud metadata service at `169.254.169.254`, or a name that resolves to
//! one of them), turning Crier into a way to reach what is not meant to be reachable. So:
//!
//! - **The rule** ([`classify`], [`AddressPolicy`]): loopback, private, link-local, unique-local,
//!   carrier-grade NAT, multicast, unspecified, broadcast, documentation, benchmarking and reserved
//!   addresses are refused, and so are their IPv6 spellings (IPv4-mapped, IPv4-compatible, NAT64,
//!   6to4). The operator may allow networks ([`ALLOW_NETWORKS_SETTING`]).
//! - **At every connection** ([`OutboundClient`]): the client resolves names with
//!   [`GuardedResolver`], which checks every address a name resolves to right before connecting,
//!   so a name that changes (DNS rebinding) cannot slip through. An IP-literal URL never reaches a
//!   resolver, so [`OutboundClient::request`] checks the literal itself, and so does the redirect
//!   policy for every hop. No proxy is used (a proxy would resolve the name itself).
//! - **When a URL is given** ([`check_url`]): the same rule on what the host resolves to now, so a
//!   form can say at once why an address will not be called.
//!
//! Every refusal is an [`OutboundError::Refused`] whose words name the address, what kind it is
//! and the setting that allows it.

mod address;
mod client;

use std::net::IpAddr;
use std::time::Duration;

pub use address::{AddressPolicy, Refusal, classify};
pub use client::{ClientOptions, GuardedResolver, OutboundClient, check_url, client_builder};

/// The setting (environment variable) that lists the networks an operator allows.
pub const ALLOW_NETWORKS_SETTING: &str = "CRIER_OUTBOUND_ALLOW_NETWORKS";

/// Why an outbound call was not made, or failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The host is, or resolves to, an address the policy refuses.
    #[error("{}", refused_sentence(host, *addr, *reason))]
    Refused {
        /// The host as the URL names it.
        host: String,
        /// The address refused.
        addr: IpAddr,
        /// What kind of address it is.
        reason: Refusal,
    },
    /// The URL is not an http(s) URL with a host.
    #[error("the URL cannot be called: {0}")]
    BadUrl(String),
    /// The name does not resolve (now).
    #[error("{host} does not resolve ({detail})")]
    Unresolvable {
        /// The name.
        host: String,
        /// The resolver's words.
        detail: String,
    },
    /// No complete answer within the timeout.
    #[error("no answer within {} seconds", .0.as_secs())]
    Timeout(Duration),
    /// The connection could not be made (refused, reset, TLS).
    #[error("could not connect ({0})")]
    Connect(String),
    /// The answer's body is larger than the client reads.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Any other failure of the request.
    #[error("the request failed: {0}")]
    Http(String),
    /// An entry of the allowed networks is not a network.
    #[error("`{0}` is not an IP address or CIDR range like 10.0.0.0/8")]
    BadNetwork(String),
}

/// "hooks.internal resolves to 10.0.0.5, a private address (RFC 1918). Crier does not call…"
fn refused_sentence(host: &str, addr: IpAddr, reason: Refusal) -> String {
    let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|h| h == addr);
    let what = if literal { format!("{addr} is {reason}") } else { format!("{host} resolves to {addr}, {reason}") };
    // The network to allow, as the operator would write it: the IPv4 address of a mapped one.
    let single = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(|| format!("{v6}/128"), |v4| format!("{v4}/32")),
        IpAddr::V4(v4) => format!("{v4}/32"),
    };
    format!(
        "{what}. Crier does not call internal addresses for a team; an operator who trusts that network can allow it with \
         {ALLOW_NETWORKS_SETTING} (e.g. {ALLOW_NETWORKS_SETTING}={single})."
    )
}

impl OutboundError {
    /// Whether the call was refused by the address rule (rather than failing on the network).
    pub fn is_refused(&self) -> bool {
        matches!(self, OutboundError::Refused { .. })
    }
}
