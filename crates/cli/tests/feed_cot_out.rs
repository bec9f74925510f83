#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! `deconflict feed cot-out` end to end: a real `deconflict serve` with two parties, their
//! converging drones posted over HTTP, the bridge run with one party's token, and TAK clients
//! in the test (plain TCP sockets; Python's `ssl` for the mutual-TLS listener) reading the CoT
//! it sends.

mod support;

use serde_json::json;
use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::bridge::Bridge;
use support::single::{party, start};
use support::{bin, call, north, now, post, report, write_config, Server};

/// `deconflict feed cot-out` for the party of `token` against `s`, listening on a free port.
fn cot_out(dir: &Path, s: &Server, token: &str, extra: &[&str]) -> Bridge {
    cot_out_to(dir, &s.base, token, extra)
}

fn cot_out_to(dir: &Path, base: &str, token: &str, extra: &[&str]) -> Bridge {
    let mut args = vec!["cot-out", "--listen", "127.0.0.1:0", "--server", base];
    args.extend(["--status-s", "0.2", "--refresh-s", "0.5"]);
    args.extend(extra);
    Bridge::spawn(dir, token, &args, true)
}

/// Two drones of two parties (token, asset) 1 km apart at `lat`, closing head-on at 40 m/s at
/// 120 m: a warning for both; the second is the one to the north.
fn converge(s: &Server, a: (&str, &str), b: (&str, &str), lat: f64) {
    let t = now();
    assert_eq!(post(s, a.0, &[report(a.1, t, lat, 0.0, 20.0)]).0, 200);
    let north_of = lat + north(1000.0);
    assert_eq!(post(s, b.0, &[report(b.1, t, north_of, 180.0, 20.0)]).0, 200);
}

/// A TAK client: reads the bridge's events (cut at `</event>`, as TAK clients do) on a thread.
struct Tak {
    rx: mpsc::Receiver<Option<String>>,
    got: Vec<String>,
}

impl Tak {
    fn connect(addr: &str) -> Tak {
        let mut sock = TcpStream::connect(addr).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                match sock.read(&mut chunk) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                while let Some(end) = find(&buf, b"</event>") {
                    let ev: Vec<u8> = buf.drain(..end + 8).collect();
                    let _ = tx.send(Some(String::from_utf8(ev).unwrap()));
                }
            }
        });
        Tak { rx, got: Vec::new() }
    }

    /// Waits up to 15 s for an event for which `f` holds.
    fn wait_for(&mut self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(e) = self.got.iter().find(|e| f(e)) {
                return e.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {what}; got {:#?}", self.got);
            match self.rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(Some(e)) => self.got.push(e),
                Ok(None) => panic!("the bridge closed the connection; got {:#?}", self.got),
                Err(_) => {}
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of attribute `name` of the first element that has it.
fn attr<'a>(ev: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let i = ev.find(&key).unwrap_or_else(|| panic!("no {name} in {ev}")) + key.len();
    let j = ev[i..].find('"').unwrap() + i;
    &ev[i..j]
}

fn kind_is(kind: &str) -> impl Fn(&str) -> bool + '_ {
    move |e: &str| e.contains(&format!(" type=\"{kind}\""))
}

#[test]
fn a_tak_client_gets_the_intruder_as_a_track_and_the_alert_as_chat() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let mut bridge = cot_out(tmp.path(), &s, &rus, &["--max-connections", "2"]);
    bridge.line_with(&["stream open"]);
    let mut early = Tak::connect(&bridge.addr);
    bridge.line_with(&["1 clients"]);
    converge(&s, (&rus, "RUS-UAV-1"), (&coal, "COAL-UAV-9"), 35.0);
    let track = early.wait_for("the intruder's track", kind_is("a-u-A-M-F-Q"));
    let uid = attr(&track, "uid").to_string();
    assert!(uid.starts_with("deconflict-c-"), "{track}");
    assert_eq!(attr(&track, "how"), "m-g");
    assert_eq!(
        attr(&track, "callsign"),
        format!("INTRUDER {}", &uid["deconflict-".len()..])
    );
    let lat: f64 = attr(&track, "lat").parse().unwrap();
    assert!((lat - (35.0 + north(1000.0))).abs() < 0.002, "{track}");
    assert_eq!(attr(&track, "hae"), "120");
    assert_eq!(attr(&track, "ce"), "9999999");
    assert_eq!(attr(&track, "course"), "180");
    assert_eq!(attr(&track, "speed"), "20");
    assert!(track.contains("<remarks>WARNING (level 3) new c-"), "{track}");
    assert!(track.contains("own RUS-UAV-1"), "{track}");
    let chat = early.wait_for("the alert as GeoChat", kind_is("b-t-f"));
    assert_eq!(attr(&chat, "senderCallsign"), "DECONFLICT");
    assert!(chat.contains(&uid["deconflict-".len()..]), "{chat}");
    // A client that connects later is given the intruder at once.
    let mut late = Tak::connect(&bridge.addr);
    late.wait_for("the intruder on joining", |e| {
        e.contains(&format!("uid=\"{uid}\""))
    });
    // Past --max-connections a connection is closed at once and counted.
    let mut third = TcpStream::connect(&bridge.addr).unwrap();
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(third.read(&mut [0u8; 64]).unwrap_or(0), 0);
    bridge.line_with(&["2 clients", "1 refused connections"]);
    // A hotline message to the party is chat too.
    let (st, v) = call(
        "POST",
        &format!("{}/v1/messages", s.base),
        Some(&coal),
        Some(
            &json!({"to": {"parties": ["RUS"]}, "kind": "notice", "text": "Sortie <0600Z> & \"on\""})
                .to_string(),
        ),
    );
    assert_eq!(st, 201, "{v}");
    let m = early.wait_for("the hotline message", |e| e.contains("HOTLINE COAL"));
    assert!(
        m.contains("[notice] Sortie &lt;0600Z&gt; &amp; &quot;on&quot;"),
        "{m}"
    );
    // The drones go silent: the conflict is cleared (drop_s 4) and the track deleted.
    let del = early.wait_for("the delete", kind_is("t-x-d-d"));
    assert!(del.contains(&format!("<link uid=\"{uid}\"")), "{del}");
    // Nothing a client was sent names the other party's drone, its party or its callsign.
    for e in early.got.iter().chain(&late.got) {
        assert!(!e.contains("COAL-UAV-9"), "{e}");
        assert!(!e.contains("COALITION"), "{e}");
    }
    bridge.line_with(&["2 alerts", "1 messages", "0 dropped clients"]);
}

#[test]
fn a_refused_token_stops_the_bridge_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let mut bridge = cot_out(
        tmp.path(),
        &s,
        "dcf_0000000000000000000000000000000000000000000000000000000000000000",
        &[],
    );
    assert!(!bridge.stopped().success());
    bridge.line_with(&["refused the token (401)"]);
}

/// `deconflict serve` on `port` of `dir`'s data directory.
fn serve_on(dir: &Path, port: u16) -> Server {
    let cfg = write_config(
        dir,
        "coast_s = 2.0\ndrop_s = 4.0\nscan_period_ms = 100\nscan_min_interval_ms = 10\n",
    );
    let mut serve = bin();
    serve
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&cfg);
    Server::spawn(serve, "main", dir, Duration::from_secs(20))
}

#[test]
fn the_stream_is_reopened_with_backoff_and_resumed_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    // A port with nothing on it yet: the service starts there later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut bridge = cot_out_to(tmp.path(), &format!("http://127.0.0.1:{port}"), &rus, &[]);
    bridge.line_with(&["the stream ended (unreachable"]);
    let mut tak = Tak::connect(&bridge.addr);
    let s = serve_on(tmp.path(), port);
    bridge.line_with(&["stream open"]);
    converge(&s, (&rus, "RUS-UAV-1"), (&coal, "COAL-UAV-9"), 35.0);
    let first = tak.wait_for("the first intruder", kind_is("a-u-A-M-F-Q"));
    let first_uid = attr(&first, "uid").to_string();
    // The service goes away and comes back; a conflict alerted while the bridge is still
    // away (its backoff) reaches the client all the same, and nothing comes twice.
    drop(s);
    bridge.line_with(&["1 alerts", "stream closed"]);
    let s = serve_on(tmp.path(), port);
    converge(&s, (&rus, "RUS-UAV-2"), (&coal, "COAL-UAV-8"), 36.0);
    let second = tak.wait_for("the second intruder", |e| {
        kind_is("a-u-A-M-F-Q")(e) && !e.contains(&format!("uid=\"{first_uid}\""))
    });
    let lat: f64 = attr(&second, "lat").parse().unwrap();
    assert!((lat - 36.0 - north(1000.0)).abs() < 0.002, "{second}");
    tak.wait_for("the second alert", |e| {
        kind_is("b-t-f")(e) && e.contains(&attr(&second, "uid")["deconflict-".len()..])
    });
    // Let the first conflict's clearing come through too, then look for repeats.
    std::thread::sleep(Duration::from_secs(1));
    while let Ok(Some(e)) = tak.rx.try_recv() {
        tak.got.push(e);
    }
    let chats: Vec<&str> = tak
        .got
        .iter()
        .filter(|e| kind_is("b-t-f")(e))
        .map(|e| attr(e, "uid"))
        .collect();
    let mut unique = chats.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), chats.len(), "an alert came twice: {chats:#?}");
    drop(s);
}

#[test]
fn over_mutual_tls_only_a_client_with_the_partys_certificate_sees_its_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let f = support::tls::mutual_tls(tmp.path());
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let (cert, key, ca) = (path(&f.server_cert), path(&f.server_key), path(&f.ca));
    let mut bridge = cot_out(
        tmp.path(),
        &s,
        &rus,
        &["--tls-cert", &cert, "--tls-key", &key, "--tls-client-ca", &ca],
    );
    bridge.line_with(&["stream open"]);
    converge(&s, (&rus, "RUS-UAV-1"), (&coal, "COAL-UAV-9"), 35.0);
    bridge.line_with(&["1 intruders"]);
    // An enrolled crew's client: given the intruder on joining, over TLS.
    let got = support::tls::python_tls(
        &bridge.addr,
        &f.ca,
        Some((&f.client_cert, &f.client_key)),
        "",
        2.0,
    );
    assert!(got.starts_with("SENT"), "{got}");
    assert!(
        got.contains("uid=\"deconflict-c-") && got.contains("a-u-A-M-F-Q"),
        "{got}"
    );
    // Without a certificate, or in plain TCP: nothing of the picture.
    let got = support::tls::python_tls(&bridge.addr, &f.ca, None, "", 2.0);
    assert!(!got.contains("deconflict-c-"), "{got}");
    let mut plain = TcpStream::connect(&bridge.addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 4096];
    let n = plain.read(&mut buf).unwrap_or(0);
    assert!(!String::from_utf8_lossy(&buf[..n]).contains("deconflict-c-"));
    bridge.line_with(&["TLS handshake failed"]);
}

#[test]
fn with_udp_every_event_is_a_multicast_datagram_and_a_hotline_ack_is_chat() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    // A TAK client on the mesh: joined to the group on loopback, as ATAK joins 239.2.3.1.
    let group = std::net::Ipv4Addr::new(239, 2, 3, 1);
    let mesh = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    mesh.join_multicast_v4(&group, &std::net::Ipv4Addr::LOCALHOST)
        .unwrap();
    mesh.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let to = format!("{group}:{}", mesh.local_addr().unwrap().port());
    let mut bridge = cot_out(
        tmp.path(),
        &s,
        &rus,
        &["--udp", &to, "--udp-interface", "127.0.0.1"],
    );
    bridge.line_with(&["sending UDP to", &to, "ttl 1"]);
    bridge.line_with(&["stream open"]);
    converge(&s, (&rus, "RUS-UAV-1"), (&coal, "COAL-UAV-9"), 35.0);
    let mut got: Vec<String> = Vec::new();
    let mut wait_for = |what: &str, f: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut buf = vec![0u8; 65_536];
        loop {
            if let Some(e) = got.iter().find(|e| f(e)) {
                return e.clone();
            }
            assert!(Instant::now() < deadline, "no {what}; got {got:#?}");
            if let Ok(n) = mesh.recv(&mut buf) {
                let ev = String::from_utf8(buf[..n].to_vec()).unwrap();
                // One event per datagram, whole.
                assert_eq!(ev.matches("<event ").count(), 1, "{ev}");
                assert!(ev.trim_end().ends_with("</event>"), "{ev}");
                got.push(ev);
            }
        }
    };
    let track = wait_for("the intruder's track", &kind_is("a-u-A-M-F-Q"));
    let uid = attr(&track, "uid").to_string();
    assert!(uid.starts_with("deconflict-c-"), "{track}");
    wait_for("the alert as GeoChat", &|e: &str| {
        kind_is("b-t-f")(e) && e.contains(&uid["deconflict-".len()..])
    });
    // RUS's notice is acknowledged by COAL: RUS's crews see it on the mesh.
    let (st, v) = call(
        "POST",
        &format!("{}/v1/messages", s.base),
        Some(&rus),
        Some(&json!({"to": {"parties": ["COAL"]}, "kind": "notice", "text": "Sortie 0600Z"}).to_string()),
    );
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (st, v) = call(
        "POST",
        &format!("{}/v1/messages/{id}/ack", s.base),
        Some(&coal),
        None,
    );
    assert!(st == 200 || st == 204, "{st} {v}");
    let ack = wait_for("the acknowledgement", &|e: &str| {
        kind_is("b-t-f")(e) && e.contains(&format!("{id} acknowledged by COAL at "))
    });
    assert_eq!(attr(&ack, "senderCallsign"), "HOTLINE");
    for e in &got {
        assert!(!e.contains("COAL-UAV-9"), "{e}");
    }
    bridge.line_with(&["datagrams to", "(0 lost)", "1 intruders"]);
}

#[test]
fn udp_options_that_cannot_work_are_refused_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let tf = tmp.path().join("t.token");
    std::fs::write(&tf, "dcf_x\n").unwrap();
    let run = |extra: &[&str]| {
        let out = bin()
            .args([
                "feed",
                "cot-out",
                "--listen",
                "127.0.0.1:0",
                "--server",
                "http://127.0.0.1:1",
            ])
            .arg("--token-file")
            .arg(&tf)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--udp", "239.2.3.1:6969", "--udp-ttl", "300"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--udp-ttl"), "{err}");
    let (code, err) = run(&["--udp-ttl", "2"]);
    assert_eq!(code, Some(2), "--udp-ttl needs --udp: {err}");
    let (code, err) = run(&["--udp", "127.0.0.1:6969", "--udp-interface", "127.0.0.1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("IPv4 multicast group"), "{err}");
}
