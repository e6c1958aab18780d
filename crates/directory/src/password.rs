//! Password hashes: verifying every scheme found in gromox and grommunio
//! directories, writing argon2id.

use argon2::PasswordVerifier as _;
use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use sha_crypt::ShaCrypt;
use std::sync::{Mutex, PoisonError};

/// Longest password checked; longer ones are refused without hashing, so a
/// client cannot make a login cost more than this.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The hash scheme of a stored password, told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashScheme {
    /// `$argon2id$…`, `$argon2i$…`, `$argon2d$…` (PHC strings); what groxide writes.
    Argon2,
    /// `$6$…` SHA-512-crypt (gromox's default).
    Sha512Crypt,
    /// `$5$…` SHA-256-crypt.
    Sha256Crypt,
    /// `$2a$`, `$2b$`, `$2y$` bcrypt.
    Bcrypt,
    /// `$1$…` MD5-crypt (old installations).
    Md5Crypt,
    /// Empty: the account has no password and cannot log in.
    NoPassword,
    /// Anything else: never matches.
    Unknown,
}

impl HashScheme {
    /// The scheme of `stored`.
    pub fn of(stored: &str) -> HashScheme {
        if stored.is_empty() {
            HashScheme::NoPassword
        } else if stored.starts_with("$argon2") {
            HashScheme::Argon2
        } else if stored.starts_with("$6$") {
            HashScheme::Sha512Crypt
        } else if stored.starts_with("$5$") {
            HashScheme::Sha256Crypt
        } else if ["$2a$", "$2b$", "$2y$"]
            .iter()
            .any(|p| stored.starts_with(p))
        {
            HashScheme::Bcrypt
        } else if stored.starts_with("$1$") {
            HashScheme::Md5Crypt
        } else {
            HashScheme::Unknown
        }
    }
}

/// A password could not be hashed (the random source failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Whether `password` matches the stored hash `stored`. An empty, unknown or
/// malformed hash never matches; neither does a password longer than
/// [`MAX_PASSWORD_LEN`]. CPU-heavy: call it off the async threads.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    let pw = password.as_bytes();
    match HashScheme::of(stored) {
        HashScheme::Argon2 => verify_argon2(pw, stored),
        HashScheme::Sha512Crypt | HashScheme::Sha256Crypt => {
            ShaCrypt::default().verify_password(pw, stored).is_ok()
        }
        HashScheme::Bcrypt => bcrypt::verify(pw, stored).unwrap_or(false),
        HashScheme::Md5Crypt => crate::md5crypt::verify(pw, stored),
        HashScheme::NoPassword | HashScheme::Unknown => false,
    }
}

/// Memory of argon2 checks, kept for the next check instead of being
/// freed: each check needs its `m` KiB at once, and freeing and allocating
/// tens of MiB per login leaves the allocator holding far more than the
/// checks running at once ever use (100 parallel logins, four at a time,
/// grew a daemon by 700 MiB with the allocator's own buffers). With reuse,
/// memory is bounded by the checks that run at once.
static ARGON2_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Most buffers kept for reuse; more checks at once allocate their own.
const ARGON2_BUFFERS_KEPT: usize = 64;

/// Largest argon2 memory cost verified (4 GiB in KiB): a stored hash asking
/// for more never matches rather than exhausting the machine.
const ARGON2_MAX_KIB: u32 = 4 * 1024 * 1024;

fn verify_argon2(password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version {
        Some(v) => match Version::try_from(v) {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => Version::default(),
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > ARGON2_MAX_KIB {
        return false;
    }
    let blocks = params.block_count();
    let mut memory = ARGON2_MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    // A fresh state, as for a newly allocated buffer.
    memory[..blocks].fill(Block::default());
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut memory[..blocks])
        .is_ok();
    let matches = computed && constant_time_eq(&out, expected.as_bytes());
    let mut kept = ARGON2_MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < ARGON2_BUFFERS_KEPT {
        kept.push(memory);
    }
    matches
}

/// A new argon2id hash of `password` (PHC string, default parameters:
/// 19 MiB, 2 passes, 1 lane) with a random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash that costs what `stored` costs to verify and matches no
/// password: the same scheme, parameters and salt, the digest replaced by
/// filler of the same length. Used for logins to unknown names, so they
/// take as long as logins to the accounts whose hash this was.
pub(crate) fn dummy_of(stored: &str) -> String {
    let scheme = HashScheme::of(stored);
    let Some(last) = stored.rfind('$') else {
        return String::new();
    };
    let (head, digest) = stored.split_at(last + 1);
    let (keep, replace) = match scheme {
        // bcrypt: 22 characters of salt, then the digest.
        HashScheme::Bcrypt if digest.len() > 22 => digest.split_at(22),
        _ => ("", digest),
    };
    let filler = match scheme {
        HashScheme::Argon2 => 'A',
        _ => '.',
    };
    let mut dummy = String::with_capacity(stored.len());
    dummy.push_str(head);
    dummy.push_str(keep);
    dummy.extend(std::iter::repeat_n(filler, replace.chars().count()));
    dummy
}

/// Compares two byte strings in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (password, stored hash). `$5$`/`$6$` from `openssl passwd -5/-6` and
    /// perl's crypt (glibc); bcrypt from perl's crypt (libxcrypt); argon2 from
    /// the reference C library (libargon2) through `argon2id_hash_encoded`.
    const VECTORS: &[(&str, &str)] = &[
        (
            "password",
            "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        ),
        (
            "",
            "$6$saltsalt$qkTgsCrWMTAS9gBGcf9W60sFfH.hU0oTCAOJjhbz5tSp/sU3/xXZK4OFwCtq8lIIdpJ6CatVdOTSHKp97TPkt/",
        ),
        (
            "ünïcødé",
            "$6$saltsalt$wFUIA7ehKasariv89Cwca6eKdOzMrpeP/PPmTVFNVT7mInOY3VXuSkbvMy3EkpC0S5TiNIXN6mF0lrCC24m6G0",
        ),
        (
            "password",
            "$6$rounds=10000$saltstring$t8jRkZue4ZqkvRTF6Ly63E8QTtoCevHn5vWVdXcomlAvhV8iTse.xlPFOmGov1eQRZLufNVYaEFrHVyRed8gC/",
        ),
        (
            "password",
            "$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.",
        ),
        (
            "",
            "$5$saltsalt$09agN5RZ2meWdEdnEusqsq5G7RwwghB8jCKoWWADxW/",
        ),
        (
            "correct horse battery staple",
            "$5$saltsalt$3hGFMknrJ4ZpFPe7XZe397oIMEp7sbvqrcsX/ONJ3i.",
        ),
        (
            "password",
            "$5$rounds=1000$abc$chB2229SaEAMndXolPyqp1RFge2UaeCAJVGEAvqr4M3",
        ),
        (
            "password",
            "$5$rounds=5000$xyz$ChenN6MXOtL.QbXYjUv2u2pCfLxljjy1yq6W5xCiWaB",
        ),
        (
            "password",
            "$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        ),
        (
            "password",
            "$2a$06$CCCCCCCCCCCCCCCCCCCCC.eG5Os3NZLWo4NAVXoZMGKr7gFT9r0Ay",
        ),
        (
            "password",
            "$2y$04$0123456789abcdefghijkezlt8ONefNB98nIYDdnLFv4AAVpaN9wq",
        ),
        (
            "",
            "$2b$05$abcdefghijklmnopqrstuu0oImNDIy4flhldV9YqunRgBAePKmw7m",
        ),
        (
            "correct horse battery staple",
            "$2y$04$0123456789abcdefghijkeJgIKWSuiZ3lZHoMS1FKXMIHt226C.dq",
        ),
        ("password", "$1$saltstri$qQY4WxjABChYG1ccLpfkz/"),
        ("", "$1$ab$rn6aQS/o7141mj179E/zA."),
        (
            "password",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE",
        ),
        (
            "",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$sZ483VbIIoOwneO8ZsIkXh2bXDPDVnZdV4cu0pKbM8I",
        ),
        (
            "ünïcødé",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kpHDKdK8AdaI/TcTeHMaRjpgF5y4VG7MRZengCNrWzU",
        ),
        (
            "password",
            "$argon2i$v=19$m=4096,t=3,p=2$YW5vdGhlcnNhbHR2YWx1ZQ$aTxpEma0lM8FCQ780bEqTCO1hJV5zrf0EojiGsIPfYg",
        ),
        (
            "ünïcødé",
            "$argon2i$v=19$m=4096,t=3,p=2$YW5vdGhlcnNhbHR2YWx1ZQ$+7MGl2dZi82XYcWE14MD0a0JRcKBdEdyLTjqNxJB69o",
        ),
    ];

    #[test]
    fn every_supported_scheme_verifies_its_reference_vectors() {
        for (password, stored) in VECTORS {
            assert!(
                verify_password(password, stored),
                "{password:?} vs {stored}"
            );
        }
    }

    #[test]
    fn a_wrong_password_matches_no_vector() {
        for (password, stored) in VECTORS {
            let wrong = format!("{password}x");
            assert!(!verify_password(&wrong, stored), "{wrong:?} vs {stored}");
        }
    }

    #[test]
    fn schemes_are_told_by_their_prefix() {
        let table = [
            ("$argon2id$v=19$…", HashScheme::Argon2),
            ("$argon2i$v=19$…", HashScheme::Argon2),
            ("$6$salt$x", HashScheme::Sha512Crypt),
            ("$5$salt$x", HashScheme::Sha256Crypt),
            ("$2a$05$x", HashScheme::Bcrypt),
            ("$2b$05$x", HashScheme::Bcrypt),
            ("$2y$05$x", HashScheme::Bcrypt),
            ("$1$salt$x", HashScheme::Md5Crypt),
            ("", HashScheme::NoPassword),
            ("plaintext", HashScheme::Unknown),
            ("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", HashScheme::Unknown),
        ];
        for (stored, scheme) in table {
            assert_eq!(HashScheme::of(stored), scheme, "{stored}");
        }
    }

    #[test]
    fn unusable_hashes_and_oversized_passwords_never_match() {
        assert!(!verify_password("", ""));
        assert!(!verify_password("password", "password"));
        assert!(!verify_password("password", "$6$broken"));
        assert!(!verify_password("password", "$2b$99$abc"));
        assert!(!verify_password("password", "$argon2id$garbage"));
        let long = "a".repeat(MAX_PASSWORD_LEN + 1);
        let stored = hash_password(&long).unwrap();
        assert!(!verify_password(&long, &stored));
    }

    #[test]
    fn new_hashes_are_argon2id_with_a_fresh_salt() {
        let a = hash_password("s3cret").unwrap();
        let b = hash_password("s3cret").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password("s3cret", &a));
        assert!(!verify_password("s3cret ", &a));
    }

    #[test]
    fn a_dummy_keeps_the_scheme_and_cost_of_its_hash_and_matches_nothing() {
        let time = |password: &str, stored: &str| {
            let started = std::time::Instant::now();
            let matched = verify_password(password, stored);
            (started.elapsed(), matched)
        };
        for (password, stored) in VECTORS {
            let dummy = dummy_of(stored);
            assert_eq!(HashScheme::of(&dummy), HashScheme::of(stored), "{dummy}");
            assert_eq!(dummy.len(), stored.len(), "{dummy}");
            assert_ne!(&dummy, stored);
            // Alternating runs, the fastest of each: both see the same load.
            let (mut real, mut fake) = (std::time::Duration::MAX, std::time::Duration::MAX);
            for _ in 0..5 {
                let (t, matched) = time(password, stored);
                assert!(matched);
                real = real.min(t);
                let (t, matched) = time(password, &dummy);
                assert!(!matched, "{dummy}");
                fake = fake.min(t);
            }
            // The dummy is really computed, not refused at parsing (which
            // takes microseconds against milliseconds).
            assert!(
                fake * 10 + std::time::Duration::from_micros(200) >= real,
                "{stored}: real {real:?}, dummy {fake:?}"
            );
        }
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
