//! The Beast / AVR source: a TCP client of a receiver's Beast port (dump1090/readsb: 30005) or
//! raw AVR port (30002), through [`super::client`]. The format is told per connection by the
//! first byte that can start a frame (`0x1a` Beast, `*` or `@` AVR; bytes before it are
//! `malformed`) unless `--format` names it. Each Mode S
//! message goes to the merger (decoded with `rs1090`) with the time it arrived.

use super::args::{BeastArgs, BeastFormat};
use super::client::{self, Decoder, Source};
use super::sink::Sink;
use anyhow::Result;
use deconflict_feeds::beast::{parse_avr, BeastFrame, BeastFramer, BeastMerger, MAX_AVR_LINE};
use deconflict_feeds::Reject;
use std::sync::atomic::Ordering;

pub(crate) async fn run(args: &BeastArgs, sink: Sink) -> Result<()> {
    let mut decoder = Frames {
        merger: BeastMerger::new(),
        framer: BeastFramer::new(),
        fixed: args.format,
        format: args.format,
        line: Vec::with_capacity(MAX_AVR_LINE),
        too_long: false,
        preamble_counted: false,
    };
    let src = Source::new(&args.source, args.idle_s, args.once);
    client::run(src, &mut decoder, &sink).await;
    Ok(())
}

struct Frames {
    merger: BeastMerger,
    framer: BeastFramer,
    /// The format given on the command line (`Auto`: told per connection).
    fixed: BeastFormat,
    /// The format of this connection (`Auto` until its first byte).
    format: BeastFormat,
    line: Vec<u8>,
    too_long: bool,
    /// Whether bytes before the first frame of this connection were counted already.
    preamble_counted: bool,
}

impl Frames {
    fn message(&mut self, msg: &[u8], now: f64, sink: &Sink) {
        sink.stats.messages.fetch_add(1, Ordering::Relaxed);
        match self.merger.push_frame(msg, now) {
            Ok(Some(r)) => sink.send(r),
            Ok(None) => {}
            Err(why) => sink.refused(why, &hex(msg)),
        }
    }

    fn avr(&mut self, data: &[u8], now: f64, sink: &Sink) {
        for &b in data {
            if b != b'\n' && b != b';' {
                if self.line.len() < MAX_AVR_LINE {
                    self.line.push(b);
                } else {
                    self.too_long = true;
                }
                continue;
            }
            if b == b';' && !self.too_long {
                self.line.push(b);
            }
            let line = std::mem::take(&mut self.line);
            if self.too_long {
                sink.stats.messages.fetch_add(1, Ordering::Relaxed);
                sink.refused(Reject::Malformed, "an AVR line over the length bound");
            } else {
                match parse_avr(&String::from_utf8_lossy(&line)) {
                    Ok(Some(msg)) => self.message(&msg, now, sink),
                    Ok(None) => {}
                    Err(why) => {
                        sink.stats.messages.fetch_add(1, Ordering::Relaxed);
                        sink.refused(why, &String::from_utf8_lossy(&line));
                    }
                }
            }
            self.line = line;
            self.line.clear();
            self.too_long = false;
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Decoder for Frames {
    fn bytes(&mut self, data: &[u8], now: f64, sink: &Sink) {
        let mut data = data;
        if self.format == BeastFormat::Auto {
            // The first byte that can start a frame tells the format; anything before it is
            // counted once as `malformed`.
            let start = data.iter().position(|b| matches!(b, 0x1a | b'*' | b'@'));
            let before = &data[..start.unwrap_or(data.len())];
            if before.iter().any(|b| !b.is_ascii_whitespace()) && !self.preamble_counted {
                self.preamble_counted = true;
                sink.stats.messages.fetch_add(1, Ordering::Relaxed);
                sink.refused(Reject::Malformed, "bytes before the first frame");
            }
            let Some(start) = start else { return };
            self.format = if data[start] == 0x1a {
                BeastFormat::Beast
            } else {
                BeastFormat::Avr
            };
            sink.stats.log(&format!("source format: {:?}", self.format));
            data = &data[start..];
        }
        match self.format {
            BeastFormat::Avr => self.avr(data, now, sink),
            _ => {
                let mut frames = Vec::new();
                self.framer.push(data, |f| frames.push(f));
                for f in frames {
                    match f {
                        Ok(BeastFrame::ModeS(msg)) => self.message(&msg, now, sink),
                        Ok(BeastFrame::Other) => {
                            sink.stats.messages.fetch_add(1, Ordering::Relaxed);
                            sink.refused(Reject::Ignored, "a Mode A/C or status frame");
                        }
                        Err(why) => {
                            sink.stats.messages.fetch_add(1, Ordering::Relaxed);
                            sink.refused(why, "bytes outside any whole Beast frame");
                        }
                    }
                }
            }
        }
    }

    fn reset(&mut self) {
        self.framer.reset();
        self.line.clear();
        self.too_long = false;
        self.preamble_counted = false;
        self.format = self.fixed;
    }

    fn prune(&mut self, now: f64) {
        self.merger.prune(now);
    }

    fn aircraft(&self) -> usize {
        self.merger.len()
    }
}
