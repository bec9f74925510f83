#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! HTTPS with `--tls-cert`/`--tls-key`, checked by a TLS client someone else wrote (Python's
//! `ssl` and `urllib`, verifying the certificate): the API answers over TLS, plain HTTP to the
//! port gets nothing, and a client that opens a connection and never finishes its handshake
//! holds up nobody else.

mod support;

use std::io::Write;
use std::process::Command;
use std::time::Duration;
use support::single::party;
use support::{bin, write_config, Server};

/// Python's urllib against `url` with `ca` as the only trusted root: "STATUS BODY" or an
/// error line.
fn python_get(url: &str, ca: &std::path::Path, token: Option<&str>) -> String {
    let script = r#"
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 3:
    req.add_header("Authorization", "Bearer " + sys.argv[3])
try:
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print("ERROR", type(e).__name__, e)
"#;
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).arg(url).arg(ca);
    if let Some(t) = token {
        cmd.arg(t);
    }
    let out = cmd.output().expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_api_speaks_https_to_a_verifying_client_and_a_stalled_handshake_blocks_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let cfg = write_config(dir.path(), "scan_period_ms = 100\n");
    let mut serve = bin();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key);
    let s = Server::spawn(serve, "main", dir.path(), Duration::from_secs(20));
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);
    let token = party(dir.path(), "alpha");

    // A client that connects and never says a word: its handshake waits on its own.
    let addr = s.base.trim_start_matches("https://").to_string();
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled.write_all(&[0x16, 0x03]).unwrap(); // half a TLS record header, then silence

    let health = python_get(&format!("{}/healthz", s.base), &cert, None);
    assert!(
        health.starts_with("200 ") && health.contains("\"status\":\"ok\""),
        "{health}"
    );
    let alerts = python_get(&format!("{}/v1/alerts", s.base), &cert, Some(&token));
    assert_eq!(alerts, "200 []");
    let refused = python_get(&format!("{}/v1/alerts", s.base), &cert, Some("dcf_nope"));
    assert!(refused.starts_with("401 "), "{refused}");
    // Plain HTTP to the TLS port is not served.
    let plain = python_get(&format!("http://{addr}/healthz"), &cert, None);
    assert!(plain.starts_with("ERROR"), "{plain}");
    // A client that does not trust the certificate refuses the connection.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let other_ca = dir.path().join("other.pem");
    std::fs::write(&other_ca, other.cert.pem()).unwrap();
    let untrusted = python_get(&format!("{}/healthz", s.base), &other_ca, None);
    assert!(
        untrusted.contains("CERTIFICATE_VERIFY_FAILED") || untrusted.starts_with("ERROR"),
        "{untrusted}"
    );
    drop(stalled);
}

#[test]
fn a_certificate_without_its_key_or_an_unreadable_one_stops_start_up_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--tls-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cert.pem"), "{err}");
}
