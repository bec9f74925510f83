//! Helpers for tests of one node: start `deconflict serve` on a data directory of its own with
//! quick scan and staleness settings, run the CLI against that directory, register a party.

use super::{bin, cli_ok, Server};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

/// How long a single node's tests wait for something to happen.
pub(crate) const WAIT_S: u64 = 15;

pub(crate) fn start(dir: &Path) -> Server {
    start_with(dir, "")
}

/// [`start`] with more configuration: TOML appended after the usual settings (so it may open
/// tables such as `[disclosure]`).
pub(crate) fn start_with(dir: &Path, extra: &str) -> Server {
    let cfg = super::write_config(
        dir,
        &format!("coast_s = 2.0\ndrop_s = 4.0\nscan_period_ms = 100\nscan_min_interval_ms = 10\nmax_body_bytes = 200000\n{extra}"),
    );
    let mut serve = bin();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&cfg);
    Server::spawn(serve, "main", dir, Duration::from_secs(20))
}

pub(crate) fn cli(dir: &Path, args: &[&str]) -> String {
    cli_ok(args, &[OsStr::new("--data-dir"), dir.join("data").as_os_str()])
}

pub(crate) fn party(dir: &Path, name: &str) -> String {
    cli(dir, &["party", "add", name]);
    cli(dir, &["token", "issue", name])
}

/// Waits until `f` holds, polling.
pub(crate) fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    super::eventually(what, WAIT_S, f)
}
