//! The NATS JetStream side of a node: connect (retrying for ever), create the streams, publish
//! the queued reports and alerts in order, consume the other nodes' reports and alerts, and the
//! heartbeat on core NATS.

use super::wire::{decode_reports, encode_reports, AlertWire};
use super::{
    check_node_name, subject_for, Cluster, Inbox, Outbound, ALERTS_MAX_AGE, ALERTS_STREAM, HEARTBEAT,
    MAX_QUEUE, NODE_HEADER, TRACKS_MAX_AGE, TRACKS_STREAM,
};
use async_nats::jetstream::{self, consumer, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use deconflict_core::TrackReport;
use deconflict_store::StoredAlert;
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

impl Cluster {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(NODE_HEADER, self.node.as_str());
        h
    }

    /// Connects (in the background, retrying for ever) and starts the publisher, the
    /// consumers and the heartbeat. Returns at once.
    pub async fn start(self: &Arc<Self>, state: Weak<dyn Inbox>) -> anyhow::Result<()> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("deconflict-{}", self.node))
            .retry_on_initial_connect()
            .connect(self.url.as_str())
            .await?;
        let _ = self.client.set(client.clone());
        let js = jetstream::new(client.clone());
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("cluster already started"))?;
        let me = self.clone();
        let js2 = js.clone();
        let st = state.clone();
        tokio::spawn(async move {
            // Streams first; retried until NATS answers.
            loop {
                match me.create_streams(&js2).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!("NATS JetStream not ready ({e}); retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            me.ready.store(true, Ordering::Relaxed);
            tracing::info!(node = %me.node, "cluster: JetStream streams ready");
            for (i, filter) in me.filters.clone().into_iter().enumerate() {
                tokio::spawn(me.clone().consume_tracks(st.clone(), js2.clone(), filter, i));
            }
            tokio::spawn(me.clone().consume_alerts(st.clone(), js2.clone()));
        });
        tokio::spawn(self.clone().publisher(js, rx));
        tokio::spawn(self.clone().heartbeat(client));
        Ok(())
    }

    async fn create_streams(&self, js: &jetstream::Context) -> anyhow::Result<()> {
        js.get_or_create_stream(stream::Config {
            name: TRACKS_STREAM.into(),
            subjects: vec!["dcf.tracks.>".into()],
            max_age: TRACKS_MAX_AGE,
            max_bytes: 1 << 30,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        })
        .await?;
        js.get_or_create_stream(stream::Config {
            name: ALERTS_STREAM.into(),
            subjects: vec!["dcf.alerts.>".into()],
            max_age: ALERTS_MAX_AGE,
            max_bytes: 1 << 30,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        })
        .await?;
        Ok(())
    }

    /// Sends queued messages in order; holds them (bounded) while NATS is away.
    async fn publisher(self: Arc<Self>, js: jetstream::Context, mut rx: mpsc::UnboundedReceiver<Outbound>) {
        let mut q: VecDeque<(String, Bytes)> = VecDeque::new();
        let headers = self.headers();
        loop {
            if q.is_empty() {
                match rx.recv().await {
                    Some(m) => self.enqueue(&mut q, m),
                    None => return,
                }
            }
            while let Ok(m) = rx.try_recv() {
                self.enqueue(&mut q, m);
            }
            if !self.connected() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let n = q.len().min(512);
            let mut acks = Vec::with_capacity(n);
            let mut failed = false;
            for (subject, payload) in q.iter().take(n) {
                match js
                    .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                    .await
                {
                    Ok(ack) => acks.push(ack),
                    Err(e) => {
                        tracing::debug!("publish failed: {e}");
                        failed = true;
                        break;
                    }
                }
            }
            let mut done = 0;
            for ack in acks {
                match ack.await {
                    Ok(_) => done += 1,
                    Err(e) => {
                        tracing::debug!("publish not acknowledged: {e}");
                        failed = true;
                        break;
                    }
                }
            }
            q.drain(..done);
            self.stats.published.fetch_add(done as u64, Ordering::Relaxed);
            self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
            if failed {
                self.stats.publish_failures.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    fn enqueue(&self, q: &mut VecDeque<(String, Bytes)>, m: Outbound) {
        match m {
            Outbound::Reports { party, reports } => {
                let mut by_subject: HashMap<String, Vec<&TrackReport>> = HashMap::new();
                for r in reports.iter() {
                    by_subject.entry(subject_for(r.lat, r.lng)).or_default().push(r);
                }
                for (subject, reports) in by_subject {
                    q.push_back((subject, Bytes::from(encode_reports(party, &reports))));
                }
            }
            Outbound::Alert(a) => {
                if let Ok(b) = serde_json::to_vec(&a) {
                    q.push_back((format!("dcf.alerts.{}", a.party), Bytes::from(b)));
                }
            }
        }
        while q.len() > MAX_QUEUE {
            q.pop_front();
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
    }

    /// Reads other nodes' reports through a durable consumer (resumes where it stopped).
    async fn consume_tracks(
        self: Arc<Self>,
        state: Weak<dyn Inbox>,
        js: jetstream::Context,
        filter: String,
        index: usize,
    ) {
        let durable = format!("{}-tracks-{index}", self.node);
        loop {
            let res: anyhow::Result<()> = async {
                let stream = js.get_stream(TRACKS_STREAM).await?;
                let consumer: consumer::PullConsumer = stream
                    .get_or_create_consumer(
                        &durable,
                        consumer::pull::Config {
                            durable_name: Some(durable.clone()),
                            filter_subject: filter.clone(),
                            deliver_policy: consumer::DeliverPolicy::New,
                            ack_policy: consumer::AckPolicy::Explicit,
                            max_ack_pending: 20_000,
                            ..Default::default()
                        },
                    )
                    .await?;
                let mut msgs = consumer.messages().await?;
                while let Some(m) = msgs.next().await {
                    let m = m?;
                    let Some(state) = state.upgrade() else {
                        return Ok(());
                    };
                    self.take_reports(&*state, &m);
                    let _ = m.ack().await;
                }
                Ok(())
            }
            .await;
            if state.strong_count() == 0 {
                return;
            }
            if let Err(e) = res {
                tracing::warn!(%filter, "cluster: reading reports failed ({e}); resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn take_reports(&self, inbox: &dyn Inbox, m: &jetstream::Message) {
        let Some(from) = m
            .headers
            .as_ref()
            .and_then(|h| h.get(NODE_HEADER))
            .map(|v| v.as_str())
        else {
            return;
        };
        if from == self.node {
            return;
        }
        let Ok((party, reports)) = decode_reports(&m.payload) else {
            self.stats.rejected_reports.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let good: Vec<TrackReport> = reports.into_iter().filter(|r| r.validate().is_ok()).collect();
        // A node whose reports arrive is alive, whatever its heartbeat says yet.
        let origin = self.peers().heard(from, Instant::now());
        self.stats
            .received_reports
            .fetch_add(good.len() as u64, Ordering::Relaxed);
        inbox.take_reports(party, &good, origin);
    }

    /// Forwards other nodes' alerts to this node's live streams.
    async fn consume_alerts(self: Arc<Self>, state: Weak<dyn Inbox>, js: jetstream::Context) {
        loop {
            let res: anyhow::Result<()> = async {
                let stream = js.get_stream(ALERTS_STREAM).await?;
                let consumer = stream
                    .create_consumer(consumer::pull::OrderedConfig {
                        filter_subject: "dcf.alerts.>".into(),
                        deliver_policy: consumer::DeliverPolicy::New,
                        ..Default::default()
                    })
                    .await?;
                let mut msgs = consumer.messages().await?;
                while let Some(m) = msgs.next().await {
                    let m = m?;
                    let Some(state) = state.upgrade() else {
                        return Ok(());
                    };
                    let from = m
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(NODE_HEADER))
                        .map(|v| v.as_str());
                    if from == Some(self.node.as_str()) {
                        continue;
                    }
                    if let Ok(a) = serde_json::from_slice::<AlertWire>(&m.payload) {
                        self.stats.received_alerts.fetch_add(1, Ordering::Relaxed);
                        state.take_alert(
                            a.party,
                            StoredAlert {
                                seq: a.seq,
                                time: a.time,
                                body: a.body,
                            },
                        );
                    }
                }
                Ok(())
            }
            .await;
            if state.strong_count() == 0 {
                return;
            }
            if let Err(e) = res {
                tracing::warn!("cluster: reading alerts failed ({e}); resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Says "alive" every second and listens for the others.
    async fn heartbeat(self: Arc<Self>, client: async_nats::Client) {
        let me = self.clone();
        let c = client.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(mut sub) = c.subscribe("dcf.nodes.*").await {
                    while let Some(m) = sub.next().await {
                        let name = m.subject.as_str().trim_start_matches("dcf.nodes.");
                        if name != me.node && check_node_name(name).is_ok() {
                            me.peers().heard(name, Instant::now());
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let subject = format!("dcf.nodes.{}", self.node);
        loop {
            let _ = client.publish(subject.clone(), Bytes::new()).await;
            tokio::time::sleep(HEARTBEAT).await;
        }
    }
}
