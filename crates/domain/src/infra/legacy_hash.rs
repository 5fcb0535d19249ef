//! Verification of password hashes imported from other systems: bcrypt in
//! modular crypt format (`$2a$`, `$2b$`, `$2y$`) and scrypt as a PHC string
//! (`$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, as written by the
//! RustCrypto `scrypt` crate and by passlib). argon2 hashes are verified by
//! [`crate::infra::hashing`]; [`classify`] recognises them too so that callers can
//! route a stored hash to the right verifier.
//!
//! # Denial-of-service limits
//!
//! An imported hash carries its own cost parameters, and those decide how much
//! CPU time and memory every login attempt against it burns. Hashes beyond
//! these limits are refused: [`classify`] and [`verify_legacy`] return `None`
//! for them, exactly as for malformed strings.
//!
//! These are hard limits of the format parser; the policy actually applied to
//! imports and logins is the tighter, configurable
//! [`crate::infra::hash_ceiling::CostCeiling`] (bcrypt cost 12, twice the
//! server's argon2 memory and work).
//!
//! - bcrypt: cost at most 16 (2^16 key-schedule rounds, several seconds).
//! - scrypt: `ln` (log2 N) at most 20, `r` at most 32, `p` at most 16,
//!   memory `128 * r * 2^ln` at most 256 MiB, and total work
//!   `p * 128 * r * 2^ln` at most 1 GiB (scrypt's lanes run one after the
//!   other here, so `p` multiplies the time taken).
//!
//! Verification is CPU-bound and synchronous (bcrypt at cost 12 takes about a
//! third of a second in a release build): call [`verify_legacy`] from a
//! blocking thread, not from the async runtime.
//!
//! bcrypt compares only the first 72 bytes of a password, as every bcrypt
//! implementation does.

use std::str::FromStr;

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::{Algorithm, Params as Argon2Params, Version};

use crate::infra::secret::ct_eq;

/// Which family a stored hash belongs to, judged from its prefix alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashFamily {
    Argon2,
    Bcrypt,
    Scrypt,
}

/// Lowest cost the bcrypt format allows.
const BCRYPT_MIN_COST: u32 = 4;
/// Highest bcrypt cost accepted from an imported hash (the format allows 31).
const BCRYPT_MAX_COST: u32 = 16;
/// Highest scrypt log2 N accepted.
const SCRYPT_MAX_LOG_N: u32 = 20;
/// Highest scrypt block size `r` accepted.
const SCRYPT_MAX_R: u32 = 32;
/// Highest scrypt parallelism `p` accepted.
const SCRYPT_MAX_P: u32 = 16;
/// Most memory one scrypt verification may use: `128 * r * N` bytes.
const SCRYPT_MAX_MEMORY: u64 = 256 * 1024 * 1024;
/// Most work one scrypt verification may do: `p * 128 * r * N`.
const SCRYPT_MAX_WORK: u64 = 1024 * 1024 * 1024;

/// Classifies a PHC / modular-crypt string, or `None` if it is none of the
/// supported kinds or is malformed (parse fully: cost ranges, salt/hash
/// lengths, base64), without doing any expensive work.
///
/// argon2id and argon2i PHC strings are `Some(Argon2)`; argon2d is `None`.
/// bcrypt and scrypt hashes beyond the denial-of-service limits in the
/// [module documentation](self) are `None`.
pub fn classify(phc: &str) -> Option<HashFamily> {
    if is_argon2(phc) {
        return Some(HashFamily::Argon2);
    }
    parse_legacy(phc).map(|legacy| match legacy {
        Legacy::Bcrypt => HashFamily::Bcrypt,
        Legacy::Scrypt(_) => HashFamily::Scrypt,
    })
}

/// Verifies `password` against a bcrypt or scrypt hash in constant time.
/// Returns `None` if `phc` is not a valid bcrypt/scrypt hash (e.g. argon2
/// strings return `None`), `Some(true)` on match, `Some(false)` on mismatch.
/// Must never panic on any input.
///
/// Hashes beyond the denial-of-service limits in the
/// [module documentation](self) are `None` and cost nothing to reject.
pub fn verify_legacy(phc: &str, password: &[u8]) -> Option<bool> {
    match parse_legacy(phc)? {
        // `parse_legacy` has already checked everything `bcrypt::verify` does.
        Legacy::Bcrypt => bcrypt::verify(password, phc).ok(),
        Legacy::Scrypt(hash) => hash.verify(password),
    }
}

/// A bcrypt or scrypt hash that passed every check.
enum Legacy {
    Bcrypt,
    Scrypt(ScryptHash),
}

fn parse_legacy(phc: &str) -> Option<Legacy> {
    if phc.starts_with("$2") {
        is_bcrypt(phc).then_some(Legacy::Bcrypt)
    } else if phc.starts_with("$scrypt$") {
        ScryptHash::parse(phc).map(Legacy::Scrypt)
    } else {
        None
    }
}

/// `$argon2id$` / `$argon2i$` PHC strings with parameters argon2 accepts, a
/// salt and a hash (what [`crate::infra::hashing`] needs to verify them).
fn is_argon2(phc: &str) -> bool {
    if !(phc.starts_with("$argon2id$") || phc.starts_with("$argon2i$")) {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    matches!(
        Algorithm::try_from(parsed.algorithm.as_str()),
        Ok(Algorithm::Argon2id | Algorithm::Argon2i)
    ) && Version::try_from(parsed.version.unwrap_or(Version::V0x13.into())).is_ok()
        && Argon2Params::try_from(&parsed).is_ok()
        && parsed.salt.is_some()
        && parsed.hash.is_some()
}

/// `$2a$`, `$2b$` or `$2y$`, a two-digit cost within limits, then 22
/// characters of salt and 31 of hash in bcrypt's base64 (exactly 60 bytes).
/// `$2x$` (crypt_blowfish's marker for hashes made by its sign-extension bug)
/// and `$2$` are refused.
fn is_bcrypt(phc: &str) -> bool {
    let [
        b'$',
        b'2',
        b'a' | b'b' | b'y',
        b'$',
        tens @ b'0'..=b'9',
        units @ b'0'..=b'9',
        b'$',
        rest @ ..,
    ] = phc.as_bytes()
    else {
        return false;
    };
    let cost = u32::from(tens - b'0') * 10 + u32::from(units - b'0');
    // The crate's own parser checks the length and the base64 (including
    // that the unused low bits of the last salt and hash characters are zero).
    rest.len() == 53 && (BCRYPT_MIN_COST..=BCRYPT_MAX_COST).contains(&cost) && bcrypt::HashParts::from_str(phc).is_ok()
}

/// A parsed scrypt PHC string within the denial-of-service limits.
struct ScryptHash {
    params: scrypt::Params,
    salt: Salt,
    hash: Output,
}

impl ScryptHash {
    /// Parses `$scrypt$ln=..,r=..,p=..$<salt>$<hash>`: no version field, all
    /// three parameters and nothing else, a salt of 8 to 48 bytes and a hash
    /// of 10 to 64 bytes in unpadded standard base64.
    fn parse(phc: &str) -> Option<Self> {
        let parsed = PasswordHash::new(phc).ok()?;
        if parsed.algorithm.as_str() != "scrypt" || parsed.version.is_some() {
            return None;
        }
        let (mut log_n, mut r, mut p) = (None, None, None);
        for (name, value) in parsed.params.iter() {
            let slot = match name.as_str() {
                "ln" => &mut log_n,
                "r" => &mut r,
                "p" => &mut p,
                _ => return None,
            };
            // The PHC parser lets duplicate names through.
            if slot.replace(value.decimal().ok()?).is_some() {
                return None;
            }
        }
        let (log_n, r, p) = (log_n?, r?, p?);
        // Checked before `scrypt::Params::new`, which can overflow on huge `r * p`.
        if !(1..=SCRYPT_MAX_LOG_N).contains(&log_n) || !(1..=SCRYPT_MAX_R).contains(&r) || !(1..=SCRYPT_MAX_P).contains(&p) {
            return None;
        }
        let memory = (128 * u64::from(r)) << log_n;
        if memory > SCRYPT_MAX_MEMORY || memory * u64::from(p) > SCRYPT_MAX_WORK {
            return None;
        }
        let params = scrypt::Params::new(u8::try_from(log_n).ok()?, r, p).ok()?;
        Some(Self {
            params,
            salt: parsed.salt?,
            hash: parsed.hash?,
        })
    }

    fn verify(&self, password: &[u8]) -> Option<bool> {
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer.get_mut(..self.hash.len())?;
        scrypt::scrypt(password, &self.salt, &self.params, out).ok()?;
        Some(ct_eq(out, self.hash.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;

    /// An scrypt PHC string with the given parameters and a fixed 16-byte salt
    /// and 32-byte hash, well-formed but not made from any password.
    fn scrypt_phc(params: &str) -> String {
        format!("$scrypt${params}$c2FsdHNhbHRzYWx0c2FsdA$QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY")
    }

    fn scrypt_hash(password: &[u8], log_n: u8, r: u32, p: u32) -> String {
        scrypt::Scrypt::new_with_params(scrypt::Params::new(log_n, r, p).unwrap())
            .hash_password_with_salt(password, b"0123456789abcdef")
            .unwrap()
            .to_string()
    }

    #[test]
    fn bcrypt_hashes_made_by_the_crate_verify() {
        let phc = bcrypt::hash("correct horse", 4).unwrap();
        assert!(phc.starts_with("$2b$04$"), "{phc}");
        assert_eq!(classify(&phc), Some(HashFamily::Bcrypt));
        assert_eq!(verify_legacy(&phc, b"correct horse"), Some(true));
        assert_eq!(verify_legacy(&phc, b"correct horsf"), Some(false));
        assert_eq!(verify_legacy(&phc, b""), Some(false));

        let parts = bcrypt::hash_with_result(b"\xff\x00 binary \xc3\xa9", 5).unwrap();
        for version in [bcrypt::Version::TwoA, bcrypt::Version::TwoB, bcrypt::Version::TwoY] {
            let phc = parts.format_for_version(version);
            assert_eq!(classify(&phc), Some(HashFamily::Bcrypt), "{phc}");
            assert_eq!(verify_legacy(&phc, b"\xff\x00 binary \xc3\xa9"), Some(true), "{phc}");
            assert_eq!(verify_legacy(&phc, b"\xff\x00 binary"), Some(false), "{phc}");
        }
    }

    #[test]
    fn bcrypt_known_vectors_verify_in_every_variant() {
        // Made by Python's bcrypt, node's bcrypt and an online tool (from the bcrypt crate's tests).
        let vectors = [
            (
                "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
                "correctbatteryhorsestapler",
            ),
            (
                "$2a$04$n4Uy0eSnMfvnESYL.bLwuuj0U/ETSsoTpRT9GVk5bektyVVa5xnIi",
                "correctbatteryhorsestapler",
            ),
            ("$2a$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96", "password"),
            // crypt_blowfish's test vector.
            ("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"),
        ];
        for (phc, password) in vectors {
            for variant in ["2a", "2b", "2y"] {
                let phc = format!("${variant}{}", &phc[3..]);
                assert_eq!(classify(&phc), Some(HashFamily::Bcrypt), "{phc}");
                assert_eq!(verify_legacy(&phc, password.as_bytes()), Some(true), "{phc}");
                assert_eq!(verify_legacy(&phc, b"wrong"), Some(false), "{phc}");
            }
        }
    }

    #[test]
    fn bcrypt_compares_the_first_72_bytes() {
        // python -c 'import bcrypt; bcrypt.hashpw(b"x"*100, b"$2a$05$...............................")'
        let phc = "$2a$05$......................YgIDy4hFBdVlc/6LHnD9mX488r9cLd2";
        assert_eq!(verify_legacy(phc, &[b'x'; 100]), Some(true));
        assert_eq!(verify_legacy(phc, &[b'x'; 72]), Some(true));
        assert_eq!(verify_legacy(phc, &[b'x'; 71]), Some(false));
    }

    #[test]
    fn scrypt_hashes_made_by_the_crate_verify() {
        let phc = scrypt_hash(b"correct horse", 4, 8, 1);
        assert!(phc.starts_with("$scrypt$ln=4,r=8,p=1$"), "{phc}");
        assert_eq!(classify(&phc), Some(HashFamily::Scrypt));
        assert_eq!(verify_legacy(&phc, b"correct horse"), Some(true));
        assert_eq!(verify_legacy(&phc, b"correct horsf"), Some(false));
        assert_eq!(verify_legacy(&phc, b""), Some(false));

        let phc = scrypt_hash(b"\xff\x00 binary", 5, 2, 3);
        assert_eq!(verify_legacy(&phc, b"\xff\x00 binary"), Some(true));
        assert_eq!(verify_legacy(&phc, b"\xff\x00 binar"), Some(false));
    }

    #[test]
    fn scrypt_rfc_7914_vector_verifies() {
        // RFC 7914 section 12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, dkLen=64).
        let expected = [
            0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06, 0xcd, 0x81, 0xfd, 0x38, 0xeb, 0xfd, 0xa8, 0xfb, 0xba, 0x90,
            0x4f, 0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2, 0xd5, 0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4,
            0x97, 0x05, 0x24, 0x2a, 0x9a, 0xf9, 0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e, 0x40, 0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58,
            0x87u8,
        ];
        let phc = format!(
            "$scrypt$ln=14,r=8,p=1${}${}",
            STANDARD_NO_PAD.encode("SodiumChloride"),
            STANDARD_NO_PAD.encode(expected)
        );
        assert_eq!(classify(&phc), Some(HashFamily::Scrypt));
        assert_eq!(verify_legacy(&phc, b"pleaseletmein"), Some(true));
        assert_eq!(verify_legacy(&phc, b"pleaseletmeout"), Some(false));
    }

    #[test]
    fn argon2_is_classified_but_not_verified_here() {
        let params = Argon2Params::new(64, 1, 1, None).unwrap();
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let phc = argon2::Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password_with_salt(b"hunter2", b"0123456789abcdef")
                .unwrap()
                .to_string();
            assert_eq!(classify(&phc), Some(HashFamily::Argon2), "{phc}");
            assert_eq!(verify_legacy(&phc, b"hunter2"), None, "{phc}");
        }
        let argon2d = argon2::Argon2::new(Algorithm::Argon2d, Version::V0x13, params)
            .hash_password_with_salt(b"hunter2", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert_eq!(classify(&argon2d), None);
        for malformed in [
            "$argon2id$",
            "$argon2id$v=19$m=64,t=1,p=1",
            "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg",
            "$argon2id$v=18$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=1,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$!!!!",
        ] {
            assert_eq!(classify(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn malformed_strings_are_refused() {
        let good_bcrypt = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie";
        let good_scrypt = scrypt_phc("ln=4,r=8,p=1");
        assert_eq!(classify(&good_scrypt), Some(HashFamily::Scrypt));
        let cases = [
            "",
            "$",
            "$$$$",
            "random text",
            "correctbatteryhorsestapler",
            "$2b$",
            "$2b$04$",
            &good_bcrypt[..59],
            &format!("{good_bcrypt}e"),
            &format!(" {good_bcrypt}"),
            // Cost out of range or not two digits.
            "$2b$99$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
            "$2b$03$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
            "$2b$+4$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
            "$2b$4$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxciee",
            // Unsupported variants.
            "$2x$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
            "$2$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxciee",
            "$2B$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
            // Not bcrypt's base64, a separator inside, non-ASCII of the right byte length.
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxci+",
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxci=",
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg44$d458Muh7DAHskb6QbtCvdxcie",
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxc£",
            // Unused low bits set in the last character of the hash, then of the salt.
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcif",
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQPxSg445d458Muh7DAHskb6QbtCvdxcie",
            // scrypt: truncated, missing parts or parameters, unknown parameters.
            &good_scrypt[..good_scrypt.len() - 1],
            &good_scrypt[..good_scrypt.len() - 10],
            "$scrypt$",
            "$scrypt$ln=4,r=8,p=1",
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA",
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$",
            &format!("{good_scrypt}$"),
            &scrypt_phc("ln=4,r=8"),
            &scrypt_phc("r=8,p=1"),
            &scrypt_phc("ln=4,r=8,p=1,x=1"),
            &scrypt_phc("ln=4,r=8,p=1,ln=4"),
            &scrypt_phc("ln=04,r=8,p=1"),
            &scrypt_phc("ln=-4,r=8,p=1"),
            &scrypt_phc("ln=4,r=8,p=1.0"),
            &scrypt_phc("ln=4,r=8,p=99999999999999999999"),
            &scrypt_phc("ln=0,r=8,p=1"),
            &scrypt_phc("ln=4,r=0,p=1"),
            &scrypt_phc("ln=4,r=8,p=0"),
            &good_scrypt.replace("$scrypt$", "$scrypt$v=1$"),
            &good_scrypt.replace("$scrypt$", "$Scrypt$"),
            &good_scrypt.replace("$scrypt$", "$7$"),
            // scrypt: bad base64, padding, a salt under 8 bytes, a hash under 10.
            &good_scrypt.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRz!Wx0c2FsdA"),
            &good_scrypt.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdA=="),
            &good_scrypt.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdB"),
            &good_scrypt.replace("c2FsdHNhbHRzYWx0c2FsdA", "c2FsdA"),
            &good_scrypt.replace("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY", "QUJDREVG"),
            &good_scrypt.replace(
                "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY",
                "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY-",
            ),
        ];
        for phc in cases {
            assert_eq!(classify(phc), None, "{phc}");
            assert_eq!(verify_legacy(phc, b"correctbatteryhorsestapler"), None, "{phc}");
        }
    }

    #[test]
    fn denial_of_service_limits_are_enforced() {
        let bcrypt_at = |cost: &str| format!("$2b${cost}$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie");
        assert_eq!(classify(&bcrypt_at("16")), Some(HashFamily::Bcrypt));
        for cost in ["17", "20", "31"] {
            assert_eq!(classify(&bcrypt_at(cost)), None, "{cost}");
            // Refused before any hashing: cost 31 would take days.
            assert_eq!(verify_legacy(&bcrypt_at(cost), b"x"), None, "{cost}");
        }

        for allowed in [
            "ln=20,r=1,p=1",
            "ln=20,r=2,p=1",  // 256 MiB
            "ln=18,r=8,p=1",  // 256 MiB
            "ln=18,r=8,p=4",  // 256 MiB, 1 GiB of work
            "ln=14,r=8,p=16", // 16 MiB, 256 MiB of work
            "ln=12,r=32,p=1",
        ] {
            assert_eq!(classify(&scrypt_phc(allowed)), Some(HashFamily::Scrypt), "{allowed}");
        }
        for refused in [
            "ln=21,r=1,p=1",
            "ln=63,r=1,p=1",
            "ln=64,r=1,p=1",
            "ln=4294967295,r=8,p=1",
            "ln=4,r=33,p=1",
            "ln=4,r=8,p=17",
            "ln=20,r=3,p=1",  // 384 MiB
            "ln=20,r=8,p=1",  // 1 GiB
            "ln=17,r=32,p=1", // 512 MiB
            "ln=18,r=8,p=5",  // 1.25 GiB of work
            "ln=4,r=65536,p=65536",
            "ln=4,r=4294967295,p=4294967295",
        ] {
            assert_eq!(classify(&scrypt_phc(refused)), None, "{refused}");
            assert_eq!(verify_legacy(&scrypt_phc(refused), b"x"), None, "{refused}");
        }
    }

    #[test]
    fn mangled_hashes_never_panic_and_both_functions_agree() {
        let bcrypt = bcrypt::hash("pw", 4).unwrap();
        let scrypt = scrypt_hash(b"pw", 4, 1, 1);
        for phc in [bcrypt.as_str(), scrypt.as_str()] {
            let mut mangled: Vec<String> = Vec::new();
            for (i, _) in phc.char_indices() {
                mangled.push(phc[..i].to_owned());
                mangled.push(phc[i..].to_owned());
                for c in ['$', '.', '/', '+', '=', ',', '0', '9', 'a', 'Z', '\0', 'é', '€'] {
                    let mut s = phc.to_owned();
                    s.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                    mangled.push(s);
                }
            }
            for s in &mangled {
                let family = classify(s);
                let verified = verify_legacy(s, b"pw");
                assert_eq!(family.is_some(), verified.is_some(), "{s}");
                if s.as_str() == phc {
                    assert_eq!(verified, Some(true));
                }
            }
        }
    }
}
