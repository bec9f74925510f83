//! The service's Ed25519 signing key, kept as the hex of its 32-byte seed in `dir/service.key`.

use crate::error::StoreError;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;

/// File name of the service key inside the data directory.
pub const KEY_FILE: &str = "service.key";

fn storage(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("{what} {}: {e}", path.display()))
}

fn parse(path: &Path, text: &str) -> Result<SigningKey, StoreError> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| {
        StoreError::Invalid(format!(
            "{} is not the hex of a 32-byte Ed25519 seed",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Loads the key, or creates it (mode 0600) on first use. Two processes creating it at once
/// agree on one key: each writes a private temporary file and hard-links it into place, which
/// fails for the loser, who then reads the winner's key.
pub(crate) fn load_or_create(dir: &Path) -> Result<SigningKey, StoreError> {
    let path = dir.join(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => return parse(&path, &text),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(storage("cannot read", &path, e)),
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let tmp = dir.join(format!(
        ".{KEY_FILE}.{}.{:016x}.tmp",
        std::process::id(),
        rand::rngs::OsRng.next_u64()
    ));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| storage("cannot write", &tmp, e));
    let linked = written.and_then(|()| match fs::hard_link(&tmp, &path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(storage("cannot create", &path, e)),
    });
    let _ = fs::remove_file(&tmp);
    if linked? {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(SigningKey::from_bytes(&seed))
    } else {
        let text = fs::read_to_string(&path).map_err(|e| storage("cannot read", &path, e))?;
        parse(&path, &text)
    }
}
