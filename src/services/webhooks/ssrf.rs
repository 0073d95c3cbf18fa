//! The SSRF guard of webhook endpoints: which URLs may be saved, and which addresses a delivery
//! may connect to. Production takes only `https` URLs whose every address is public; development
//! also takes `http` and loopback (the tests and the demo). The check runs when a URL is saved
//! and again for every delivery, inside the HTTP client's DNS resolver, so the address connected
//! to is the one checked (a name re-pointed at a private address after saving gets nowhere).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Environment;

/// Where deliveries may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Only `https://` URLs.
    pub require_https: bool,
    /// Loopback addresses (`127.0.0.0/8`, `::1`, `localhost`) are allowed.
    pub allow_loopback: bool,
}

impl UrlPolicy {
    pub const PRODUCTION: UrlPolicy = UrlPolicy { require_https: true, allow_loopback: false };
    pub const DEVELOPMENT: UrlPolicy = UrlPolicy { require_https: false, allow_loopback: true };

    pub fn for_environment(environment: Environment) -> Self {
        match environment {
            Environment::Production => Self::PRODUCTION,
            Environment::Development => Self::DEVELOPMENT,
        }
    }

    /// The URL's form: scheme, host, no credentials, and an address literal checked at once.
    /// Host names are checked when resolved ([`Self::check_url`], [`GuardedResolver`]).
    pub fn parse(&self, raw: &str) -> Result<Url, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Enter the URL events are sent to.".into());
        }
        if raw.len() > 2048 {
            return Err("Keep the URL under 2,048 characters.".into());
        }
        let url = Url::parse(raw).map_err(|_| "This is not a URL such as https://example.com/webhooks.".to_string())?;
        match url.scheme() {
            "https" => {}
            "http" if !self.require_https => {}
            "http" => return Err("Use an https:// URL: events are only sent encrypted.".into()),
            _ => return Err("Use an https:// URL.".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("Leave credentials out of the URL; verify deliveries by their signature instead.".into());
        }
        match url.host() {
            None => return Err("The URL needs a host.".into()),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(_)) => {}
        }
        Ok(url)
    }

    /// Whether a delivery may connect to `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if is_loopback(ip) {
            return if self.allow_loopback { Ok(()) } else { Err(format!("{ip} is a loopback address.")) };
        }
        match forbidden(ip) {
            Some(what) => Err(format!("{ip} is {what}: events go to public addresses only.")),
            None => Ok(()),
        }
    }

    /// The URL parsed, with every address its host resolves to checked: what is saved.
    pub async fn check_url(&self, raw: &str) -> Result<Url, String> {
        let url = self.parse(raw)?;
        if let Some(url::Host::Domain(host)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            self.resolve(host, port).await?;
        }
        Ok(url)
    }

    /// Every address `host` resolves to, each checked; refused when any is not allowed (a name
    /// with one private address among public ones is refused whole).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|_| format!("{host} cannot be resolved."))?.collect();
        if addrs.is_empty() {
            return Err(format!("{host} has no address."));
        }
        for addr in &addrs {
            self.check_ip(addr.ip()).map_err(|why| format!("{host} resolves to {why}"))?;
        }
        Ok(addrs)
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// What kind of non-public address `ip` is, if it is one (loopback aside).
fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => "a loopback address",
        (169, 254, _) => "a link-local or cloud metadata address",
        (0, _, _) => "an unspecified address",
        (10, _, _) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a reserved address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        0xfc00..=0xfdff => "a private (unique local) address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        // NAT64 and 6to4 carry an IPv4 address: judged by it.
        0x0064 if s[1] == 0xff9b => return forbidden_v4(embedded_v4(s[6], s[7])),
        0x2002 => return forbidden_v4(embedded_v4(s[1], s[2])),
        0x0000 => "a reserved address",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard address",
        _ => return None,
    })
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// The delivery client's resolver: resolves, checks every address with the policy, and gives
/// the client only checked addresses to connect to.
pub struct GuardedResolver(pub UrlPolicy);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the client puts the URL's port in.
            let addrs = policy.resolve(&host, 0).await.map_err(Refused)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A connection the guard refused, found again in the client's error chain.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refused(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCTION: UrlPolicy = UrlPolicy::PRODUCTION;

    #[test]
    fn production_refuses_loopback_private_link_local_and_metadata_urls() {
        for url in [
            "http://127.0.0.1/hook",
            "https://127.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.7/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://100.100.100.200/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[::]/",
            "ftp://example.com/",
            "https://user:pass@example.com/",
            "not a url",
            "",
        ] {
            assert!(PRODUCTION.parse(url).is_err(), "{url} must be refused in production");
        }
        assert!(PRODUCTION.parse("http://example.com/").unwrap_err().contains("https"));
        assert!(PRODUCTION.parse("https://example.com/hooks").is_ok());
        assert!(PRODUCTION.parse("https://93.184.215.14/hooks").is_ok(), "a public address");
        assert!(PRODUCTION.parse("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/").is_ok());
    }

    #[test]
    fn development_allows_loopback_and_http_but_not_private_or_metadata() {
        let dev = UrlPolicy::DEVELOPMENT;
        assert!(dev.parse("http://127.0.0.1:8080/hook").is_ok());
        assert!(dev.parse("http://[::1]:8080/hook").is_ok());
        assert!(dev.parse("http://169.254.169.254/").is_err());
        assert!(dev.parse("http://10.1.2.3/").is_err());
    }

    #[tokio::test]
    async fn names_are_judged_by_every_address_they_resolve_to() {
        let err = PRODUCTION.check_url("https://localhost/hook").await.unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(UrlPolicy::DEVELOPMENT.check_url("http://localhost:9/hook").await.is_ok());
        let err = PRODUCTION.resolve("localhost", 443).await.unwrap_err();
        assert!(err.starts_with("localhost resolves to"), "{err}");
    }
}
