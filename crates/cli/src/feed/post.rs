//! The service side of a bridge: reports from the source are batched (every `--batch-ms`, or
//! at `--batch` reports) and posted to `POST /v1/tracks` with the party's token. A batch the
//! service did not acknowledge (unreachable, 5xx, 429) is retried with backoff, a bounded
//! number of times and never past the age the service still takes; a batch with bad reports
//! (422) is posted again without them (the service stores a batch whole or not at all).

use super::status::Stats;
use anyhow::{bail, Result};
use deconflict_core::TrackReport;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Where and how to post.
#[derive(Debug, Clone)]
pub(crate) struct PostConfig {
    /// `http://host:port` of the service.
    pub server: String,
    pub token: String,
    /// Most reports in one request.
    pub batch: usize,
    /// Longest a report waits for its batch.
    pub batch_wait: Duration,
    /// Most tries of one batch the service did not acknowledge.
    pub attempts: u32,
    /// Reports older than this (seconds, by the bridge's clock) are not retried: the service
    /// refuses reports older than its `max_past_s` (300 s by default).
    pub max_age_s: f64,
}

enum Outcome {
    Done,
    /// Try again after this long.
    Retry(Duration, String),
    /// Post these parts instead (413: the batch was too big).
    Split,
}

/// Posts what `rx` brings until it closes, then returns once the last batch is through (or
/// given up). An error only for what retrying cannot fix: the token is refused (401/403).
pub(crate) async fn run(
    mut rx: mpsc::Receiver<TrackReport>,
    cfg: PostConfig,
    stats: Arc<Stats>,
) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let url = format!("{}/v1/tracks", cfg.server.trim_end_matches('/'));
    let mut closed = false;
    while !closed {
        let Some(first) = rx.recv().await else { break };
        let mut batch = vec![first];
        let deadline = Instant::now() + cfg.batch_wait;
        while batch.len() < cfg.batch {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let mut queue = VecDeque::from([batch]);
        while let Some(mut b) = queue.pop_front() {
            let mut tries = 0u32;
            loop {
                let now = super::sink::unix_now();
                let before = b.len();
                b.retain(|r| now - r.time <= cfg.max_age_s);
                stats.reject(
                    "too_old_to_retry",
                    (before - b.len()) as u64,
                    "reports older than the service takes, dropped",
                );
                if b.is_empty() {
                    break;
                }
                tries += 1;
                match post(&client, &url, &cfg.token, &mut b, &stats).await? {
                    Outcome::Done => break,
                    Outcome::Split => {
                        let rest = b.split_off(b.len() / 2);
                        queue.push_front(rest);
                        queue.push_front(std::mem::take(&mut b));
                        break;
                    }
                    Outcome::Retry(wait, why) if tries < cfg.attempts => {
                        let wait = wait.max(backoff(tries));
                        stats.once(
                            "service",
                            &format!(
                            "service did not take {} reports ({why}); try {tries} of {}, again in {:.1} s",
                            b.len(),
                            cfg.attempts,
                            wait.as_secs_f64()
                        ),
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Outcome::Retry(_, why) => {
                        stats.reject(
                            "unacknowledged",
                            b.len() as u64,
                            &format!("{} tries without an acknowledgement ({why})", cfg.attempts),
                        );
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Backoff before try `n + 1`: 0.25 s doubling, at most 8 s.
fn backoff(n: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << n.min(5)).min(8000))
}

/// One request. On 422 the rejected reports are counted and removed from `b`, and the rest
/// is posted again at once.
async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    b: &mut Vec<TrackReport>,
    stats: &Stats,
) -> Result<Outcome> {
    for _ in 0..3 {
        let body = serde_json::to_string(&*b)?;
        let resp = match client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::Retry(backoff(0), format!("unreachable: {e}"))),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<f64>().ok());
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        match status {
            200 => {
                stats.posted.fetch_add(
                    v["accepted"].as_u64().unwrap_or(b.len() as u64),
                    std::sync::atomic::Ordering::Relaxed,
                );
                return Ok(Outcome::Done);
            }
            401 | 403 => bail!("the service refused the token ({status}): {}", v["error"]),
            413 if b.len() > 1 => return Ok(Outcome::Split),
            422 => {
                let mut bad = vec![false; b.len()];
                for r in v["results"].as_array().into_iter().flatten() {
                    if r["status"] == "rejected" {
                        let Some(i) = r["index"].as_u64().map(|i| i as usize) else {
                            continue;
                        };
                        if i < bad.len() {
                            bad[i] = true;
                            let field = r["field"].as_str().unwrap_or("");
                            let field = field.split_once('.').map_or(field, |(_, f)| f);
                            let err = r["error"].as_str().unwrap_or("");
                            let kind = err.split(':').next().unwrap_or("").trim();
                            stats.reject(
                                &format!("service: {field}: {kind}"),
                                1,
                                &format!("{} {field}: {err}", b[i].asset),
                            );
                        }
                    }
                }
                if !bad.contains(&true) {
                    stats.reject("service: unprocessable", b.len() as u64, &v.to_string());
                    return Ok(Outcome::Done);
                }
                let mut i = 0;
                b.retain(|_| {
                    i += 1;
                    !bad[i - 1]
                });
                if b.is_empty() {
                    return Ok(Outcome::Done);
                }
            }
            429 => {
                let wait = Duration::from_secs_f64(retry_after.unwrap_or(1.0).clamp(0.1, 30.0));
                return Ok(Outcome::Retry(wait, format!("429: {}", v["error"])));
            }
            _ => return Ok(Outcome::Retry(backoff(1), format!("{status}: {}", v["error"]))),
        }
    }
    Ok(Outcome::Retry(backoff(0), "422 three times in a row".into()))
}
