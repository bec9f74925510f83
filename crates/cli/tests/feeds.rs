#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The feed bridges end to end: a real `deconflict serve`, a real `deconflict feed sbs|beast|cot`
//! process, and a source in the test (an SBS-1 or Beast server on TCP; CoT sent over TCP and
//! UDP).
//! What counts is what the service stored, read back with `GET /v1/tracks`.

mod support;

use serde_json::Value;
use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use support::bridge::Bridge;
use support::single::{eventually, party, start};
use support::{bin, call, Server};

/// `deconflict feed ARGS` against `s`, with quick batches and status lines; where it listens
/// when it is `feed cot`.
fn spawn(dir: &Path, s: &Server, token: &str, args: &[&str]) -> (Bridge, Option<String>) {
    spawn_to(dir, &s.base, token, args)
}

fn spawn_to(dir: &Path, base: &str, token: &str, args: &[&str]) -> (Bridge, Option<String>) {
    let mut all = args.to_vec();
    all.extend(["--server", base, "--batch-ms", "50", "--status-s", "0.2"]);
    let listens = args[0] == "cot";
    let b = Bridge::spawn(dir, token, &all, listens);
    let addr = listens.then(|| b.addr.clone());
    (b, addr)
}

/// The party's own live tracks by asset id.
fn own(s: &Server, token: &str) -> Vec<Value> {
    let (st, v) = call("GET", &format!("{}/v1/tracks", s.base), Some(token), None);
    assert_eq!(st, 200, "{v}");
    v["own"].as_array().unwrap().clone()
}

fn stored(s: &Server, token: &str, asset: &str, lat: f64, lng: f64) -> Value {
    eventually(&format!("{asset} stored at {lat}, {lng}"), || {
        own(s, token).into_iter().find(|t| {
            t["asset"] == asset
                && (t["lat"].as_f64().unwrap() - lat).abs() < 1e-9
                && (t["lng"].as_f64().unwrap() - lng).abs() < 1e-9
        })
    })
}

fn sbs(kind: u8, icao: &str, f: &[(usize, &str)]) -> String {
    let mut v = vec![""; 22];
    let k = kind.to_string();
    v[..10].copy_from_slice(&[
        "MSG",
        &k,
        "1",
        "1",
        icao,
        "1",
        "2026/12/01",
        "18:00:00.000",
        "2026/12/01",
        "18:00:00.000",
    ]);
    for (i, x) in f {
        v[*i] = x;
    }
    v.join(",") + "\r\n"
}

#[test]
fn sbs_lines_from_a_tcp_source_are_stored_and_the_bridge_reconnects() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let token = party(tmp.path(), "ADSB");
    let src = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = src.local_addr().unwrap().to_string();
    let (go_on, wait) = mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        // First connection: two aircraft, bad lines among them; then the source goes away.
        let (mut c, _) = src.accept().unwrap();
        let mut text = String::new();
        text += &sbs(1, "4CA2D6", &[(10, "RYR12AB ")]);
        text += &sbs(4, "4CA2D6", &[(12, "420"), (13, "90.5"), (16, "-640")]);
        text += &sbs(5, "4CA2D6", &[(11, "24000")]);
        text += "MSG,3,1,1,4CA2D6,1,garbage\r\n";
        text += &sbs(3, "4CA2D6", &[(14, "35.1x"), (15, "35.0")]); // not a number
        text += &sbs(3, "4CA2D6", &[(11, "24000"), (14, "91.5"), (15, "35.1")]); // impossible
        text += &sbs(3, "4CA2D6", &[(14, "35.12345"), (15, "35.54321")]);
        text += &sbs(4, "~A0B1C2", &[(12, "150"), (13, "270"), (16, "0")]);
        text += &sbs(3, "~A0B1C2", &[(11, "3000"), (14, "34.9"), (15, "35.2")]);
        text += &sbs(3, "486257", &[(11, "3000"), (14, "34.8"), (15, "35.3")]); // no velocity yet
        text += "\u{0}\u{7f}\u{1b}[31m not sbs at all\n";
        c.write_all(text.as_bytes()).unwrap();
        wait.recv().unwrap();
        drop(c);
        // The bridge comes back: the aircraft moved.
        let (mut c, _) = src.accept().unwrap();
        let mut text = sbs(4, "4CA2D6", &[(12, "420"), (13, "90.5"), (16, "0")]);
        text += &sbs(3, "4CA2D6", &[(11, "24100"), (14, "35.2"), (15, "35.6")]);
        c.write_all(text.as_bytes()).unwrap();
        wait.recv().unwrap();
    });
    let (mut bridge, _) = spawn(tmp.path(), &s, &token, &["sbs", &addr]);
    let t = stored(&s, &token, "4CA2D6", 35.12345, 35.54321);
    assert!(
        (t["alt_m"].as_f64().unwrap() - 24000.0 * 0.3048).abs() < 1e-6,
        "{t}"
    );
    assert!(
        (t["gs_mps"].as_f64().unwrap() - 420.0 * 1852.0 / 3600.0).abs() < 1e-6,
        "{t}"
    );
    assert_eq!(t["track_deg"], 90.5);
    assert!(
        (t["vs_mps"].as_f64().unwrap() + 640.0 * 0.3048 / 60.0).abs() < 1e-6,
        "{t}"
    );
    assert_eq!(t["class"], "fixed_wing");
    let t = stored(&s, &token, "~A0B1C2", 34.9, 35.2);
    assert!((t["alt_m"].as_f64().unwrap() - 914.4).abs() < 1e-6, "{t}");
    // The aircraft without a velocity is not reported; the bad lines are counted by reason.
    assert!(own(&s, &token).iter().all(|t| t["asset"] != "486257"));
    bridge.line_with(&[
        "2 posted",
        "bad_number 1",
        "impossible_value 1",
        "no_velocity 1",
        "malformed 2",
    ]);
    go_on.send(()).unwrap();
    let t = stored(&s, &token, "4CA2D6", 35.2, 35.6);
    assert_eq!(t["vs_mps"], 0.0);
    go_on.send(()).unwrap();
    feeder.join().unwrap();
}

fn cot(uid: &str, kind: &str, lat: f64, lon: f64, hae: &str, course: f64, speed: f64) -> String {
    let t = support::rfc(support::now());
    let stale = support::rfc(support::now() + 30.0);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><event version="2.0" uid="{uid}" type="{kind}" how="m-g" time="{t}" start="{t}" stale="{stale}"><point lat="{lat}" lon="{lon}" hae="{hae}" ce="9999999.0" le="9999999.0"/><detail><track course="{course}" speed="{speed}"/><contact callsign="{uid}"/></detail></event>"#
    )
}

#[test]
fn cot_events_over_tcp_and_udp_are_stored_with_their_class() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let token = party(tmp.path(), "TAK");
    let (mut bridge, addr) = spawn(tmp.path(), &s, &token, &["cot", "--listen", "127.0.0.1:0"]);
    let addr = addr.unwrap();
    // TCP: events back to back with no delimiter, split across writes at awkward places,
    // with bad ones among them.
    let mut stream = String::new();
    stream += &cot("UAV-1", "a-f-A-M-F-Q", 35.1, 35.9, "1200", 270.0, 45.0);
    stream += &cot("HELO-2", "a-f-A-M-H", 35.2, 35.8, "300.5", 90.0, 60.0);
    stream += "<event uid='cut' type='a-f-A'><point lat='1'"; // cut off by the next event
    stream += &cot("QUAD-3", "a-f-A-C-F-Q", 35.3, 35.7, "9999999", 0.0, 5.0); // unknown hae
    stream += &cot("BAD-4", "a-f-A-M-F", 95.0, 35.7, "100", 0.0, 5.0); // lat 95
    stream += &cot("FAST-5", "a-f-A-M-F", 35.0, 35.7, "100", 0.0, 1e9); // speed 1e9
    stream += &cot("ENEMY-6", "a-h-A-M-F-Q", 35.0, 35.7, "100", 0.0, 5.0); // not ours
    stream += &cot("TRUCK-7", "a-f-G-U-C", 35.0, 35.7, "0", 0.0, 5.0); // not in the air
    stream += r#"<event uid="x" type="a-f-A"><point lat="1" lon="2" hae="3"><detail></event>"#;
    let mut c = TcpStream::connect(&addr).unwrap();
    for chunk in stream.as_bytes().chunks(97) {
        c.write_all(chunk).unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let t = stored(&s, &token, "UAV-1", 35.1, 35.9);
    assert_eq!(t["class"], "uas_large");
    assert_eq!(
        (t["alt_m"].as_f64(), t["gs_mps"].as_f64(), t["track_deg"].as_f64()),
        (Some(1200.0), Some(45.0), Some(270.0))
    );
    let t = stored(&s, &token, "HELO-2", 35.2, 35.8);
    assert_eq!(t["class"], "rotorcraft");
    assert_eq!(t["alt_m"], 300.5);
    // UDP: one event per datagram, as TAK's mesh SA sends them.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(
        cot("QUAD-8", "a-f-A-M-H-Q", 35.4, 35.6, "50", 180.0, 8.0).as_bytes(),
        &addr,
    )
    .unwrap();
    u.send_to(b"\x01\x02 not xml at all </event>", &addr).unwrap();
    let t = stored(&s, &token, "QUAD-8", 35.4, 35.6);
    assert_eq!(t["class"], "uas_small");
    let line = bridge.line_with(&[
        "3 posted",
        "no_altitude 1",
        "impossible_value 2",
        "not_own 1",
        "ignored 1",
        "truncated 1",
        "malformed 2",
    ]);
    let assets: Vec<Value> = own(&s, &token).iter().map(|t| t["asset"].clone()).collect();
    for bad in ["QUAD-3", "BAD-4", "FAST-5", "ENEMY-6", "TRUCK-7", "cut", "x"] {
        assert!(
            !assets.contains(&Value::from(bad)),
            "{bad} stored: {assets:?} ({line})"
        );
    }
    // Moving on the same connection updates the stored position.
    c.write_all(cot("UAV-1", "a-f-A-M-F-Q", 35.11, 35.89, "1210", 270.0, 45.0).as_bytes())
        .unwrap();
    stored(&s, &token, "UAV-1", 35.11, 35.89);
}

#[test]
fn a_refused_token_stops_the_bridge_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let (mut bridge, addr) = spawn(
        tmp.path(),
        &s,
        "dcf_0000000000000000000000000000000000000000000000000000000000000000",
        &["cot", "--listen", "127.0.0.1:0"],
    );
    let mut c = TcpStream::connect(addr.unwrap()).unwrap();
    c.write_all(cot("UAV-1", "a-f-A-M-F-Q", 35.1, 35.9, "1200", 270.0, 45.0).as_bytes())
        .unwrap();
    let st = eventually("the bridge to stop", || bridge.child.try_wait().unwrap());
    assert!(!st.success());
    bridge.line_with(&["refused the token (401)"]);
}

#[test]
fn reports_wait_for_a_service_that_is_away_and_go_in_when_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let token = party(tmp.path(), "LATE");
    // A port with nothing on it yet: the service starts there later.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let (mut bridge, addr) = spawn_to(tmp.path(), &base, &token, &["cot", "--listen", "127.0.0.1:0"]);
    let mut c = TcpStream::connect(addr.unwrap()).unwrap();
    c.write_all(cot("UAV-1", "a-f-A-M-F-Q", 35.1, 35.9, "1200", 270.0, 45.0).as_bytes())
        .unwrap();
    bridge.line_with(&["service did not take 1 reports (unreachable"]);
    let cfg = support::write_config(
        tmp.path(),
        "coast_s = 30.0\ndrop_s = 60.0\nscan_period_ms = 100\n",
    );
    let mut serve = bin();
    serve
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(tmp.path().join("data"))
        .arg("--config")
        .arg(&cfg);
    let s = Server::spawn(serve, "main", tmp.path(), Duration::from_secs(20));
    // The batch the service did not acknowledge is tried again with backoff, and goes in.
    let t = stored(&s, &token, "UAV-1", 35.1, 35.9);
    assert_eq!(t["class"], "uas_large");
    bridge.line_with(&["1 reports, 1 posted"]);
}

/// Beast frames (hex) of the recorded flight in `tests/data/beast-slice.csv.gz`: KLM1302, ICAO
/// 486257, climbing out of Toulouse. Identification, odd position, velocity, even position.
const BEAST: [&str; 4] = [
    "1a330003730619eab58c486257232cc371cf0ca0b6b98a",
    "1a330003b919b1f5a78d4862575807e49976518250099c",
    "1a330003b92617a3ad8d48625799242506100405d0f0b8",
    "1a330003b96fd20db78d4862575807e11594537076cd57",
];
/// The next odd position of the same aircraft, as an AVR line.
const AVR_NEXT: &str = "*8d4862575807e49982517d6598de;\n";

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// A Beast frame as sent: every 0x1a after the first byte doubled.
fn beast_escaped(h: &str) -> Vec<u8> {
    let f = unhex(h);
    let mut out = vec![f[0]];
    for &b in &f[1..] {
        out.push(b);
        if b == 0x1a {
            out.push(0x1a);
        }
    }
    out
}

#[test]
fn beast_and_avr_frames_are_stored_where_pymodes_decodes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let token = party(tmp.path(), "ADSB");
    let src = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = src.local_addr().unwrap().to_string();
    let (go_on, wait) = mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        // First connection, Beast: garbage, a corrupted copy of the even position, a frame cut
        // off by the next, then the flight's frames in order.
        let (mut c, _) = src.accept().unwrap();
        let mut bytes = b"\x00\x01 not beast".to_vec();
        let mut bad = beast_escaped(BEAST[3]);
        bad[20] ^= 0x04;
        bytes.extend(&bad);
        bytes.extend(&beast_escaped(BEAST[0])[..12]);
        for f in BEAST {
            bytes.extend(beast_escaped(f));
        }
        c.write_all(&bytes).unwrap();
        wait.recv().unwrap();
        drop(c);
        // The bridge comes back to a source that now speaks AVR.
        let (mut c, _) = src.accept().unwrap();
        c.write_all(format!("*zz;\n{AVR_NEXT}").as_bytes()).unwrap();
        wait.recv().unwrap();
    });
    let (mut bridge, _) = spawn(tmp.path(), &s, &token, &["beast", &addr]);
    // pyModeS's position for the even/odd pair.
    let t = stored(&s, &token, "486257", 43.626434326171875, 1.364348655523256);
    assert!(
        (t["alt_m"].as_f64().unwrap() - 550.0 * 0.3048).abs() < 1e-6,
        "{t}"
    );
    assert!((t["track_deg"].as_f64().unwrap() - 322.549).abs() < 0.01, "{t}");
    assert_eq!(t["class"], "fixed_wing");
    bridge.line_with(&[
        "1 posted",
        "bad_crc 1",
        "truncated 1",
        "malformed 1",
        "no_position 1",
    ]);
    go_on.send(()).unwrap();
    // pyModeS's position for the next odd frame, decoded against the last position.
    stored(&s, &token, "486257", 43.62656932766154, 1.3642011369977678);
    bridge.line_with(&["2 posted", "malformed 2"]);
    go_on.send(()).unwrap();
    feeder.join().unwrap();
}

#[test]
fn cot_over_mutual_tls_takes_a_client_with_a_certificate_and_refuses_one_without() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let s = start(dir);
    let token = party(dir, "TAK");
    // A CA of the party's own, the bridge's certificate and a crew's client certificate.
    let f = support::tls::mutual_tls(dir);
    let (ca, server_cert, server_key) = (&f.ca, &f.server_cert, &f.server_key);
    let (client_cert, client_key) = (&f.client_cert, &f.client_key);
    let (mut bridge, addr) = spawn(
        dir,
        &s,
        &token,
        &[
            "cot",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            server_cert.to_str().unwrap(),
            "--tls-key",
            server_key.to_str().unwrap(),
            "--tls-client-ca",
            ca.to_str().unwrap(),
        ],
    );
    let addr = addr.unwrap();
    // Without a client certificate: refused at the handshake, nothing stored.
    let out = support::tls::python_tls(
        &addr,
        ca,
        None,
        &cot("NOCERT-1", "a-f-A-M-F-Q", 35.5, 35.5, "100", 0.0, 10.0),
        0.0,
    );
    bridge.line_with(&["TLS handshake failed"]);
    // With one: stored.
    let sent = support::tls::python_tls(
        &addr,
        ca,
        Some((client_cert, client_key)),
        &cot("CREW-UAV-2", "a-f-A-M-F-Q", 35.6, 35.4, "800", 90.0, 30.0),
        0.0,
    );
    assert_eq!(sent, "SENT");
    let t = stored(&s, &token, "CREW-UAV-2", 35.6, 35.4);
    assert_eq!(t["class"], "uas_large");
    assert!(
        own(&s, &token).iter().all(|t| t["asset"] != "NOCERT-1"),
        "a client without a certificate got a report in ({out})"
    );
    // Plain TCP to the TLS port: nothing stored either.
    let mut c = TcpStream::connect(&addr).unwrap();
    let _ = c.write_all(cot("PLAIN-3", "a-f-A-M-F-Q", 35.7, 35.3, "100", 0.0, 10.0).as_bytes());
    drop(c);
    std::thread::sleep(Duration::from_millis(500));
    assert!(own(&s, &token).iter().all(|t| t["asset"] != "PLAIN-3"));
}

#[test]
fn trickling_cot_clients_are_cut_and_hold_no_slot_from_a_real_one() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let token = party(tmp.path(), "TAK");
    let (mut bridge, addr) = spawn(
        tmp.path(),
        &s,
        &token,
        &[
            "cot",
            "--listen",
            "127.0.0.1:0",
            "--max-connections",
            "2",
            "--event-timeout-s",
            "1",
        ],
    );
    let addr = addr.unwrap();
    // Two clients take every slot, each trickling one event a byte every 100 ms: never idle
    // long enough for --idle-s (300 s), never finishing.
    let event = cot("SLOW-1", "a-f-A-M-F-Q", 35.5, 35.5, "100", 0.0, 10.0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickles: Vec<_> = (0..2)
        .map(|_| {
            let (addr, event, stop) = (addr.clone(), event.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(&addr).unwrap();
                for b in event.as_bytes() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || c.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Both are cut after 1 s; a real client then gets a slot and its event is stored.
    bridge.line_with(&["slow_source 2"]);
    let mut c = TcpStream::connect(&addr).unwrap();
    c.write_all(cot("REAL-2", "a-f-A-M-F-Q", 35.6, 35.4, "800", 90.0, 30.0).as_bytes())
        .unwrap();
    stored(&s, &token, "REAL-2", 35.6, 35.4);
    assert!(own(&s, &token).iter().all(|t| t["asset"] != "SLOW-1"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in trickles {
        t.join().unwrap();
    }
}
