//! The SBS-1 source: a TCP client of dump1090/readsb's BaseStation port ([`super::client`]).
//! Cuts the bytes into lines (each at most `sbs::MAX_LINE` bytes; a longer one is thrown away
//! whole, `malformed`) and hands each to the merger with the time it arrived.

use super::args::SbsArgs;
use super::client::{self, Decoder, Source};
use super::sink::Sink;
use anyhow::Result;
use deconflict_feeds::sbs::{SbsMerger, MAX_LINE};
use deconflict_feeds::Reject;
use std::sync::atomic::Ordering;

pub(crate) async fn run(args: &SbsArgs, sink: Sink) -> Result<()> {
    let mut decoder = Lines {
        merger: SbsMerger::new(),
        line: Vec::with_capacity(MAX_LINE),
        too_long: false,
    };
    let src = Source::new(&args.source, args.idle_s, args.once);
    client::run(src, &mut decoder, &sink).await;
    Ok(())
}

struct Lines {
    merger: SbsMerger,
    line: Vec<u8>,
    too_long: bool,
}

impl Decoder for Lines {
    fn bytes(&mut self, data: &[u8], now: f64, sink: &Sink) {
        for &b in data {
            if b != b'\n' {
                if self.line.len() < MAX_LINE {
                    self.line.push(b);
                } else {
                    self.too_long = true;
                }
                continue;
            }
            sink.stats.messages.fetch_add(1, Ordering::Relaxed);
            if self.too_long {
                sink.refused(Reject::Malformed, "a line over the length bound");
            } else {
                let text = String::from_utf8_lossy(&self.line);
                match self.merger.push_line(&text, now) {
                    Ok(Some(r)) => sink.send(r),
                    Ok(None) => {}
                    Err(why) => sink.refused(why, &text),
                }
            }
            self.line.clear();
            self.too_long = false;
        }
    }

    fn reset(&mut self) {
        self.line.clear();
        self.too_long = false;
    }

    fn prune(&mut self, now: f64) {
        self.merger.prune(now);
    }

    fn aircraft(&self) -> usize {
        self.merger.len()
    }
}
