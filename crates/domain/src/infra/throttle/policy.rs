//! What the login throttle decides, as pure functions of failure records:
//! the keys an attempt counts against and how long it must wait.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::ids::EnvId;

/// The throttle's policy; the README's "Login throttling" states it for operators.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// How long failures count; a failure after it starts a fresh count.
    pub window: Duration,
    /// Failures of one username from one address within the window after
    /// which that pair waits (the last of them starts the first wait).
    pub free_per_pair: u32,
    /// The same while the username is under attack.
    pub free_per_pair_under_attack: u32,
    /// Failures of one username from all addresses together within the
    /// window that put it under attack.
    pub attack_threshold: u32,
    /// Failures from one address, any usernames, after which the address waits.
    pub free_per_address: u32,
    /// The first back-off; each further failure doubles it.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            free_per_pair: 5,
            free_per_pair_under_attack: 1,
            attack_threshold: 10,
            free_per_address: 30,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

impl ThrottlePolicy {
    /// How long a record is worth keeping after its last failure: its
    /// window and its longest back-off are both over by then.
    pub fn retention(&self) -> Duration {
        self.window + self.max_delay
    }

    fn delay_ms(&self, beyond_free: u32) -> Millis {
        let delay = self.base_delay.saturating_mul(1 << beyond_free.min(20)).min(self.max_delay);
        delay.as_millis() as Millis
    }

    /// When `record` stops backing off, if it backs off at all.
    fn until(&self, record: &Failures, free: u32) -> Option<Millis> {
        (record.count >= free).then(|| record.last + self.delay_ms(record.count - free))
    }

    /// How long an attempt must wait, given its records at `now`.
    pub fn wait(&self, now: Millis, records: &AttemptRecords) -> Option<Duration> {
        let window = self.window.as_millis() as Millis;
        let under_attack = records.username.count >= self.attack_threshold && now - records.username.first < window;
        let free = if under_attack {
            self.free_per_pair_under_attack
        } else {
            self.free_per_pair
        };
        let pair = self.until(&records.pair, free);
        let address = records.address.as_ref().and_then(|a| self.until(a, self.free_per_address));
        pair.max(address)
            .filter(|until| *until > now)
            .map(|until| Duration::from_millis((until - now) as u64))
    }
}

/// The failures counted against one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// When the current count started.
    pub first: Millis,
    pub last: Millis,
}

impl Failures {
    /// Counts one failure at `now`; a failure after the window starts afresh.
    pub fn record(&mut self, now: Millis, window: Duration) {
        if self.count == 0 || now - self.first >= window.as_millis() as Millis {
            *self = Self {
                count: 0,
                first: now,
                last: now,
            };
        }
        self.count += 1;
        self.last = now;
    }
}

/// The records an attempt is judged on.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttemptRecords {
    pub pair: Failures,
    pub username: Failures,
    /// `None` when the per-address cap does not apply.
    pub address: Option<Failures>,
}

/// Where a login attempt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginSource {
    /// Someone logging in for themselves from this address: the public
    /// service login, the account pages.
    Direct(IpAddr),
    /// A service user's backend relaying its users' logins from this
    /// address (`POST /v1/client/login`). It is exempt from the per-address
    /// cap: it speaks for many people, and its credential could reset any
    /// account's password anyway.
    Relayed(IpAddr),
}

impl LoginSource {
    fn address(self) -> IpAddr {
        match self {
            LoginSource::Direct(ip) | LoginSource::Relayed(ip) => ip,
        }
    }
}

/// Whose usernames a login names: service users and client accounts are
/// counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    ServiceUser,
    Client,
    /// Operators signing in to the console (password, then second factor).
    Operator,
    /// A partner's people signing in to the partner portal.
    Portal,
}

impl Realm {
    fn tag(self) -> &'static str {
        match self {
            Realm::ServiceUser => "svc",
            Realm::Client => "client",
            Realm::Operator => "operator",
            Realm::Portal => "portal",
        }
    }
}

/// A throttle key: a digest of what it counts, so a key is 16 bytes
/// whatever the username's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey([u8; 16]);

impl ThrottleKey {
    fn of(parts: &[&[u8]]) -> Self {
        let mut digest = Sha256::new();
        for part in parts {
            // Length-prefixed, so no two part lists share a digest input.
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        let full: [u8; 32] = digest.finalize().into();
        let mut key = [0; 16];
        key.copy_from_slice(&full[..16]);
        Self(key)
    }

    /// The key as 32 hex digits (e.g. in Redis key names).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The address as it is counted: an IPv6 client usually holds a whole /64,
/// so IPv6 addresses count by their /64 prefix.
fn address_bytes(ip: IpAddr) -> Vec<u8> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets()[..8].to_vec(),
    }
}

/// One login attempt as the throttle counts it.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt {
    /// (username, address)
    pub pair: ThrottleKey,
    /// The username, from every address.
    pub username: ThrottleKey,
    /// The address, for every username; `None` for relayed logins.
    pub address: Option<ThrottleKey>,
}

impl LoginAttempt {
    /// `username` as the realm compares it (e.g. lower-cased).
    pub fn new(env_id: &EnvId, realm: Realm, username: &str, source: LoginSource) -> Self {
        let address = address_bytes(source.address());
        let (env, realm) = (env_id.as_str().as_bytes(), realm.tag().as_bytes());
        Self {
            pair: ThrottleKey::of(&[b"pair", env, realm, username.as_bytes(), &address]),
            username: ThrottleKey::of(&[b"user", env, realm, username.as_bytes()]),
            address: match source {
                LoginSource::Direct(_) => Some(ThrottleKey::of(&[b"addr", env, &address])),
                LoginSource::Relayed(_) => None,
            },
        }
    }

    /// Every key the attempt counts against: pair, username, then address.
    pub fn keys(&self) -> Vec<ThrottleKey> {
        let mut keys = vec![self.pair, self.username];
        keys.extend(self.address);
        keys
    }

    /// Its records from `found`, given in the order of [`Self::keys`].
    pub fn records(&self, found: &[Failures]) -> AttemptRecords {
        let at = |i: usize| found.get(i).copied().unwrap_or_default();
        AttemptRecords {
            pair: at(0),
            username: at(1),
            address: self.address.map(|_| at(2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Millis = 1000;

    fn fail(f: &mut Failures, now: Millis, times: u32) {
        for _ in 0..times {
            f.record(now, ThrottlePolicy::default().window);
        }
    }

    #[test]
    fn a_pair_backs_off_after_its_free_failures_and_doubles() {
        let p = ThrottlePolicy::default();
        let mut r = AttemptRecords::default();
        fail(&mut r.pair, 0, 4);
        assert_eq!(p.wait(0, &r), None);
        fail(&mut r.pair, 0, 1);
        assert_eq!(p.wait(0, &r), Some(Duration::from_secs(1)));
        fail(&mut r.pair, 0, 2);
        assert_eq!(p.wait(0, &r), Some(Duration::from_secs(4)));
        assert_eq!(p.wait(4 * S, &r), None);
    }

    #[test]
    fn under_attack_a_pair_gets_one_free_failure_and_a_clean_pair_none_less() {
        let p = ThrottlePolicy::default();
        let mut r = AttemptRecords::default();
        fail(&mut r.username, 0, 10);
        assert_eq!(p.wait(0, &r), None, "an address without failures is heard");
        fail(&mut r.pair, 0, 1);
        assert_eq!(p.wait(0, &r), Some(Duration::from_secs(1)));
        // The attack is over once its window passes.
        let later = p.window.as_millis() as Millis;
        fail(&mut r.pair, later - 2 * S, 1);
        assert_eq!(p.wait(later, &r), None);
    }

    #[test]
    fn an_address_backs_off_for_every_username() {
        let p = ThrottlePolicy::default();
        let mut r = AttemptRecords {
            address: Some(Failures::default()),
            ..AttemptRecords::default()
        };
        fail(r.address.as_mut().unwrap(), 0, 30);
        assert_eq!(p.wait(0, &r), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_window_later_the_count_starts_again() {
        let p = ThrottlePolicy::default();
        let mut f = Failures::default();
        fail(&mut f, 0, 7);
        f.record(p.window.as_millis() as Millis, p.window);
        assert_eq!(f.count, 1);
    }

    #[test]
    fn keys_are_fixed_size_and_separate_environments_realms_and_addresses() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let long = "x".repeat(60_000);
        let a = LoginAttempt::new(&"env1".into(), Realm::Client, &long, LoginSource::Direct(ip));
        assert_eq!(a.pair.hex().len(), 32);
        let b = LoginAttempt::new(&"env2".into(), Realm::Client, &long, LoginSource::Direct(ip));
        let c = LoginAttempt::new(&"env1".into(), Realm::ServiceUser, &long, LoginSource::Direct(ip));
        assert_ne!(a.pair, b.pair);
        assert_ne!(a.address, b.address);
        assert_ne!(a.username, c.username);
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let d = LoginAttempt::new(&"env1".into(), Realm::Client, &long, LoginSource::Relayed(other));
        assert_eq!(a.username, d.username);
        assert_ne!(a.pair, d.pair);
        assert_eq!(d.address, None);
        // One IPv6 /64 is one address.
        let v6 = |s: &str| LoginAttempt::new(&"e".into(), Realm::Client, "u", LoginSource::Direct(s.parse().unwrap())).pair;
        assert_eq!(v6("2001:db8::1"), v6("2001:db8::ffff:1"));
        assert_ne!(v6("2001:db8::1"), v6("2001:db8:0:1::1"));
    }
}
