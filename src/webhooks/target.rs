//! Where webhooks may deliver (`--webhook-allow`). By default anywhere, loopback and private
//! addresses included: a local stand-in's receivers run on `127.0.0.1`. A team's server
//! should list the networks its receivers are in, or any user who may add a webhook can make
//! the server send requests to internal services (a server-side request forgery).

use std::net::IpAddr;

/// The networks deliveries may go to; none listed means anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    networks: Vec<(IpAddr, u8)>,
}

impl Allow {
    /// Parses `CIDR,…` (`10.0.0.0/8,192.168.1.7,::1/128`); an address alone is one host.
    pub fn parse(arg: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for part in arg.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || format!("--webhook-allow: {part:?} is not an address or CIDR network");
            let (addr, bits) = match part.split_once('/') {
                Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| bad())?)),
                None => (part, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(bad());
            }
            networks.push((addr, bits));
        }
        Ok(Self { networks })
    }

    pub fn is_open(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether an address is in a listed network.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.is_open()
            || self
                .networks
                .iter()
                .any(|(net, bits)| within(ip, *net, *bits))
    }

    /// Checks a URL's host: every address it resolves to must be allowed. The reason when not.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        if self.is_open() {
            return Ok(());
        }
        let (host, port) = host_and_port(url).ok_or("the URL has no host")?;
        let addrs: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .map(|a| a.ip())
                .collect(),
        };
        match addrs.iter().find(|ip| !self.allows(**ip)) {
            Some(ip) => Err(format!("{ip} is not in --webhook-allow")),
            None if addrs.is_empty() => Err(format!("{host} has no address")),
            None => Ok(()),
        }
    }
}

fn within(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The host and port of a URL, as the sender parses it (the WHATWG rules), so that the host
/// checked is the host called.
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_matches(['[', ']']).to_owned();
    Some((host, parsed.port_or_known_default()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_allow_what_is_in_them_only() {
        let allow = Allow::parse("10.0.0.0/8, 192.168.1.7, ::1/128").unwrap();
        assert!(allow.allows("10.20.30.40".parse().unwrap()));
        assert!(allow.allows("192.168.1.7".parse().unwrap()));
        assert!(!allow.allows("192.168.1.8".parse().unwrap()));
        assert!(!allow.allows("127.0.0.1".parse().unwrap()));
        assert!(allow.allows("::1".parse().unwrap()));
        assert!(allow.allows("::ffff:10.1.2.3".parse().unwrap()));
        assert!(Allow::default().allows("127.0.0.1".parse().unwrap()));
        assert!(Allow::parse("10.0.0.0/33").is_err());
        assert!(Allow::parse("intranet").is_err());
    }

    #[tokio::test]
    async fn urls_are_checked_by_the_addresses_of_their_host() {
        let allow = Allow::parse("10.0.0.0/8").unwrap();
        assert!(allow.check("http://10.1.1.1:9000/hook").await.is_ok());
        assert!(allow.check("http://127.0.0.1:9000/hook").await.is_err());
        assert!(allow.check("http://localhost/hook").await.is_err());
        assert!(allow.check("https://[::1]/hook").await.is_err());
        // A backslash ends the host as the sender reads it: the host is 169.254.169.254.
        let sneaky = "http://169.254.169.254\\@10.0.0.1/";
        assert!(allow.check(sneaky).await.is_err());
    }
}
