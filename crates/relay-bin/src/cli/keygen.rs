//! `kick-relay keygen`: a local RSA key pair for development.

use std::path::Path;

use anyhow::{Context, bail};

pub(super) fn keygen(out: &Path) -> anyhow::Result<()> {
    use rsa::{
        RsaPrivateKey,
        pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let private_path = out.join("private.pem");
    let public_path = out.join("public.pem");
    for path in [&private_path, &public_path] {
        if path.exists() {
            bail!("{} exists; not overwriting a key", path.display());
        }
    }
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .context("cannot generate an RSA key")?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the private key")?;
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    write_private(&private_path, private.as_bytes())
        .with_context(|| format!("cannot write {}", private_path.display()))?;
    std::fs::write(&public_path, public)
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    println!(
        "wrote {} (readable by its owner only, 0600) and {}\nuse it with: [kick] public_key_file = \"{}\"  and  kick-relay send-test --key {}",
        private_path.display(),
        public_path.display(),
        public_path.display(),
        private_path.display()
    );
    Ok(())
}

/// Writes a new file readable and writable by its owner only (0600 on Unix), never replacing
/// an existing one.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}
