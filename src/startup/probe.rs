//! `tern healthcheck`: asks the server on `TERN_ADDR` for `/healthz`, for a container's
//! HEALTHCHECK (the slim image has no curl). Plain HTTP/1.0 over loopback, std only.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Where to reach a server listening on `addr` from the same host (a wildcard address is
/// reached on loopback).
pub fn local_target(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

/// Ok when `GET /healthz` on `addr` answers 200 within `timeout`.
pub fn probe_health(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let target = local_target(addr);
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut answer = String::new();
    stream.take(4096).read_to_string(&mut answer)?;
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("{target}/healthz answered {status:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_address_is_probed_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(local_target(any), "127.0.0.1:8080".parse().unwrap());
        let given: SocketAddr = "10.1.2.3:9000".parse().unwrap();
        assert_eq!(local_target(given), given);
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(probe_health(addr, Duration::from_millis(500)).is_err());
    }
}
