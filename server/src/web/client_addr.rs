//! Who is asking: the socket peer, or, when the peer is a trusted reverse proxy, the address it
//! reports in X-Forwarded-For. Login throttling counts failures per this address, so behind a
//! proxy it must be the client's, and it must never come from a header anyone could forge.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::server::ssr::ClientAddr;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Response};
use axum::middleware::Next;
use ipnet::IpNet;

pub(super) async fn resolve(
    State(trusted): State<Arc<Vec<IpNet>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response<Body> {
    let client = client_addr(peer.ip(), request.headers(), &trusted);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

/// Proxies append the address they received a request from, so the list reads client, proxy 1,
/// proxy 2, … and the peer is the last proxy. Walking from the right, the first address that is
/// not a trusted proxy is the client: everything left of it could have been written by the
/// client itself.
fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // A malformed entry ends what we can believe: the nearest trusted hop is the answer.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn with_xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let forged = with_xff(&["203.0.113.7"]);
        assert_eq!(client_addr(ip("198.51.100.1"), &forged, &[]), ip("198.51.100.1"));
        assert_eq!(client_addr(ip("198.51.100.1"), &forged, &["10.0.0.0/8".parse().unwrap()]), ip("198.51.100.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged a first entry; the proxies appended the real address and their own.
        let headers = with_xff(&["1.2.3.4, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(client_addr(ip("10.0.0.1"), &headers, &trusted), ip("203.0.113.7"));
        assert_eq!(client_addr(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"), "no header: the proxy itself");
        assert_eq!(client_addr(ip("10.0.0.1"), &with_xff(&["garbage, 10.0.0.3"]), &trusted), ip("10.0.0.3"));
        assert_eq!(client_addr(ip("10.0.0.1"), &with_xff(&["2001:db8::1"]), &trusted), ip("2001:db8::1"));
    }
}
