//! The demo account of `cargo xtask run`: domain example.test and user
//! demo@example.test, made by the built groxide-admin once exmdb is up.

use anyhow::{Context as _, Result, bail};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

/// The demo domain and user.
pub const DEMO_DOMAIN: &str = "example.test";
pub const DEMO_USER: &str = "demo@example.test";
/// Length of a generated password.
const GENERATED_PASSWORD_LEN: usize = 16;
/// groxide-admin's exit status for "already exists".
pub const EXIT_EXISTS: i32 = 4;

/// A password of letters and digits from the system's random source.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; GENERATED_PASSWORD_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Runs groxide-admin; returns its exit code (stderr shown on failure).
pub fn admin(bin_dir: &Path, config: &Path, args: &[&str], stdin: Option<&str>) -> Result<i32> {
    let mut cmd = Command::new(bin_dir.join("groxide-admin"));
    cmd.arg("--config-dir")
        .arg(config)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("starting groxide-admin")?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
        pipe.write_all(b"\n")?;
    }
    let out = child.wait_with_output()?;
    let code = out.status.code().unwrap_or(-1);
    if code != 0 && code != EXIT_EXISTS {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(code)
}

/// Makes sure the demo domain and user exist with their stores and that
/// `password` is the user's password (an existing user gets it set).
pub fn ensure_demo_account(bin_dir: &Path, config: &Path, password: &str) -> Result<()> {
    match admin(bin_dir, config, &["domain", "create", DEMO_DOMAIN], None)? {
        0 => {}
        EXIT_EXISTS => {
            if admin(
                bin_dir,
                config,
                &["domain", "create-store", DEMO_DOMAIN],
                None,
            )? != 0
            {
                bail!("cannot create the public store of {DEMO_DOMAIN}");
            }
        }
        code => bail!("groxide-admin domain create {DEMO_DOMAIN} failed (exit {code})"),
    }
    let create = ["user", "create", DEMO_USER, "--password-stdin"];
    match admin(bin_dir, config, &create, Some(password))? {
        0 => Ok(()),
        EXIT_EXISTS => {
            let passwd = ["user", "passwd", DEMO_USER, "--password-stdin"];
            if admin(bin_dir, config, &passwd, Some(password))? != 0 {
                bail!("cannot set the password of {DEMO_USER}");
            }
            if admin(bin_dir, config, &["user", "create-store", DEMO_USER], None)? != 0 {
                bail!("cannot create the store of {DEMO_USER}");
            }
            Ok(())
        }
        code => bail!("groxide-admin user create {DEMO_USER} failed (exit {code})"),
    }
}
