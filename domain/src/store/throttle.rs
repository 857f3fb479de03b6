//! How often one client address may do what costs Crier (hashing a password) or could be abused
//! (creating teams, trying invite links): at most a few times per window, counted in PostgreSQL so
//! that the limit holds across every web process.
//!
//! An IPv6 client is counted by its /64: a single host is routinely given a whole /64, so counting
//! single addresses would let one client try from 2^64 of them.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::PgPool;

use crate::DomainError;
use crate::budget::Budget;

/// A costly action limited per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Costly {
    /// Creating a team.
    SignUp,
    /// Joining a team through an invite link.
    InviteAcceptance,
}

impl Costly {
    /// Its name in `address_attempt.kind`.
    fn kind(self) -> &'static str {
        match self {
            Costly::SignUp => "sign_up",
            Costly::InviteAcceptance => "invite_acceptance",
        }
    }

    /// How many per address and window, unless configured.
    pub fn default_limit(self) -> Budget {
        match self {
            // A person signs up once; an office behind one address a few times.
            Costly::SignUp => Budget { limit: 10, window: Duration::from_secs(3600) },
            // A team invites a handful of people at a time, who may share an office's address.
            Costly::InviteAcceptance => Budget { limit: 20, window: Duration::from_secs(3600) },
        }
    }
}

/// The per-address limits in force (`CRIER_SIGNUP_RATE_LIMIT`, `CRIER_INVITE_RATE_LIMIT`);
/// `None` is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressLimits {
    /// Sign-ups per address.
    pub sign_up: Option<Budget>,
    /// Invite acceptances per address.
    pub invite_acceptance: Option<Budget>,
}

impl Default for AddressLimits {
    fn default() -> Self {
        AddressLimits { sign_up: Some(Costly::SignUp.default_limit()), invite_acceptance: Some(Costly::InviteAcceptance.default_limit()) }
    }
}

impl AddressLimits {
    fn of(&self, what: Costly) -> Option<Budget> {
        match what {
            Costly::SignUp => self.sign_up,
            Costly::InviteAcceptance => self.invite_acceptance,
        }
    }
}

/// The key a client address is counted under: the address itself for IPv4, its /64 for IPv6
/// (IPv4-mapped IPv6 addresses count as the IPv4 address). Anything unreadable counts as itself.
pub fn address_key(client_addr: &str) -> String {
    match client_addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => client_addr.to_owned(),
    }
}

/// Records one `what` from `client_addr` unless the address has used up its window, in which case
/// it answers `Throttled` with the seconds until the oldest attempt leaves the window. Counting and
/// recording happen under one advisory lock per address, so concurrent requests cannot all slip
/// under the limit.
pub async fn admit(pool: &PgPool, what: Costly, client_addr: &str, limits: &AddressLimits) -> Result<(), DomainError> {
    let Some(Budget { limit, window }) = limits.of(what) else { return Ok(()) };
    let limit = i64::from(limit);
    let key = address_key(client_addr);
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended($1, 0))", format!("crier:{}:{key}", what.kind())).execute(&mut *tx).await?;
    let wait = sqlx::query_scalar!(
        r#"select extract(epoch from (at + make_interval(secs => $3) - now()))::float8 as "wait"
           from address_attempt
           where kind = $1 and client_addr = $2 and at > now() - make_interval(secs => $3)
           order by at desc offset $4::bigint - 1 limit 1"#,
        what.kind(),
        key,
        window.as_secs_f64(),
        limit,
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    if let Some(secs) = wait.filter(|s| *s > 0.0) {
        return Err(DomainError::Throttled { retry_after_secs: secs.ceil() as u64 });
    }
    sqlx::query!("insert into address_attempt (kind, client_addr) values ($1, $2)", what.kind(), key).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64", "the same /64");
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7", "a mapped IPv4 address is that address");
        assert_eq!(address_key("unknown"), "unknown");
    }
}
