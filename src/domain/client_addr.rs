//! Who the client is behind proxies: `TERN_TRUSTED_PROXIES` as CIDR blocks, `Forwarded`
//! (RFC 7239) and `X-Forwarded-For` read only when the connection comes from one of them, and
//! the group a client's address counts in for rate limits (an IPv6 /64, one IPv4 address).

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// One block of addresses, such as `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u32::from(net).into(), 32, self.prefix) == mask(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(net), 128, self.prefix) == mask(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn mask(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits >> (width - prefix) }
}

/// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = canonical(addr.parse::<IpAddr>().map_err(|_| format!("{s:?} is not an address or CIDR block"))?);
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= width).ok_or_else(|| format!("{s:?} has a bad prefix length"))?
            }
        };
        Ok(Cidr { network, prefix })
    }
}

/// The proxies whose forwarding headers are believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma-separated list of CIDR blocks (`TERN_TRUSTED_PROXIES`).
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',').filter(|s| !s.trim().is_empty()).map(Cidr::from_str).collect::<Result<_, _>>().map(Self)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the peer itself unless it is a trusted proxy; then the hops it
    /// forwards (`Forwarded` first, else `X-Forwarded-For`) are walked from the nearest, and the
    /// first one that is not a trusted proxy is the client. A hop that does not parse stops the
    /// walk at the last trusted address, so a forged entry never picks the answer.
    pub fn client(&self, peer: IpAddr, forwarded: Option<&str>, x_forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = match (forwarded, x_forwarded_for) {
            (Some(f), _) => forwarded_hops(f),
            (None, Some(x)) => x.split(',').map(|h| parse_hop(h.trim())).collect(),
            (None, None) => return peer,
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) => {
                    client = canonical(ip);
                    if !self.trusts(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The `for=` of each element of a `Forwarded` header, in order.
fn forwarded_hops(header: &str) -> Vec<Option<IpAddr>> {
    header
        .split(',')
        .map(|element| {
            let value = element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim().trim_matches('"'))
            });
            value.and_then(parse_hop)
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<Ipv6Addr>().ok()).map(IpAddr::V6);
    }
    hop.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse::<IpAddr>().ok()))
}

/// The key a client's address counts under for rate limits: an IPv4 address alone, an IPv6
/// address by its /64 (one subscriber's network hands out the whole /64).
pub fn rate_limit_group(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(canonical) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_contain_their_addresses() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.200.3")) && !block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "an IPv4-mapped address is the IPv4 one");
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err() && "nope".parse::<Cidr>().is_err());
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
        assert!(TrustedProxies::parse("10.0.0.0/8, ::1").unwrap().trusts(ip("::1")));
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // Straight from the internet: the headers are the client's own words, ignored.
        assert_eq!(proxies.client(ip("203.0.113.9"), None, Some("1.2.3.4")), ip("203.0.113.9"));
        // Through our proxy: the hop before it.
        assert_eq!(proxies.client(ip("10.0.0.2"), None, Some("1.2.3.4, 198.51.100.7")), ip("198.51.100.7"));
        // Two of our proxies in a row are skipped; the client's own forged entry is not reached.
        assert_eq!(proxies.client(ip("10.0.0.2"), None, Some("6.6.6.6, 198.51.100.7, 10.0.0.5")), ip("198.51.100.7"));
        assert_eq!(
            proxies.client(ip("10.0.0.2"), Some(r#"for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711""#), None),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(proxies.client(ip("10.0.0.2"), Some("for=unknown"), Some("1.2.3.4")), ip("10.0.0.2"));
        assert_eq!(proxies.client(ip("10.0.0.2"), None, Some("198.51.100.7:8080")), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("10.0.0.2"), None, None), ip("10.0.0.2"));
        assert_eq!(TrustedProxies::default().client(ip("10.0.0.2"), None, Some("1.2.3.4")), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        assert_eq!(rate_limit_group("2001:db8:1:2:aaaa::1"), rate_limit_group("2001:db8:1:2:bbbb::9"));
        assert_ne!(rate_limit_group("2001:db8:1:2::1"), rate_limit_group("2001:db8:1:3::1"));
        assert_eq!(rate_limit_group("192.0.2.1"), "192.0.2.1");
        assert_ne!(rate_limit_group("192.0.2.1"), rate_limit_group("192.0.2.2"));
    }
}
