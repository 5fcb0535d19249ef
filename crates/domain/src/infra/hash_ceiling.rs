//! The most a stored password hash may cost to verify.
//!
//! An imported hash carries its own cost, and every login attempt against
//! it (right or wrong, by anyone) pays that cost on a hashing worker, with
//! that much memory. So hashes are accepted only up to a ceiling close to
//! the server's own argon2id cost: at most twice its memory and twice its
//! work (memory × passes), and bcrypt up to cost 12 (what most systems that
//! use bcrypt write). The ceiling follows the configured cost but never
//! drops below the one of the default cost, so lowering `--hash-memory-kib`
//! does not refuse hashes the server made before.
//!
//! Imports above the ceiling are refused; a stored hash above it (written
//! by an older version) is never computed: its logins fail as a wrong
//! password would, after the usual dummy hash.

use argon2::password_hash::phc::PasswordHash;

use crate::infra::hashing::HashCost;

/// Highest bcrypt cost accepted (about 0.3 s a verification on a 2020s core).
pub const BCRYPT_MAX_COST: u32 = 12;

/// How costly a hash may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostCeiling {
    /// Most memory in KiB (argon2 `m`; scrypt `128 · r · 2^ln` bytes).
    pub memory_kib: u64,
    /// Most work in KiB-passes (argon2 `m · t`; scrypt `4 · p` times its memory).
    pub work_kib: u64,
    pub bcrypt_cost: u32,
}

impl CostCeiling {
    /// Twice the larger of `cost` and the default cost, in memory and in work.
    pub fn for_cost(cost: HashCost) -> Self {
        let base = HashCost::default();
        let work = |c: HashCost| u64::from(c.memory_kib) * u64::from(c.iterations);
        Self {
            memory_kib: 2 * u64::from(cost.memory_kib.max(base.memory_kib)),
            work_kib: 2 * work(cost).max(work(base)),
            bcrypt_cost: BCRYPT_MAX_COST,
        }
    }

    /// `Ok` for a hash within the ceiling, else a sentence saying which
    /// limit it exceeds. Only the cost parameters are read, whatever the
    /// rest of the string: telling well-formed hashes apart is
    /// [`crate::infra::legacy_hash::classify`]'s job.
    ///
    /// # Errors
    /// The exceeded limit, e.g. "bcrypt cost 13 is over 12".
    pub fn check(&self, phc: &str) -> Result<(), String> {
        if let Some(rest) = phc.strip_prefix("$2") {
            // `$2b$13$…`: the two digits after the variant letter.
            let Some(cost) = rest.get(2..4).and_then(|c| c.parse::<u32>().ok()) else {
                return Ok(());
            };
            return if cost > self.bcrypt_cost {
                Err(format!("bcrypt cost {cost} is over {}", self.bcrypt_cost))
            } else {
                Ok(())
            };
        }
        let Ok(parsed) = PasswordHash::new(phc) else {
            return Ok(());
        };
        let param = |name: &str| parsed.params.get_decimal(name).map(u128::from);
        match parsed.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => {
                let (Some(memory), Some(passes)) = (param("m"), param("t")) else {
                    return Ok(());
                };
                self.within("argon2", "t", memory, memory * passes)
            }
            "scrypt" => {
                let (Some(log_n), Some(r), Some(p)) = (param("ln"), param("r"), param("p")) else {
                    return Ok(());
                };
                // 128 · r · 2^ln bytes; past 2^64 it is over any ceiling anyway.
                let memory = if log_n >= 64 { u128::MAX } else { ((128 * r) << log_n) / 1024 };
                // Each of the p lanes fills its memory, then reads it all
                // back (two passes), and a pass of Salsa20/8 costs about
                // twice a pass of argon2 per KiB in the scrypt crate: four
                // argon2 passes. Measured in release, one thread: scrypt
                // ln=14,r=8,p=1 45 ms, ln=15,r=8,p=1 113 ms; argon2 26 ms at
                // the default cost, 64 ms at its ceiling.
                self.within("scrypt", "4 × p", memory, memory.saturating_mul(p).saturating_mul(4))
            }
            _ => Ok(()),
        }
    }

    fn within(&self, name: &str, factor: &str, memory_kib: u128, work_kib: u128) -> Result<(), String> {
        if memory_kib > u128::from(self.memory_kib) {
            Err(format!("{name} memory of {memory_kib} KiB is over {} KiB", self.memory_kib))
        } else if work_kib > u128::from(self.work_kib) {
            Err(format!(
                "{name} work (memory × {factor}) of {work_kib} KiB is over {} KiB",
                self.work_kib
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ceiling() -> CostCeiling {
        CostCeiling::for_cost(HashCost::default())
    }

    fn argon2(params: &str) -> String {
        format!("$argon2id$v=19${params}$c2FsdHNhbHRzYWx0c2FsdA$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY")
    }

    fn scrypt(params: &str) -> String {
        format!("$scrypt${params}$c2FsdHNhbHRzYWx0c2FsdA$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY")
    }

    fn bcrypt(cost: &str) -> String {
        format!("$2b${cost}$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie")
    }

    #[test]
    fn the_default_ceiling_is_twice_the_default_cost() {
        let c = ceiling();
        assert_eq!((c.memory_kib, c.work_kib, c.bcrypt_cost), (38_912, 77_824, 12));
        // A cheaper configured cost keeps the default's ceiling; a costlier one raises it.
        let cheap = HashCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        assert_eq!(CostCeiling::for_cost(cheap), c);
        let strong = HashCost {
            memory_kib: 65_536,
            iterations: 3,
            parallelism: 1,
        };
        let s = CostCeiling::for_cost(strong);
        assert_eq!((s.memory_kib, s.work_kib), (131_072, 393_216));
    }

    #[test]
    fn hashes_at_the_ceiling_pass_and_just_above_fail() {
        let c = ceiling();
        for ok in [
            bcrypt("04"),
            bcrypt("12"),
            argon2("m=19456,t=2,p=1"),
            argon2("m=38912,t=2,p=1"),
            argon2("m=19456,t=4,p=1"),
            argon2("m=38912,t=2,p=4"),
            scrypt("ln=14,r=8,p=1"),
            scrypt("ln=13,r=8,p=2"),
            scrypt("ln=16,r=2,p=1"),
        ] {
            assert_eq!(c.check(&ok), Ok(()), "{ok}");
        }
        for (refused, why) in [
            (bcrypt("13"), "bcrypt cost 13 is over 12"),
            (bcrypt("16"), "bcrypt cost 16 is over 12"),
            (argon2("m=38913,t=1,p=1"), "argon2 memory of 38913 KiB is over 38912 KiB"),
            (
                argon2("m=38912,t=3,p=1"),
                "argon2 work (memory × t) of 116736 KiB is over 77824 KiB",
            ),
            (argon2("m=19456,t=5,p=1"), "argon2 work (memory × t) of 97280 KiB is over 77824 KiB"),
            (scrypt("ln=16,r=8,p=1"), "scrypt memory of 65536 KiB is over 38912 KiB"),
            (
                scrypt("ln=15,r=8,p=1"),
                "scrypt work (memory × 4 × p) of 131072 KiB is over 77824 KiB",
            ),
            (
                scrypt("ln=14,r=8,p=2"),
                "scrypt work (memory × 4 × p) of 131072 KiB is over 77824 KiB",
            ),
            (
                scrypt("ln=17,r=2,p=1"),
                "scrypt work (memory × 4 × p) of 131072 KiB is over 77824 KiB",
            ),
            (bcrypt("31"), "bcrypt cost 31 is over 12"),
            (
                scrypt("ln=4294967295,r=8,p=1"),
                &format!("scrypt memory of {} KiB is over 38912 KiB", u128::MAX),
            ),
            (
                scrypt("ln=40,r=4294967295,p=4294967295"),
                "scrypt memory of 590295810221266698240 KiB is over 38912 KiB",
            ),
        ] {
            assert_eq!(c.check(&refused), Err(why.to_owned()), "{refused}");
        }
        assert_eq!(c.check("not a hash"), Ok(()));
    }
}
