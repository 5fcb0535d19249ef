//! The address ranges webhooks may not reach: everything that is not the
//! public internet (IANA's special-purpose registries, RFC 6890 and its
//! updates), and the cloud metadata services by name. IPv6 forms that carry
//! an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
//! IPv4 address, so `[::ffff:127.0.0.1]` is loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges, most specific first (the first match names the range).
const V4: &[([u8; 4], u32, &str)] = &[
    ([169, 254, 169, 254], 32, "a cloud metadata address"),
    ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
    ([10, 0, 0, 0], 8, "a private address"),
    ([100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"),
    ([127, 0, 0, 0], 8, "a loopback address"),
    ([169, 254, 0, 0], 16, "a link-local address"),
    ([172, 16, 0, 0], 12, "a private address"),
    ([192, 0, 0, 0], 24, "an IETF protocol address"),
    ([192, 0, 2, 0], 24, "a documentation address"),
    ([192, 168, 0, 0], 16, "a private address"),
    ([198, 18, 0, 0], 15, "a benchmarking address"),
    ([198, 51, 100, 0], 24, "a documentation address"),
    ([203, 0, 113, 0], 24, "a documentation address"),
    ([224, 0, 0, 0], 4, "a multicast address"),
    ([255, 255, 255, 255], 32, "the broadcast address"),
    ([240, 0, 0, 0], 4, "a reserved address"),
];

/// IPv6 ranges, most specific first; those carrying IPv4 are handled apart.
const V6: &[(u128, u32, &str)] = &[
    (0, 128, "an unspecified address"),
    (1, 128, "a loopback address"),
    (0xfd00_0ec2_0000_0000_0000_0000_0000_0254, 128, "a cloud metadata address"),
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48, "a local-use NAT64 address"),
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, "a discard-only address"),
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 32, "a Teredo tunnel address"),
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48, "a benchmarking address"),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, "a documentation address"),
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20, "a documentation address"),
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, "a private (unique local) address"),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, "a link-local address"),
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, "a private (site-local) address"),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, "a multicast address"),
];

fn within(bits: u128, width: u32, prefix: u128, len: u32) -> bool {
    len == 0 || bits >> (width - len) == prefix >> (width - len)
}

/// The range that makes `ip` unfit for webhooks, described for a message
/// ("a loopback address"); `None` for a public internet address.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u128::from(u32::from(ip));
    V4.iter()
        .find(|(prefix, len, _)| within(bits, 32, u128::from(u32::from(Ipv4Addr::from(*prefix))), *len))
        .map(|(_, _, what)| *what)
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    if let Some((_, _, what)) = V6.iter().find(|(prefix, len, _)| within(bits, 128, *prefix, *len)) {
        return Some(what);
    }
    embedded_v4(bits).and_then(v4_range)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible
/// (`::/96`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) address.
fn embedded_v4(bits: u128) -> Option<Ipv4Addr> {
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let mapped = within(bits, 128, 0xffff_0000_0000, 96);
    let compatible = within(bits, 128, 0, 96);
    let nat64 = within(bits, 128, 0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96);
    if mapped || compatible || nat64 {
        return Some(low);
    }
    within(bits, 128, 0x2002_0000_0000_0000_0000_0000_0000_0000, 16).then(|| Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_every_non_public_range() {
        for (ip, range) in [
            ("127.0.0.1", "a loopback address"),
            ("127.255.0.9", "a loopback address"),
            ("0.0.0.0", "an unspecified (\"this network\") address"),
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.127.255.254", "a shared (carrier-grade NAT) address"),
            ("169.254.0.5", "a link-local address"),
            ("169.254.169.254", "a cloud metadata address"),
            ("192.0.0.170", "an IETF protocol address"),
            ("192.0.2.1", "a documentation address"),
            ("198.51.100.7", "a documentation address"),
            ("203.0.113.9", "a documentation address"),
            ("198.19.0.1", "a benchmarking address"),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("255.255.255.255", "the broadcast address"),
            ("240.0.0.1", "a reserved address"),
            ("::", "an unspecified address"),
            ("::1", "a loopback address"),
            ("fd00:ec2::254", "a cloud metadata address"),
            ("fd12:3456::1", "a private (unique local) address"),
            ("fc00::1", "a private (unique local) address"),
            ("fe80::1", "a link-local address"),
            ("fec0::1", "a private (site-local) address"),
            ("ff02::1", "a multicast address"),
            ("2001:db8::1", "a documentation address"),
            ("3fff::1", "a documentation address"),
            ("100::1", "a discard-only address"),
            ("2001::1", "a Teredo tunnel address"),
            ("64:ff9b:1::1", "a local-use NAT64 address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("::ffff:169.254.169.254", "a cloud metadata address"),
            ("::ffff:10.0.0.1", "a private address"),
            ("::127.0.0.1", "a loopback address"),
            ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),
            ("64:ff9b::192.168.0.1", "a private address"),
            ("2002:7f00:1::1", "a loopback address"),
            ("2002:a9fe:a9fe::", "a cloud metadata address"),
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_range(addr), Some(range), "{ip}");
        }
    }

    #[test]
    fn lets_public_addresses_through() {
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.0.1.1",
            "192.169.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_range(addr), None, "{ip}");
        }
    }
}
