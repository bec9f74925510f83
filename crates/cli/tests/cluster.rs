#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Several nodes as one service: real `deconflict serve` processes on loopback sharing one real
//! PostgreSQL database (a fresh schema per test) and a real NATS JetStream server (started by
//! each test on a free port, so it can be stopped and started again).
//!
//! Needs `DECONFLICT_TEST_PG` (e.g. `postgres://root@127.0.0.1:5432/test`) and `nats-server`
//! on the PATH or at /usr/sbin/nats-server; without them each test says so and passes. CI
//! (`.ci/run`) sets both up, so there they always run.

mod support;

use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use support::{bin, call, call_or_0, cli_ok, eventually, north, now, post_to, read_events, Server};

fn nats_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("NATS_SERVER") {
        return Some(PathBuf::from(p));
    }
    for p in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// The PostgreSQL URL and the NATS binary, or None (the test then passes with a note).
fn services(test: &str) -> Option<(String, PathBuf)> {
    let pg = std::env::var("DECONFLICT_TEST_PG").ok();
    let nats = nats_binary();
    match (pg, nats) {
        (Some(pg), Some(nats)) => Some((pg, nats)),
        _ => {
            eprintln!("{test}: skipped: needs DECONFLICT_TEST_PG and nats-server (CI runs it)");
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A NATS server with JetStream on a port of its own, storing in `dir`.
struct Nats {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nats {
    fn start(bin: &Path, dir: &Path) -> Nats {
        let mut n = Nats {
            bin: bin.to_path_buf(),
            port: free_port(),
            dir: dir.join("nats"),
            child: None,
        };
        n.resume();
        n
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let child = Command::new(&self.bin)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One test's cluster: a schema of its own, a NATS of its own, node data directories that
/// share one service key.
struct Cluster {
    pg: String,
    schema: String,
    root: PathBuf,
    nats: Nats,
}

impl Cluster {
    fn new(test: &str, root: &Path) -> Option<Cluster> {
        let (pg, nats_bin) = services(test)?;
        let schema = format!("t_{}_{}", test, std::process::id());
        let nats = Nats::start(&nats_bin, root);
        let c = Cluster {
            pg,
            schema,
            root: root.to_path_buf(),
            nats,
        };
        // The first store connection creates the schema and the key; the others copy the key.
        c.cli("a", &["party", "list"]);
        for n in ["b", "c"] {
            std::fs::create_dir_all(c.data(n)).unwrap();
            std::fs::copy(c.data("a").join("service.key"), c.data(n).join("service.key")).unwrap();
        }
        Some(c)
    }

    fn data(&self, node: &str) -> PathBuf {
        self.root.join(format!("data-{node}"))
    }

    fn store_args(&self, node: &str) -> Vec<String> {
        vec![
            "--store".into(),
            self.pg.clone(),
            "--pg-schema".into(),
            self.schema.clone(),
            "--data-dir".into(),
            self.data(node).display().to_string(),
        ]
    }

    fn cli(&self, node: &str, args: &[&str]) -> String {
        cli_ok(args, &self.store_args(node))
    }

    fn party(&self, name: &str) -> String {
        self.cli("a", &["party", "add", name]);
        self.cli("a", &["token", "issue", name])
    }

    fn config(&self) -> PathBuf {
        support::write_config(
            &self.root,
            // Hundreds of filings between two parties: the disclosure budget out of reach.
            "coast_s = 3.0\ndrop_s = 8.0\nscan_period_ms = 100\nscan_min_interval_ms = 10\nmetrics_token = \"cluster-test-metrics\"\n[disclosure]\nper_party_per_hour = 100000\n[rate]\nrequests_per_s = 1000000\nrequest_burst = 1000000\n",
        )
    }

    fn start(&self, node: &str) -> Node {
        let mut serve = bin();
        serve
            .args(["serve", "--listen", "127.0.0.1:0", "--node", node, "--nats"])
            .arg(self.nats.url())
            .args(self.store_args(node))
            .arg("--config")
            .arg(self.config());
        Server::spawn(serve, node, &self.data(node), Duration::from_secs(30))
    }

    /// The whole audit export (every chain), after checking it verifies offline.
    fn audit(&self) -> Vec<Value> {
        let file = self.root.join("audit.jsonl");
        self.cli("a", &["audit", "export", "--out", file.to_str().unwrap()]);
        let out = bin().args(["audit", "verify"]).arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "the audit log does not verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.pg)
            .args([
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            ])
            .output();
    }
}

/// One node of the cluster.
type Node = Server;

impl Node {
    fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    /// `/healthz`; `null` when the node cannot be reached.
    fn health(&self) -> Value {
        call_or_0("GET", &format!("{}/healthz", self.base), None, None).1
    }

    fn metric(&self, name: &str) -> f64 {
        let text = ureq::get(&format!("{}/metrics", self.base))
            .set("Authorization", "Bearer cluster-test-metrics")
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} missing on {}", self.name))
    }
}

/// A report of a small drone at 20 m/s.
fn report(asset: &str, t: f64, lat: f64, trk: f64) -> Value {
    support::report(asset, t, lat, trk, 20.0)
}

/// `POST /v1/tracks`; status 0 when the node cannot be reached.
fn post(n: &Node, token: &str, reports: &[Value]) -> (u16, Value) {
    post_to(&n.base, token, reports)
}

/// All of a party's alerts.
fn alerts(n: &Node, token: &str) -> Vec<Value> {
    support::alerts(n, token, 0)
}

/// Waits until every node hears all the others.
fn all_hear_each_other(nodes: &[&Node]) {
    eventually("nodes to hear each other", 20, || {
        nodes
            .iter()
            .all(|n| {
                let h = n.health();
                h["nats"] == "connected" && h["peers"].as_array().map_or(0, |p| p.len()) == nodes.len() - 1
            })
            .then_some(())
    });
}

#[test]
fn reports_to_node_a_alert_the_other_party_on_node_c() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(c) = Cluster::new("alert_a_to_c", tmp.path()) else {
        return;
    };
    let rus = c.party("RUS");
    let coal = c.party("COAL");
    let (a, b, n3) = (c.start("a"), c.start("b"), c.start("c"));
    all_hear_each_other(&[&a, &b, &n3]);

    // COAL listens on node C; both parties report to node A only.
    let base = n3.base.clone();
    let coal2 = coal.clone();
    let listener = std::thread::spawn(move || {
        read_events(&base, &coal2, None, Duration::from_secs(25), |ev| {
            ev.iter().any(|(_, d)| d["event"] == "cleared")
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    let t = now();
    assert_eq!(post(&a, &rus, &[report("RUS-UAV-1", t, 35.0, 0.0)]).0, 200);
    assert_eq!(
        post(&a, &coal, &[report("COAL-UAV-9", t, 35.0 + north(1800.0), 180.0)]).0,
        200
    );
    // A while later (less than coast_s) they turn away from each other: the conflict clears.
    std::thread::sleep(Duration::from_millis(1500));
    let t = now();
    assert_eq!(post(&a, &rus, &[report("RUS-UAV-1", t, 35.0, 180.0)]).0, 200);
    assert_eq!(
        post(&a, &coal, &[report("COAL-UAV-9", t, 35.0 + north(1800.0), 0.0)]).0,
        200
    );
    let events = listener.join().unwrap();

    // In order, without duplicates: seq 1, 2, ... and new before cleared, one of each.
    let seqs: Vec<u64> = events.iter().map(|(i, _)| *i).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "{events:?}");
    let kinds: Vec<&str> = events.iter().map(|(_, d)| d["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["new", "cleared"], "{events:?}");
    assert_eq!(events[0].1["own_asset"], "COAL-UAV-9");
    assert!(!events[0].1.to_string().contains("RUS-UAV-1"));
    // The same alerts on every node, and stored once: exactly one node spoke.
    std::thread::sleep(Duration::from_secs(1));
    for n in [&a, &b, &n3] {
        let list = alerts(n, &coal);
        assert_eq!(list.len(), 2, "node {}: {list:?}", n.name);
        let list = alerts(n, &rus);
        assert_eq!(list.len(), 2, "node {}: {list:?}", n.name);
    }
    c.audit();
}

#[test]
fn conflicting_filings_at_once_on_two_nodes_never_miss_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(c) = Cluster::new("filings_race", tmp.path()) else {
        return;
    };
    let p1 = c.party("P1");
    let p2 = c.party("P2");
    let (a, b) = (c.start("a"), c.start("b"));
    let t0 = now() + 3600.0;
    let intent = move |k: usize| {
        // Pair k sits at its own place; its two intents overlap each other only.
        json!({"extents": [{"volume": {
            "outline_circle": {"center": {"lat": 10.0 + 0.2 * k as f64, "lng": 20.0}, "radius": {"value": 1000.0, "units": "M"}},
            "altitude_lower": {"value": 100.0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 300.0, "reference": "W84", "units": "M"}},
            "time_start": {"value": deconflict_core::track::format_rfc3339(t0), "format": "RFC3339"},
            "time_end": {"value": deconflict_core::track::format_rfc3339(t0 + 1800.0), "format": "RFC3339"}}]})
        .to_string()
    };
    const PAIRS: usize = 100;
    let barrier = Arc::new(Barrier::new(2));
    let results: Arc<Mutex<HashMap<(usize, usize), Value>>> = Arc::default();
    let mut threads = Vec::new();
    for (side, base, token) in [
        (1usize, a.base.clone(), p1.clone()),
        (2, b.base.clone(), p2.clone()),
    ] {
        let (barrier, results) = (barrier.clone(), results.clone());
        threads.push(std::thread::spawn(move || {
            for k in 0..PAIRS {
                barrier.wait();
                let (st, v) = call_or_0(
                    "PUT",
                    &format!("{base}/v1/intents/pair-{k}-side-{side}"),
                    Some(&token),
                    Some(&intent(k)),
                );
                assert_eq!(st, 201, "pair {k} side {side}: {v}");
                results.lock().unwrap().insert((k, side), v);
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let results = results.lock().unwrap();
    // Alerts each side was sent about its own intents.
    let told_by_alert = |token: &str| -> HashSet<String> {
        let list = eventually("alerts", 10, || {
            let v = alerts(&a, token);
            (!v.is_empty()).then_some(v)
        });
        let mut seen = HashSet::new();
        for x in &list {
            assert_eq!(x["event"], "strategic_conflict");
            let own = x["own_id"].as_str().unwrap().to_string();
            assert!(seen.insert(own.clone()), "alert for {own} sent twice");
        }
        seen
    };
    let (by_alert_1, by_alert_2) = (told_by_alert(&p1), told_by_alert(&p2));
    let mut both_in_answer = 0;
    for k in 0..PAIRS {
        let (id1, id2) = (format!("pair-{k}-side-1"), format!("pair-{k}-side-2"));
        let ans1 = !results[&(k, 1)]["conflicts"].as_array().unwrap().is_empty();
        let ans2 = !results[&(k, 2)]["conflicts"].as_array().unwrap().is_empty();
        // Whoever filed second was answered with the conflict; the first was sent an alert.
        assert!(ans1 || ans2, "pair {k}: neither filing saw the other");
        assert!(ans1 || by_alert_1.contains(&id1), "pair {k}: P1 was never told");
        assert!(ans2 || by_alert_2.contains(&id2), "pair {k}: P2 was never told");
        both_in_answer += usize::from(ans1 && ans2);
    }
    assert_eq!(both_in_answer, 0, "a filing cannot see one filed after it");
    // Nothing stored twice: each intent once, version 1.
    // Each node takes the others' filings into its picture within about a second.
    for (token, side) in [(&p1, 1), (&p2, 2)] {
        let list = eventually("the other node's filings", 10, || {
            let (st, list) = call_or_0("GET", &format!("{}/v1/intents", b.base), Some(token), None);
            assert_eq!(st, 200);
            let list = list.as_array().unwrap().clone();
            (list.len() >= PAIRS).then_some(list)
        });
        assert_eq!(list.len(), PAIRS, "side {side}");
        assert!(list.iter().all(|f| f["version"] == 1));
    }
    let audit = c.audit();
    let puts = audit
        .iter()
        .filter(|l| l["entry"]["kind"] == "intent.put")
        .count();
    assert_eq!(puts, 2 * PAIRS, "one audit entry per filing");
}

#[test]
fn a_node_killed_during_load_loses_no_acknowledged_write_and_catches_up() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(c) = Cluster::new("sigkill", tmp.path()) else {
        return;
    };
    let token = c.party("P");
    let (a, mut b, n3) = (c.start("a"), c.start("b"), c.start("c"));
    all_hear_each_other(&[&a, &b, &n3]);
    // Two writers, one on A and one on B, each noting every batch acknowledged.
    let acked: Arc<Mutex<Vec<(String, Value, usize)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (node, base) in [("a", a.base.clone()), ("b", b.base.clone())] {
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let t = now();
                let batch: Vec<Value> = (0..50)
                    .map(|k| report(&format!("{node}-{k}"), t, 30.0 + f64::from(k) * 0.01, 90.0))
                    .collect();
                let (st, v) = post_to(&base, &token, &batch);
                if st == 200 {
                    acked
                        .lock()
                        .unwrap()
                        .push((node.to_string(), v["receipt"].clone(), batch.len()));
                } else {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = i;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(2));
    b.kill9();
    let b_killed = Instant::now();
    // The others keep serving.
    let a_before = a.metric("deconflict_reports_accepted_total");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        a.metric("deconflict_reports_accepted_total") > a_before,
        "node A stopped serving"
    );
    assert_eq!(n3.health()["status"], "ok");
    let received_by_c = n3.metric("deconflict_cluster_reports_received_total");
    assert!(received_by_c > 0.0);
    // Restart B: it resumes its stream position and takes what A accepted meanwhile.
    let during_a = a.metric("deconflict_reports_accepted_total");
    let b2 = c.start("b");
    assert!(b_killed.elapsed() > Duration::from_secs(2));
    eventually("B to catch up with A's reports", 20, || {
        (b2.metric("deconflict_cluster_reports_received_total") >= during_a - a_before).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    // Every acknowledged batch is in its node's audit chain, whole: the party's own view (from
    // the shared store, every node's sub-chain) holds the entry each receipt names, and every
    // receipt verifies against it.
    assert!(!c.audit().is_empty(), "the operator's whole export verifies");
    let (st, view) = call("GET", &format!("{}/v1/audit/export", a.base), Some(&token), None);
    assert_eq!(st, 200);
    let view = view.as_str().unwrap().to_string();
    let receipts: String = acked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, r, _)| format!("{r}\n"))
        .collect();
    let report = deconflict_store::verify_party_audit_with_receipts(view.as_bytes(), &receipts).unwrap();
    assert_eq!(report.receipts as usize, acked.lock().unwrap().len());
    let audit: Vec<Value> = view.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let stored: HashMap<(String, u64), u64> = audit
        .iter()
        .filter(|l| l["entry"]["kind"] == "tracks")
        .map(|l| {
            (
                (
                    l["entry"]["chain"].as_str().unwrap().to_string(),
                    l["entry"]["seq"].as_u64().unwrap(),
                ),
                l["entry"]["body"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let acked = acked.lock().unwrap();
    assert!(
        acked.iter().any(|x| x.0 == "b"),
        "B acknowledged nothing before the kill"
    );
    for (node, receipt, n) in acked.iter() {
        let seq = receipt["seq"].as_u64().unwrap();
        assert_eq!(receipt["chain"], node.as_str());
        assert_eq!(
            stored.get(&(node.clone(), seq)),
            Some(&(*n as u64)),
            "acknowledged batch {node}:{seq} lost"
        );
    }
}

#[test]
fn without_nats_nodes_detect_locally_say_so_and_catch_up() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(mut c) = Cluster::new("nats_down", tmp.path()) else {
        return;
    };
    let rus = c.party("RUS");
    let coal = c.party("COAL");
    let (a, b) = (c.start("a"), c.start("b"));
    all_hear_each_other(&[&a, &b]);
    c.nats.stop();
    eventually("degraded health", 15, || {
        let h = a.health();
        (h["status"] == "degraded" && h["nats"] == "disconnected").then_some(())
    });
    assert_eq!(a.metric("deconflict_nats_connected"), 0.0);
    // Reports still accepted, conflicts still found on the node that holds both tracks.
    let t = now();
    assert_eq!(post(&a, &rus, &[report("RUS-UAV-1", t, 35.0, 0.0)]).0, 200);
    assert_eq!(
        post(&a, &coal, &[report("COAL-UAV-9", t, 35.0 + north(1800.0), 180.0)]).0,
        200
    );
    eventually("local alerts on A", 15, || {
        (alerts(&a, &rus).iter().any(|x| x["event"] == "new")
            && alerts(&a, &coal).iter().any(|x| x["event"] == "new"))
        .then_some(())
    });
    // B takes reports while cut off; they wait in its queue.
    assert_eq!(post(&b, &rus, &[report("RUS-UAV-2", now(), 20.0, 0.0)]).0, 200);
    assert!(b.metric("deconflict_cluster_queued") >= 1.0);
    let got_before = a.metric("deconflict_cluster_reports_received_total");
    // NATS returns: both say ok again, B's queue drains, A gets B's report.
    c.nats.resume();
    eventually("health ok again", 30, || {
        (a.health()["status"] == "ok" && b.health()["status"] == "ok").then_some(())
    });
    eventually("B's queued report at A", 30, || {
        (a.metric("deconflict_cluster_reports_received_total") > got_before
            && b.metric("deconflict_cluster_queued") == 0.0)
            .then_some(())
    });
    // No alert was stored twice while the nodes could not hear each other.
    std::thread::sleep(Duration::from_secs(1));
    let news = alerts(&b, &coal).iter().filter(|x| x["event"] == "new").count();
    assert_eq!(news, 1);
}

#[test]
fn a_token_revoked_through_one_node_closes_its_stream_on_another_within_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(c) = Cluster::new("revoke", tmp.path()) else {
        return;
    };
    let alpha = c.party("ALPHA");
    let (a, b) = (c.start("a"), c.start("b"));
    all_hear_each_other(&[&a, &b]);
    // ALPHA's stream is open on node B; the revocation is written by the CLI as node A.
    let rx = support::stream_lines(&b.base, &alpha);
    std::thread::sleep(Duration::from_millis(500));
    c.cli("a", &["token", "revoke", "ALPHA"]);
    let (closed_after, lines) = support::stream_end(&rx, Instant::now(), "the stream on node B");
    eprintln!(
        "stream on B closed {} ms after the revoke",
        closed_after.as_millis()
    );
    assert!(
        closed_after <= Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    assert!(lines.iter().any(|l| l.contains("token revoked")), "{lines:?}");
    for n in [&a, &b] {
        let (st, _) = call("GET", &format!("{}/v1/alerts", n.base), Some(&alpha), None);
        assert_eq!(st, 401, "node {}", n.name);
    }
}
