//! The loops that drive the engine and the store: the detection loop (scan, store the alerts
//! durably, then stream them), tracks checked against the filings, and, with a shared store,
//! the other nodes' filings taken in and the audit chains cross-linked, and unacknowledged
//! hotline messages re-sent and escalated.

use crate::state::{unix_now, AppState};
use crate::tactical::{advise, coalesce, AdviceBudget, AlertEvent};
use deconflict_store::{NewAlert, PartyId, StoredAlert};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One detection step: tick the engine, store its events durably as alerts, then publish them.
/// Returns how long the scan took.
pub async fn detect_once(state: &Arc<AppState>) -> Duration {
    let now = unix_now();
    let t = Instant::now();
    let events = state.engine().tick(now);
    let took = t.elapsed();
    let (mut events, suppressed) = coalesce(events, state.config.max_alerts_per_scan);
    let table = state.engine().table().clone();
    let t_advice = Instant::now();
    let budget = AdviceBudget {
        conflicts: state.config.max_advice_per_scan,
        kinematic: state.config.max_kinematic_advice_per_scan,
    };
    let advised = advise(&mut events, &table, budget);
    state
        .metrics
        .advice_seconds
        .observe(t_advice.elapsed().as_secs_f64());
    state.metrics.advice_conflicts.inc_by(advised.conflicts as u64);
    if advised.skipped > 0 {
        state.metrics.advice_skipped.inc_by(advised.skipped as u64);
        tracing::debug!(
            "{} events left without advice this scan (max_advice_per_scan)",
            advised.skipped
        );
    }
    let mut alerts: Vec<NewAlert> = events.iter().map(to_alert).collect();
    alerts.extend(suppressed.iter().map(|s| NewAlert {
        party: s.party,
        body: s.to_body(now),
    }));
    if !suppressed.is_empty() {
        let n: usize = suppressed.iter().map(|s| s.count).sum();
        state.metrics.alerts_suppressed.inc_by(n as u64);
    }
    state.metrics.scans.inc();
    state.metrics.scan_seconds.observe(took.as_secs_f64());
    for e in &events {
        state.metrics.alert_of_level(e.level);
    }
    publish(state, alerts, now).await;
    took
}

/// The edge of the sans-IO engine: one of its events as the store takes it, the body in its
/// wire form.
fn to_alert(event: &AlertEvent) -> NewAlert {
    NewAlert {
        party: event.party,
        body: event.to_body(),
    }
}

/// Stores alerts durably (per-party sequence numbers, audit entries), then streams them.
pub async fn publish(state: &Arc<AppState>, alerts: Vec<NewAlert>, now: f64) {
    if alerts.is_empty() {
        return;
    }
    let store = state.store.clone();
    // The alerts go to the store's thread and come back to be streamed, not copied: a
    // strategic conflict's alert holds every disclosed region.
    let res = tokio::task::spawn_blocking(move || {
        let stored = store.append_alerts(&alerts, now);
        (stored, alerts)
    })
    .await;
    match res {
        Ok((Ok(seqs), alerts)) => deliver(
            state,
            alerts.into_iter().map(|a| (a.party, a.body)).zip(seqs),
            now,
        ),
        Ok((Err(e), _)) => {
            state.metrics.store_errors.inc();
            tracing::error!("storing alerts failed: {e}");
        }
        Err(e) => {
            state.metrics.store_errors.inc();
            tracing::error!("storing alerts panicked: {e}");
        }
    }
}

/// Hands stored alerts to this node's live streams and to the other nodes.
pub fn deliver(
    state: &AppState,
    alerts: impl IntoIterator<Item = ((PartyId, serde_json::Value), u64)>,
    now: f64,
) {
    for ((party, body), seq) in alerts {
        let a = Arc::new(StoredAlert { seq, time: now, body });
        if let Some(c) = &state.cluster {
            c.send_alert(party, &a);
        }
        if let Some(tx) = state.existing_stream(party) {
            let _ = tx.send(a);
        }
        state.metrics.alerts_sent.inc();
    }
}

/// Hands stream entries the store appended (hotline messages and their status) to the live
/// streams, this node's and the others'.
pub fn deliver_entries(state: &AppState, entries: Vec<deconflict_store::StreamEntry>) {
    for e in entries {
        deliver(state, [((e.party, e.body), e.seq)], e.time);
    }
}

/// Tracks meet volumes (see [`crate::strategic::conformance`]): checked against the filings, and the alerts
/// stored and streamed.
pub async fn check_tracks_against_volumes(state: &Arc<AppState>) {
    let st = state.clone();
    let alerts = tokio::task::spawn_blocking(move || volume_alerts(&st)).await;
    if let Ok((alerts, now)) = alerts {
        publish(state, alerts, now).await;
    }
}

fn volume_alerts(state: &AppState) -> (Vec<NewAlert>, f64) {
    let now = unix_now();
    let mut alerts = Vec::new();
    let quiet = !state.strategic().checks_tracks();
    let mut status = state.track_status.lock().unwrap_or_else(|e| e.into_inner());
    if quiet && status.is_empty() {
        return (alerts, now);
    }
    let live = state.engine().live(now);
    // The strategic lock is taken per chunk so filings are never held up for long.
    for chunk in live.chunks(512) {
        let st = state.strategic();
        for (party, asset, ts, origin) in chunk {
            // With several nodes, one of them speaks for each track.
            if !state.speaks_for_track(*origin) {
                continue;
            }
            let Some(name) = state.party_name(*party) else {
                continue;
            };
            status.check(&st, *party, &name, asset, ts, now, &mut alerts);
        }
    }
    status.finish();
    (alerts, now)
}

/// Checks live tracks against the filings once a second, apart from the detection loop so that
/// tactical alerts never wait for it.
pub async fn volume_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
        check_tracks_against_volumes(&state).await;
    }
}

/// With a shared store: takes the other nodes' filings into this node's picture every second,
/// and every 10 s cross-links this node's audit chain to the others' heads.
pub async fn shared_store_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    // Filings are stamped with their node's clock, so each poll re-reads a 30 s margin; rows
    // whose version this node holds (its own filings, and those taken before) are skipped
    // before their bodies are read.
    let mut since = unix_now() - 60.0;
    let mut last_link = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
        let store = state.store.clone();
        let from = since - 30.0;
        let st = state.clone();
        let rows = tokio::task::spawn_blocking(move || {
            store.volumes_updated_since(from, &|party, kind, id, version| {
                st.strategic().holds(party, kind, id, version)
            })
        })
        .await;
        match rows {
            Ok(Ok(found)) => {
                // The cursor follows every row read, this node's own filings included.
                if let Some(newest) = found.newest {
                    since = since.max(newest);
                }
                let mut st = state.strategic();
                for (party, name, kind, v) in found.filings {
                    st.apply(party, name, kind, v, &state.limits);
                }
            }
            Ok(Err(e)) => {
                state.metrics.store_errors.inc();
                tracing::warn!("reading other nodes' filings failed: {e}");
            }
            Err(_) => {}
        }
        if last_link.elapsed() >= Duration::from_secs(10) {
            last_link = Instant::now();
            let store = state.store.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.link_chains(unix_now())).await {
                tracing::warn!("cross-linking the audit chains failed: {e}");
            }
        }
    }
}

/// Re-sends and escalates unacknowledged hotline messages (`[hotline]`): every `sweep_s`, the
/// store puts each copy that is due on its recipient's stream again, and this node hands the
/// new entries to the live streams. Safe on every node at once: the store gives each copy to
/// one of them.
pub async fn hotline_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_secs_f64(state.config.hotline.sweep_s);
    let policy = state.config.hotline.policy();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        let store = state.store.clone();
        let p = policy.clone();
        match tokio::task::spawn_blocking(move || store.sweep_messages(&p, unix_now())).await {
            Ok(Ok(entries)) => deliver_entries(&state, entries),
            Ok(Err(e)) => {
                state.metrics.store_errors.inc();
                tracing::warn!("re-sending hotline messages failed: {e}");
            }
            Err(_) => {}
        }
    }
}

/// Signs a party checkpoint every `party_checkpoint_s` (see `deconflict_store`'s
/// `audit::party`): on a fixed timer, never on activity, so that when checkpoints appear tells
/// no party anything.
pub async fn party_checkpoint_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_secs_f64(state.config.party_checkpoint_s);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        // (And, as rarely, the rate limiter forgets the buckets that are full again.)
        state.rate.shrink();
        let store = state.store.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.party_checkpoint(unix_now())).await {
            state.metrics.store_errors.inc();
            tracing::warn!("signing the party checkpoint failed: {e}");
        }
    }
}

/// How often a node looks for revoked tokens: an open stream of a revoked token ends within
/// this plus one store read.
pub const REVOCATION_POLL: Duration = Duration::from_millis(250);

/// Watches the store's count of revoked tokens (a revocation may come from the CLI, or from
/// another node on a shared store) and tells the open streams when it changes.
pub async fn revocation_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REVOCATION_POLL) => {}
            _ = stop.changed() => break,
        }
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.revocations()).await {
            Ok(Ok(n)) => {
                state
                    .revocations
                    .send_if_modified(|old| std::mem::replace(old, n) != n);
            }
            Ok(Err(e)) => {
                state.metrics.store_errors.inc();
                tracing::warn!("reading token revocations failed: {e}");
            }
            Err(_) => {}
        }
    }
}

/// The detection loop: a scan when new reports arrive (at most every `scan_min_interval_ms`, or
/// 4 × the last scan if longer) and at least every `scan_period_ms`.
pub async fn detection_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(state.config.scan_period_ms);
    let min = Duration::from_millis(state.config.scan_min_interval_ms);
    let mut last = Instant::now() - min;
    let mut took = Duration::ZERO;
    loop {
        tokio::select! {
            _ = state.dirty.notified() => {}
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        // Under a steady stream of reports, scanning takes at most a fifth of a core: the gap
        // between scans is at least 4 × the last scan (and at least scan_min_interval_ms).
        // With 10,000 tracks a scan takes ~4 ms, so the configured 20 ms still rules; when
        // the machine is shared (several nodes on one host) scans stretch, and so does the gap.
        let gap = min.max(took * 4);
        let since = last.elapsed();
        if since < gap {
            tokio::time::sleep(gap - since).await;
        }
        last = Instant::now();
        took = detect_once(&state).await;
    }
}
