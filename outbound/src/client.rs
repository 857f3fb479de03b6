//! The HTTP client that applies the address rule at every connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::{AddressPolicy, OutboundError};

/// Resolves names for reqwest and refuses the lot when any address is refused: checked when the
/// connection is made, on the addresses it will use, so a name that resolved to a public address
/// when it was given and to an internal one now (DNS rebinding) is still refused.
///
/// Refusing every address rather than dropping the refused ones keeps the outcome the same
/// whichever address a connection would have tried first, and tells the team what is wrong.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    /// A resolver applying `policy`.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&policy, &host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Every address `host` resolves to, each allowed by `policy`.
async fn resolve_checked(policy: &AddressPolicy, host: &str) -> Result<Vec<SocketAddr>, OutboundError> {
    // Port 0: reqwest puts the URL's port (or the scheme's) in its place.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| OutboundError::Unresolvable { host: host.to_owned(), detail: e.to_string() })?
        .collect();
    if addrs.is_empty() {
        return Err(OutboundError::Unresolvable { host: host.to_owned(), detail: "no addresses".into() });
    }
    for addr in &addrs {
        policy.check_host(host, addr.ip())?;
    }
    Ok(addrs)
}

/// The IP address a URL names literally, if it does. The URL parser already turned every IPv4
/// spelling (`2130706433`, `0x7f.1`, `127.1`) into its dotted form, which is what the connector
/// connects to without asking a resolver.
fn literal_host(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(name) => name.parse().ok(),
    }
}

/// Parses `raw` as an http(s) URL with a host.
fn parse_url(raw: &str) -> Result<Url, OutboundError> {
    let url = Url::parse(raw.trim()).map_err(|e| OutboundError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::BadUrl(format!("{}:// is not http or https", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(OutboundError::BadUrl("it has no host".into()));
    }
    Ok(url)
}

/// Checks a URL a team has just given against `policy`, for a form to refuse it with words: an IP
/// literal is checked as it is; a name is resolved (within `timeout`) and refused if any of its
/// addresses is. A name that does not resolve now answers [`OutboundError::Unresolvable`] (or
/// [`OutboundError::Timeout`]), which a caller may accept: every connection is checked again.
pub async fn check_url(policy: &AddressPolicy, url: &str, timeout: Duration) -> Result<(), OutboundError> {
    let url = parse_url(url)?;
    if let Some(ip) = literal_host(&url) {
        return policy.check_host(&ip.to_string(), ip);
    }
    let host = url.host_str().unwrap_or_default();
    match tokio::time::timeout(timeout, resolve_checked(policy, host)).await {
        Ok(result) => result.map(drop),
        Err(_) => Err(OutboundError::Timeout(timeout)),
    }
}

/// How an [`OutboundClient`] calls.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The whole exchange's limit: resolving, connecting, sending, the answer's headers and any
    /// body read.
    pub timeout: Duration,
    /// Resolving and connecting's limit.
    pub connect_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Redirects followed at most (0: none; the redirect itself is the answer). Every hop is
    /// checked like the first.
    pub max_redirects: usize,
    /// The largest body [`OutboundClient::read_body`] reads, in bytes.
    pub max_body: usize,
}

impl ClientOptions {
    /// A 10-second exchange, 5 seconds to connect, no redirects, bodies up to 1 MiB.
    pub fn new(user_agent: impl Into<String>) -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            user_agent: user_agent.into(),
            max_redirects: 0,
            max_body: 1024 * 1024,
        }
    }
}

/// A reqwest client builder that applies `policy`: names resolve through [`GuardedResolver`],
/// redirects are checked hop by hop (and followed `max_redirects` times at most), and no proxy is
/// used (it would resolve names itself). Requests to IP-literal URLs skip any resolver: check
/// them first, as [`OutboundClient::request`] does, and keep this redirect policy, which checks
/// the literal hosts of redirects.
pub fn client_builder(policy: Arc<AddressPolicy>, max_redirects: usize) -> reqwest::ClientBuilder {
    let redirect_policy = policy.clone();
    reqwest::Client::builder().dns_resolver(Arc::new(GuardedResolver::new(policy))).no_proxy().redirect(reqwest::redirect::Policy::custom(
        move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.stop();
            }
            let hop = match parse_url(attempt.url().as_str()) {
                Ok(url) => url,
                Err(e) => return attempt.error(e),
            };
            match literal_host(&hop).map(|ip| redirect_policy.check_host(&ip.to_string(), ip)) {
                Some(Err(refused)) => attempt.error(refused),
                _ => attempt.follow(),
            }
        },
    ))
}

/// An HTTP client for addresses teams give: every connection is checked against its
/// [`AddressPolicy`], and every failure is an [`OutboundError`] worded for people.
#[derive(Clone, Debug)]
pub struct OutboundClient {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
    options: ClientOptions,
}

impl OutboundClient {
    /// A client applying `policy`.
    pub fn new(policy: AddressPolicy, options: ClientOptions) -> Result<Self, OutboundError> {
        let policy = Arc::new(policy);
        let http = client_builder(policy.clone(), options.max_redirects)
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent.clone())
            .build()
            .map_err(|e| OutboundError::Http(format!("the HTTP client cannot be built: {e}")))?;
        Ok(OutboundClient { http, policy, options })
    }

    /// The rule it applies.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// A request to `url`: refused at once if the URL names a refused IP address literally (no
    /// resolver sees those); names are checked when the request connects.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, OutboundError> {
        let url = parse_url(url)?;
        if let Some(ip) = literal_host(&url) {
            self.policy.check_host(&ip.to_string(), ip)?;
        }
        Ok(self.http.request(method, url))
    }

    /// A POST to `url` (see [`OutboundClient::request`]).
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, OutboundError> {
        self.request(reqwest::Method::POST, url)
    }

    /// Sends a request made by [`OutboundClient::request`]; a refusal at connection time comes
    /// back as [`OutboundError::Refused`].
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, OutboundError> {
        request.send().await.map_err(|e| self.failure(&e))
    }

    /// Reads an answer's body, refusing one larger than [`ClientOptions::max_body`] without
    /// reading more than that.
    pub async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, OutboundError> {
        let limit = self.options.max_body;
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(OutboundError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failure(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(OutboundError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Words for a reqwest failure: the resolver's or the redirect policy's own error when it is
    /// in the chain, else the kind of failure (never the URL, which may hold a receiver's token).
    fn failure(&self, error: &reqwest::Error) -> OutboundError {
        // The causes only: reqwest's own error names the URL.
        let mut source = std::error::Error::source(error);
        let mut deepest = None;
        while let Some(current) = source {
            if let Some(ours) = current.downcast_ref::<OutboundError>() {
                return ours.clone();
            }
            deepest = Some(current);
            source = current.source();
        }
        if error.is_timeout() {
            return OutboundError::Timeout(self.options.timeout);
        }
        let detail = deepest.map_or_else(|| "no details".to_owned(), ToString::to_string);
        let detail: String = detail.chars().take(200).collect();
        if error.is_connect() { OutboundError::Connect(detail) } else { OutboundError::Http(detail) }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use super::*;
    use crate::Refusal;

    /// A plain HTTP server on 127.0.0.1 answering `/` with 200 and a 100-byte body, and
    /// `/redirect` with a 302 to `target`.
    async fn server(target: &str) -> SocketAddr {
        let target = target.to_owned();
        let app = axum::Router::new().route("/", axum::routing::any(|| async { "x".repeat(100) })).route(
            "/redirect",
            axum::routing::get(move || {
                let target = target.clone();
                async move { (axum::http::StatusCode::FOUND, [(axum::http::header::LOCATION, target)]) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn loopback_allowed() -> AddressPolicy {
        AddressPolicy::parse("127.0.0.0/8,::1/128").unwrap()
    }

    #[tokio::test]
    async fn ip_literals_are_refused_before_anything_is_sent() {
        let addr = server("/").await;
        let client = OutboundClient::new(AddressPolicy::strict(), ClientOptions::new("test")).unwrap();
        for url in [
            format!("http://{addr}/"),
            format!("http://[::ffff:127.0.0.1]:{}/", addr.port()),
            format!("http://2130706433:{}/", addr.port()),
            format!("http://0x7f.1:{}/", addr.port()),
            "https://169.254.169.254/latest/meta-data/".into(),
            "https://10.0.0.1/".into(),
            "https://[::1]/".into(),
        ] {
            let err = client.post(&url).unwrap_err();
            assert!(err.is_refused(), "{url}: {err}");
        }
        let err = client.post("https://[::1]:9/").unwrap_err();
        assert!(err.to_string().starts_with("::1 is a loopback address"), "{err}");
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_refused_address_is_refused_when_connecting() {
        let addr = server("/").await;
        let client = OutboundClient::new(AddressPolicy::strict(), ClientOptions::new("test")).unwrap();
        let request = client.post(&format!("http://localhost:{}/", addr.port())).expect("a name is checked when connecting");
        let err = client.send(request).await.unwrap_err();
        assert!(
            matches!(&err, OutboundError::Refused { host, reason: Refusal::Loopback, .. } if host == "localhost"),
            "the resolver's own refusal: {err:?}"
        );
        assert!(err.to_string().contains("localhost resolves to"), "{err}");

        // Allowed by the operator, the same call goes through.
        let allowed = OutboundClient::new(loopback_allowed(), ClientOptions::new("test")).unwrap();
        let response = allowed.send(allowed.post(&format!("http://localhost:{}/", addr.port())).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
        let literal = allowed.send(allowed.post(&format!("http://{addr}/")).unwrap()).await.unwrap();
        assert_eq!(literal.status(), 200);
    }

    #[tokio::test]
    async fn redirects_are_not_followed_unless_asked_and_each_hop_is_checked() {
        let addr = server("http://169.254.169.254/latest/meta-data/").await;
        let client = OutboundClient::new(loopback_allowed(), ClientOptions::new("test")).unwrap();
        let response = client.send(client.request(reqwest::Method::GET, &format!("http://{addr}/redirect")).unwrap()).await.unwrap();
        assert_eq!(response.status(), 302, "no redirects by default: the redirect is the answer");

        let following = OutboundClient::new(loopback_allowed(), ClientOptions { max_redirects: 3, ..ClientOptions::new("test") }).unwrap();
        let err = following.send(following.request(reqwest::Method::GET, &format!("http://{addr}/redirect")).unwrap()).await.unwrap_err();
        assert!(matches!(&err, OutboundError::Refused { reason: Refusal::LinkLocal, .. }), "{err:?}");
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_cap() {
        let addr = server("/").await;
        let small = OutboundClient::new(loopback_allowed(), ClientOptions { max_body: 10, ..ClientOptions::new("test") }).unwrap();
        let response = small.send(small.request(reqwest::Method::GET, &format!("http://{addr}/")).unwrap()).await.unwrap();
        assert_eq!(small.read_body(response).await.unwrap_err(), OutboundError::TooLarge { limit: 10 });
        let enough = OutboundClient::new(loopback_allowed(), ClientOptions::new("test")).unwrap();
        let response = enough.send(enough.request(reqwest::Method::GET, &format!("http://{addr}/")).unwrap()).await.unwrap();
        assert_eq!(enough.read_body(response).await.unwrap().len(), 100);
    }

    #[tokio::test]
    async fn connection_failures_say_so_without_the_url() {
        // A port nobody listens on, allowed: the failure is the network's, not the rule's.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = OutboundClient::new(loopback_allowed(), ClientOptions::new("test")).unwrap();
        let err = client.send(client.post(&format!("http://127.0.0.1:{port}/secret-token")).unwrap()).await.unwrap_err();
        assert!(matches!(&err, OutboundError::Connect(_)), "{err:?}");
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }

    #[tokio::test]
    async fn check_url_resolves_names_and_checks_literals() {
        let strict = AddressPolicy::strict();
        let wait = Duration::from_secs(5);
        for url in ["https://127.0.0.1:9/", "https://10.0.0.1/", "https://[::1]/", "https://169.254.169.254/", "https://localhost/hook"] {
            let err = check_url(&strict, url, wait).await.unwrap_err();
            assert!(err.is_refused(), "{url}: {err}");
        }
        assert_eq!(check_url(&strict, "https://8.8.8.8/", wait).await, Ok(()));
        assert_eq!(check_url(&loopback_allowed(), "https://localhost/hook", wait).await, Ok(()));
        assert!(matches!(check_url(&strict, "ftp://example.com/", wait).await, Err(OutboundError::BadUrl(_))));
        let unresolvable = check_url(&strict, "https://name.invalid/", wait).await.unwrap_err();
        assert!(matches!(unresolvable, OutboundError::Unresolvable { .. } | OutboundError::Timeout(_)), "{unresolvable:?}");
        assert_eq!(literal_host(&Url::parse("http://[::ffff:7f00:1]/").unwrap()), Some("::ffff:127.0.0.1".parse().unwrap()));
        assert_eq!(literal_host(&Url::parse("http://127.1/").unwrap()), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
}
