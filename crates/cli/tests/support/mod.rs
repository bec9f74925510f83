//! What the service tests and the cluster tests share: the binary, clocks and positions, a
//! `deconflict serve` process on loopback, HTTP calls and the alert stream.
//!
//! Each test binary includes this with `mod support;` and uses a part of it; [`single`] has
//! the helpers of the one-node tests.
#![allow(dead_code)]

pub(crate) mod bridge;
pub(crate) mod single;
pub(crate) mod tls;

use serde_json::{json, Value};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one HTTP call may take before it counts as unanswered.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deconflict"))
}

pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Metres north of a latitude, in degrees.
pub(crate) fn north(m: f64) -> f64 {
    m / 111_195.0
}

/// Runs `deconflict ARGS EXTRA`, asserts that it succeeded and returns its trimmed stdout.
pub(crate) fn cli_ok<S: AsRef<OsStr>>(args: &[&str], extra: &[S]) -> String {
    let out = bin().args(args).args(extra).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Writes `table.toml` (one 50 m / 15 m standard for every pair, 0.5 s hysteresis) and
/// `config.toml` (the table and then `settings`, TOML lines) into `dir`; returns the config.
pub(crate) fn write_config(dir: &Path, settings: &str) -> PathBuf {
    let table = dir.join("table.toml");
    std::fs::write(
        &table,
        "[alerting]\nhysteresis_s = 0.5\n[[pair]]\nclasses = [\"any\", \"any\"]\nradius_m = 50.0\nhalf_height_m = 15.0\nlookahead_s = 60.0\n",
    )
    .unwrap();
    let cfg = dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!("table = {:?}\n{settings}", table.display().to_string()),
    )
    .unwrap();
    cfg
}

/// A running `deconflict serve`: killed and reaped when dropped.
pub(crate) struct Server {
    /// The node's name (`main` for a single node), for messages.
    pub name: String,
    pub child: Child,
    /// `http://127.0.0.1:PORT`, from the "listening on" line.
    pub base: String,
    /// The directory the server was started on, to start it again there.
    pub dir: PathBuf,
}

impl Server {
    /// Spawns `serve` (a `deconflict serve …` command) and waits up to `startup` for its
    /// "listening on" line.
    pub(crate) fn spawn(mut serve: Command, name: &str, dir: &Path, startup: Duration) -> Server {
        let child = serve
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Owned by the guard at once: whatever happens next, the process is killed and reaped.
        let mut server = Server {
            name: name.to_string(),
            child,
            base: String::new(),
            dir: dir.to_path_buf(),
        };
        let mut out = BufReader::new(server.child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let deadline = Instant::now() + startup;
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 || Instant::now() > deadline {
                panic!("node {name} did not start");
            }
            if let Some(rest) = line.trim().strip_prefix("listening on ") {
                server.base = rest.to_string();
                std::thread::spawn(move || {
                    let mut sink = String::new();
                    let _ = out.read_to_string(&mut sink);
                });
                return server;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Unix time as filings spell it (RFC 3339, UTC).
pub(crate) fn rfc(t: f64) -> String {
    deconflict_core::strategic::format_time(t)
}

/// `PUT` of the JSON `body` to `path` of `s`; panics when the server cannot be reached.
pub(crate) fn put(s: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(
        "PUT",
        &format!("{}{path}", s.base),
        Some(token),
        Some(&body.to_string()),
    )
}

/// Waits up to 5 s for a stream read by [`stream_lines`] to end: how long after `since` it
/// ended, and the lines it sent before; panics, naming `what`, if it is still open.
pub(crate) fn stream_end(
    rx: &std::sync::mpsc::Receiver<Option<String>>,
    since: Instant,
    what: &str,
) -> (Duration, Vec<String>) {
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Some(l)) => lines.push(l),
            Ok(None) => return (since.elapsed(), lines),
            Err(e) => panic!("{what} is still open 5 s on ({e}); got {lines:?}"),
        }
    }
}

/// Opens `GET /v1/stream` with `token` on `base` and reads it on a thread of its own, which
/// sends every line (`Some`) and then the end of the stream (`None`).
pub(crate) fn stream_lines(base: &str, token: &str) -> std::sync::mpsc::Receiver<Option<String>> {
    let resp = ureq::get(&format!("{base}/v1/stream"))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(resp.into_reader());
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            let _ = tx.send(Some(line.trim_end().to_string()));
            line.clear();
        }
        let _ = tx.send(None);
    });
    rx
}

/// (status, body) of a request, whatever the status; `Err` when the server cannot be reached
/// or does not answer within `timeout`.
pub(crate) fn try_call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, Value), String> {
    let mut req = ureq::request(method, url).timeout(timeout);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

/// (status, body) of a request; never panics on 4xx/5xx, panics when the server cannot be
/// reached.
pub(crate) fn call(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
    try_call(method, url, token, body, CALL_TIMEOUT).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// (status, body); status 0 (and `null`) when the server cannot be reached: for nodes that
/// may be down.
pub(crate) fn call_or_0(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
    try_call(method, url, token, body, CALL_TIMEOUT).unwrap_or((0, Value::Null))
}

/// A report of a small drone over 35.0 E at 120 m, level.
pub(crate) fn report(asset: &str, t: f64, lat: f64, trk: f64, gs: f64) -> Value {
    json!({"asset": asset, "time": t, "lat": lat, "lng": 35.0, "alt_m": 120.0, "gs_mps": gs,
           "track_deg": trk, "vs_mps": 0.0, "class": "uas_small"})
}

/// `POST /v1/tracks` with `reports`; panics when the server cannot be reached.
pub(crate) fn post(s: &Server, token: &str, reports: &[Value]) -> (u16, Value) {
    call(
        "POST",
        &format!("{}/v1/tracks", s.base),
        Some(token),
        Some(&Value::from(reports.to_vec()).to_string()),
    )
}

/// `POST /v1/tracks` to `base`; status 0 when it cannot be reached.
pub(crate) fn post_to(base: &str, token: &str, reports: &[Value]) -> (u16, Value) {
    call_or_0(
        "POST",
        &format!("{base}/v1/tracks"),
        Some(token),
        Some(&Value::from(reports.to_vec()).to_string()),
    )
}

/// `GET /v1/alerts?after=AFTER`, which must answer 200.
pub(crate) fn alerts(s: &Server, token: &str, after: u64) -> Vec<Value> {
    let (st, v) = call(
        "GET",
        &format!("{}/v1/alerts?after={after}", s.base),
        Some(token),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Waits up to `secs` until `f` holds, polling.
pub(crate) fn eventually<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads SSE events (id, data) of `GET /v1/stream` from `base`, resuming after `last_id` if
/// given, until `stop` says enough, the stream ends or `wait` passes; then disconnects.
pub(crate) fn read_events(
    base: &str,
    token: &str,
    last_id: Option<u64>,
    wait: Duration,
    mut stop: impl FnMut(&[(u64, Value)]) -> bool,
) -> Vec<(u64, Value)> {
    // Short reads, so that the clock and `stop` are looked at while the stream is quiet.
    let agent = ureq::AgentBuilder::new()
        .timeout_read(wait.min(Duration::from_millis(500)))
        .build();
    let mut req = agent
        .get(&format!("{base}/v1/stream"))
        .set("Authorization", &format!("Bearer {token}"));
    if let Some(id) = last_id {
        req = req.set("Last-Event-ID", &id.to_string());
    }
    let resp = req.call().unwrap();
    let mut reader = BufReader::new(resp.into_reader());
    let mut out = Vec::new();
    let (mut id, mut data) = (None, None);
    let deadline = Instant::now() + wait;
    let mut line = String::new();
    while Instant::now() < deadline && !stop(&out) {
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            // A read timeout: look at the clock again (a partial line stays in `line`).
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => continue,
            Err(_) => break,
        }
        let l = line.trim_end();
        if let Some(v) = l.strip_prefix("id:") {
            id = v.trim().parse::<u64>().ok();
        } else if let Some(v) = l.strip_prefix("data:") {
            data = serde_json::from_str::<Value>(v.trim()).ok();
        } else if l.is_empty() {
            if let (Some(i), Some(d)) = (id.take(), data.take()) {
                out.push((i, d));
            }
        }
        line.clear();
    }
    out
}

/// Reads up to `n` SSE events (id, data) within `wait`, then disconnects.
pub(crate) fn read_n_events(
    base: &str,
    token: &str,
    last_id: Option<u64>,
    n: usize,
    wait: Duration,
) -> Vec<(u64, Value)> {
    read_events(base, token, last_id, wait, |ev| ev.len() >= n)
}
