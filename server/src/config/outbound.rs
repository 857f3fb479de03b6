//! Outbound calls to addresses teams give (webhook endpoints; later notification webhooks, feeds,
//! media): which internal networks the operator allows. Read by the web app, which refuses such
//! URLs when they are added, and by the worker, which checks every connection again.

use clap::Args;
use crier_outbound::{ALLOW_NETWORKS_SETTING, AddressPolicy};

use super::{ConfigError, bad};

/// Outbound settings (`crier serve` and `crier worker`).
#[derive(Args, Clone, Debug, Default)]
pub struct OutboundArgs {
    /// Internal networks Crier may call for teams (CIDR ranges or addresses, comma-separated),
    /// e.g. `10.0.0.0/8,127.0.0.1/32`. Unset, webhook endpoints (and any URL a team gives) must
    /// be public: loopback, private (RFC 1918), link-local (169.254.0.0/16, cloud metadata),
    /// unique-local IPv6, carrier-grade NAT, multicast and reserved addresses are refused, when
    /// added and at every call. Allow only networks whose every service may be called by anyone
    /// who can add an endpoint.
    #[arg(long = "outbound-allow-networks", env = "CRIER_OUTBOUND_ALLOW_NETWORKS")]
    pub allow_networks: Option<String>,
}

/// Parses the allowed networks; a bad entry names the variable and the entry.
pub fn parse(args: &OutboundArgs) -> Result<AddressPolicy, ConfigError> {
    AddressPolicy::parse(args.allow_networks.as_deref().unwrap_or_default()).map_err(|e| bad(ALLOW_NETWORKS_SETTING, e.to_string()))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn allowed_networks_parse_and_a_bad_one_names_the_variable() {
        assert_eq!(parse(&OutboundArgs::default()).unwrap(), AddressPolicy::strict());
        let parsed = parse(&OutboundArgs { allow_networks: Some("10.0.0.0/8, 127.0.0.1/32,::1".into()) }).unwrap();
        assert_eq!(parsed.allowed_networks().len(), 3);
        assert!(parsed.check("10.9.8.7".parse().unwrap()).is_ok());
        assert!(parsed.check("192.168.0.1".parse().unwrap()).is_err());
        let err = parse(&OutboundArgs { allow_networks: Some("10.0.0.0/8,office".into()) }).unwrap_err();
        assert_eq!(err.variable, "CRIER_OUTBOUND_ALLOW_NETWORKS");
        assert!(err.problem.contains("office"), "{err}");
    }

    #[test]
    fn the_variable_is_the_one_the_refusals_name() {
        #[derive(Parser)]
        struct Probe {
            #[command(flatten)]
            outbound: OutboundArgs,
        }
        let command = Probe::command();
        let env = command.get_arguments().find_map(|a| a.get_env()).unwrap();
        assert_eq!(env.to_str(), Some(ALLOW_NETWORKS_SETTING));
    }
}
