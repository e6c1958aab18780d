//! MD5-crypt (`$1$`), the FreeBSD/glibc password hash that old gromox and
//! grommunio installations still hold. Only verified, never written.

use md5::{Digest, Md5};

const MAGIC: &str = "$1$";
/// MD5-crypt uses at most 8 salt characters.
const MAX_SALT_LEN: usize = 8;
/// The rounds of the hardening loop, fixed by the scheme.
const ROUNDS: usize = 1000;
/// crypt(3)'s base-64 alphabet.
const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The salt of a `$1$salt$hash` string: up to 8 characters before the next `$`.
fn salt_of(stored: &str) -> Option<&str> {
    let rest = stored.strip_prefix(MAGIC)?;
    let end = rest.find('$').unwrap_or(rest.len()).min(MAX_SALT_LEN);
    rest.get(..end)
}

/// The full `$1$salt$hash` string for `password` and `salt`.
pub(crate) fn md5_crypt(password: &[u8], salt: &str) -> String {
    let salt = salt.as_bytes();
    let salt = &salt[..salt.len().min(MAX_SALT_LEN)];

    let mut alternate = Md5::new();
    alternate.update(password);
    alternate.update(salt);
    alternate.update(password);
    let alternate = alternate.finalize();

    let mut context = Md5::new();
    context.update(password);
    context.update(MAGIC.as_bytes());
    context.update(salt);
    let mut remaining = password.len();
    while remaining > 0 {
        let take = remaining.min(16);
        context.update(&alternate[..take]);
        remaining -= take;
    }
    // For each bit of the length: a zero byte when set, the first password byte when clear.
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            context.update([0u8]);
        } else {
            context.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest = context.finalize();

    for round in 0..ROUNDS {
        let mut step = Md5::new();
        if round % 2 == 1 {
            step.update(password);
        } else {
            step.update(digest);
        }
        if round % 3 != 0 {
            step.update(salt);
        }
        if round % 7 != 0 {
            step.update(password);
        }
        if round % 2 == 1 {
            step.update(digest);
        } else {
            step.update(password);
        }
        digest = step.finalize();
    }

    let d = digest;
    let mut out = String::with_capacity(MAGIC.len() + salt.len() + 1 + 22);
    out.push_str(MAGIC);
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        let group = (u32::from(d[a]) << 16) | (u32::from(d[b]) << 8) | u32::from(d[c]);
        push_base64(&mut out, group, 4);
    }
    push_base64(&mut out, u32::from(d[11]), 2);
    out
}

/// Appends the low `chars * 6` bits of `value`, least significant first.
fn push_base64(out: &mut String, mut value: u32, chars: usize) {
    for _ in 0..chars {
        out.push(char::from(ALPHABET[(value & 0x3f) as usize]));
        value >>= 6;
    }
}

/// Whether `password` matches the `$1$` string `stored` (compared in constant time).
pub(crate) fn verify(password: &[u8], stored: &str) -> bool {
    match salt_of(stored) {
        Some(salt) => crate::password::constant_time_eq(
            md5_crypt(password, salt).as_bytes(),
            stored.as_bytes(),
        ),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed with `openssl passwd -1 -salt <salt> <password>` (OpenSSL 3.0).
    const VECTORS: &[(&str, &str, &str)] = &[
        ("password", "saltstri", "$1$saltstri$qQY4WxjABChYG1ccLpfkz/"),
        ("password", "ab", "$1$ab$oKsM6dtDD2L1bKowOBX.7."),
        ("", "saltstri", "$1$saltstri$ciR2otLVXV8I9sOPWbLTc1"),
        ("", "ab", "$1$ab$rn6aQS/o7141mj179E/zA."),
        (
            "correct horse battery staple",
            "saltstri",
            "$1$saltstri$B9FrnZ8mLTFL6N.rbkMsW0",
        ),
        (
            "correct horse battery staple",
            "ab",
            "$1$ab$BGweqrca.3UvnWSg8yFZd1",
        ),
        ("ünïcødé", "saltstri", "$1$saltstri$XBNa1kD8g3XjrJvGUTKyw0"),
        ("ünïcødé", "ab", "$1$ab$ru2bxtd4LDbrxXXr5uCrR0"),
        (
            "a'; DROP TABLE users; --",
            "saltstri",
            "$1$saltstri$m3ArFFJwL49Z9BrPXCghx.",
        ),
        (
            "password",
            "toolongsalt123",
            "$1$toolongs$nbxWng79pwW9eFqyOCHnw1",
        ),
    ];

    #[test]
    fn md5_crypt_matches_openssl() {
        for (password, salt, expected) in VECTORS {
            assert_eq!(
                md5_crypt(password.as_bytes(), salt),
                *expected,
                "{password:?}"
            );
            assert!(verify(password.as_bytes(), expected), "{password:?}");
        }
    }

    #[test]
    fn md5_crypt_refuses_wrong_passwords_and_malformed_strings() {
        assert!(!verify(b"Password", "$1$saltstri$qQY4WxjABChYG1ccLpfkz/"));
        assert!(!verify(b"password", "$1$saltstri$qQY4WxjABChYG1ccLpfkz"));
        assert!(!verify(b"password", "$5$saltstri$qQY4WxjABChYG1ccLpfkz/"));
        assert!(!verify(b"", "$1$"));
    }
}
