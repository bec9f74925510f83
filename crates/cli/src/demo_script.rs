//! What `deconflict demo` plays: its parties ([`PARTIES`]), their filings (the air base zone,
//! a humanitarian corridor, two intents that conflict), the scenario's tracks sent live by
//! each party's own client, and the hotline traffic the scenario scripts (a notice of planned
//! operation, a request to the other side of the first conflict, an emergency), all through
//! the service's HTTP API with each party's token.

use anyhow::{bail, Context, Result};
use deconflict_core::TrackReport;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// One party of the demo.
pub(crate) struct DemoParty {
    pub name: &'static str,
    pub who: &'static str,
    pub member_of: Option<&'static str>,
    pub observer: bool,
}

/// The parties, as in 2015: the state flying from the air base, the coalition lead, a member
/// bound through it, a humanitarian flight coordinator and an observer.
pub(crate) const PARTIES: [DemoParty; 5] = [
    DemoParty {
        name: "RUS",
        who: "the state flying from the air base near Latakia",
        member_of: None,
        observer: false,
    },
    DemoParty {
        name: "COAL",
        who: "the coalition lead",
        member_of: None,
        observer: false,
    },
    DemoParty {
        name: "UK",
        who: "a coalition member, bound through its lead",
        member_of: Some("COAL"),
        observer: false,
    },
    DemoParty {
        name: "UNHAS",
        who: "the humanitarian flight coordinator",
        member_of: None,
        observer: false,
    },
    DemoParty {
        name: "OBSERVER",
        who: "an observer",
        member_of: None,
        observer: true,
    },
];

/// The scenario's reports, by second from its start.
pub(crate) struct Script {
    steps: BTreeMap<u64, Vec<TrackReport>>,
    length_s: f64,
}

fn token_of<'a>(tokens: &'a [(String, String)], name: &str) -> Result<&'a str> {
    tokens
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .with_context(|| format!("no token for {name}"))
}

/// A circle (metres) from `lo` to `hi` metres, from `t0` for `dur` seconds, as a Volume4D.
fn circle(lat: f64, lng: f64, r: f64, lo: f64, hi: f64, t0: f64, dur: f64) -> Value {
    let alt = |v: f64| json!({"value": v, "reference": "W84", "units": "M"});
    let at =
        |t: f64| json!({"value": deconflict_core::strategic::format_time(t.floor()), "format": "RFC3339"});
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": r, "units": "M"}},
           "altitude_lower": alt(lo), "altitude_upper": alt(hi)},
           "time_start": at(t0), "time_end": at(t0 + dur)})
}

/// A polygon of (lat, lng) vertices, as a Volume4D.
fn polygon(v: &[(f64, f64)], lo: f64, hi: f64, t0: f64, dur: f64) -> Value {
    let mut c = circle(0.0, 0.0, 1.0, lo, hi, t0, dur);
    let vertices: Vec<Value> = v
        .iter()
        .map(|(lat, lng)| json!({"lat": lat, "lng": lng}))
        .collect();
    c["volume"] = json!({"outline_polygon": {"vertices": vertices},
                         "altitude_lower": c["volume"]["altitude_lower"], "altitude_upper": c["volume"]["altitude_upper"]});
    c
}

struct Api<'a> {
    client: reqwest::Client,
    base: &'a str,
}

impl Api<'_> {
    async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .timeout(Duration::from_secs(20));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status}: {v}");
        }
        Ok(v)
    }

    async fn send(&self, token: &str, body: Value) -> Result<String> {
        let v = self
            .call(reqwest::Method::POST, token, "/v1/messages", Some(&body))
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }
}

impl Script {
    /// Reads the scenario, keeping its first `play_s` seconds.
    pub(crate) fn load(path: &Path, play_s: Option<f64>) -> Result<Script> {
        let (reports, _) = crate::input::read_reports(path, true)?;
        let t0 = reports.iter().map(|r| r.time).fold(f64::INFINITY, f64::min);
        if !t0.is_finite() {
            bail!("{} holds no track report", path.display());
        }
        let mut steps: BTreeMap<u64, Vec<TrackReport>> = BTreeMap::new();
        for r in reports {
            let dt = r.time - t0;
            if play_s.is_some_and(|p| dt > p) {
                continue;
            }
            steps.entry(dt.max(0.0).floor() as u64).or_default().push(r);
        }
        let length_s = steps.keys().next_back().copied().unwrap_or(0) as f64;
        Ok(Script { steps, length_s })
    }

    /// Waits up to 20 s for the service to answer `/healthz`.
    pub(crate) async fn wait_up(&self, base: &str) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("the service did not come up at {base}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Files the parties' constraints and intents (times from now).
    async fn file(api: &Api<'_>, tokens: &[(String, String)], now: f64) -> Result<()> {
        let (rus, coal, un) = (
            token_of(tokens, "RUS")?,
            token_of(tokens, "COAL")?,
            token_of(tokens, "UNHAS")?,
        );
        let day = 86_400.0;
        let base_zone = json!({"type": "exclusion_zone", "purpose": "air base approaches",
            "extents": [circle(35.401, 35.948, 6000.0, 0.0, 1500.0, now - 60.0, day)]});
        api.call(
            reqwest::Method::PUT,
            rus,
            "/v1/constraints/airbase-zone",
            Some(&base_zone),
        )
        .await?;
        let corridor = json!({"type": "humanitarian_corridor", "purpose": "UN flights to the port",
            "extents": [polygon(&[(35.50, 35.76), (35.53, 35.78), (35.30, 36.20), (35.27, 36.18)], 300.0, 3000.0, now - 60.0, day)]});
        api.call(
            reqwest::Method::PUT,
            un,
            "/v1/constraints/corridor-1",
            Some(&corridor),
        )
        .await?;
        let isr = json!({"purpose": "ISR orbit", "extents": [circle(35.55, 36.10, 15000.0, 2000.0, 5000.0, now + 120.0, 3600.0)]});
        api.call(reqwest::Method::PUT, coal, "/v1/intents/isr-east", Some(&isr))
            .await?;
        let patrol = json!({"purpose": "patrol", "disclosure": "anonymous",
            "extents": [circle(35.60, 36.05, 12000.0, 3000.0, 6000.0, now + 300.0, 3600.0)]});
        api.call(reqwest::Method::PUT, rus, "/v1/intents/patrol-2", Some(&patrol))
            .await?;
        Ok(())
    }

    /// Plays the scenario live at `speed`; returns a summary line.
    pub(crate) async fn play(&self, base: &str, tokens: &[(String, String)], speed: f64) -> Result<String> {
        let api = Api {
            client: reqwest::Client::builder().pool_max_idle_per_host(8).build()?,
            base,
        };
        let (rus, coal, un) = (
            token_of(tokens, "RUS")?,
            token_of(tokens, "COAL")?,
            token_of(tokens, "UNHAS")?,
        );
        let start = Instant::now();
        Self::file(&api, tokens, deconflict_server::unix_now()).await?;
        let notice = api
            .send(rus, json!({"to": {"parties": ["COAL"]}, "kind": "notice",
                "text": "Notice of planned operation: air base traffic, departures to the east, next 15 minutes.",
                "extents": [circle(35.401, 35.948, 20000.0, 0.0, 6000.0, deconflict_server::unix_now(), 900.0)]}))
            .await?;
        let (mut posted, mut requested, mut acked, mut emergency, mut messages) =
            (0usize, false, false, false, 1usize);
        let mut last_line = Instant::now();
        for (&dt, reports) in &self.steps {
            let due = Duration::from_secs_f64(dt as f64 / speed);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let now = deconflict_server::unix_now();
            let mut by_party: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
            for r in reports {
                let party = r.asset.split('-').next().unwrap_or_default();
                let mut v = serde_json::to_value(r)?;
                v["time"] = json!(now);
                by_party.entry(party).or_default().push(v);
            }
            for (party, batch) in by_party {
                let Ok(token) = token_of(tokens, party) else {
                    continue;
                };
                api.call(
                    reqwest::Method::POST,
                    token,
                    "/v1/tracks",
                    Some(&Value::from(batch.clone())),
                )
                .await
                .with_context(|| format!("posting {party}'s tracks"))?;
                posted += batch.len();
            }
            // The coalition asks the other side of its first tactical conflict to give way.
            if !requested {
                let alerts = api
                    .call(reqwest::Method::GET, coal, "/v1/alerts?limit=100", None)
                    .await?;
                if let Some(c) = alerts.as_array().into_iter().flatten().find_map(|a| {
                    (a["event"] == "new" && a["own_asset"].is_string())
                        .then(|| a["conflict_id"].as_str())
                        .flatten()
                }) {
                    api.send(coal, json!({"to": {"conflict": c}, "kind": "request",
                        "text": format!("Request: your aircraft in conflict {c} turn away or climb; ours holds its course.")}))
                        .await?;
                    requested = true;
                    messages += 1;
                }
            }
            // The coalition acknowledges the notice a little later.
            if !acked && dt >= 20 {
                api.call(
                    reqwest::Method::POST,
                    coal,
                    &format!("/v1/messages/{notice}/ack"),
                    None,
                )
                .await?;
                acked = true;
            }
            // Half way: an emergency from the humanitarian coordinator to both.
            if !emergency && dt as f64 >= self.length_s / 2.0 {
                api.send(un, json!({"to": {"parties": ["RUS", "COAL"]}, "kind": "emergency",
                    "text": "Emergency: UN-1 has lost an engine and descends in corridor 1; keep clear below 3,000 m."}))
                    .await?;
                emergency = true;
                messages += 1;
            }
            if last_line.elapsed() >= Duration::from_secs(5) {
                last_line = Instant::now();
                eprintln!(
                    "demo: scenario +{dt} s of {:.0}, {posted} reports posted, {messages} hotline messages",
                    self.length_s
                );
            }
        }
        let mut entries = Vec::new();
        for token in [rus, coal] {
            let v = api
                .call(reqwest::Method::GET, token, "/v1/alerts?limit=10000", None)
                .await?;
            entries.push(v.as_array().map_or(0, Vec::len));
        }
        Ok(format!(
            "demo: played {:.0} s of scenario in {:.1} s: {posted} reports; stream entries RUS {}, COAL {}; {messages} hotline messages sent",
            self.length_s,
            start.elapsed().as_secs_f64(),
            entries[0],
            entries[1],
        ))
    }
}
