//! Framing of a Cursor-on-Target stream: TAK sends events back to back on TCP with no
//! delimiter (each may start with its own `<?xml ...?>`). This module owns cutting such a
//! byte stream into one frame per event, in a buffer that never grows past [`MAX_FRAME`].
//!
//! A frame ends at `</event>`, and starts at the last `<event` before that end: bytes before
//! it that are not blank or an XML declaration are a cut-off event (`truncated`). A stream
//! that never closes an event is cut at [`MAX_FRAME`] (`oversized`), keeping only from the last
//! `<event` on if it starts in the newest half, so one bad source cannot grow memory.

use crate::Reject;

/// Longest event kept, bytes (a TAK position event is under 2 KiB; chat and shapes a few).
pub const MAX_FRAME: usize = 64 * 1024;

const END: &[u8] = b"</event>";
const START: &[u8] = b"<event";

/// Splits a byte stream into events.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// How far `buf` has been searched for [`END`] already.
    searched: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether `b` is an event's start tag `<event` followed by a blank, `>` or `/`.
fn starts_event(hay: &[u8], i: usize) -> bool {
    hay[i..].starts_with(START)
        && matches!(
            hay.get(i + START.len()),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') | None
        )
}

fn last_start(hay: &[u8]) -> Option<usize> {
    (0..hay.len().saturating_sub(START.len() - 1))
        .rev()
        .find(|&i| starts_event(hay, i))
}

/// Whether bytes before an event are only blanks, an XML declaration or a comment.
fn only_prologue(b: &[u8]) -> bool {
    let s = String::from_utf8_lossy(b);
    let mut s = s.trim();
    loop {
        if s.is_empty() {
            return true;
        }
        let close = if s.starts_with("<?") {
            "?>"
        } else if s.starts_with("<!--") {
            "-->"
        } else {
            return false;
        };
        match s.find(close) {
            Some(i) => s = s[i + close.len()..].trim(),
            None => return false,
        }
    }
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Bytes held for an event not yet closed.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Whether what is held is only blanks or a prologue (no event begun).
    pub fn pending_is_blank(&self) -> bool {
        only_prologue(&self.buf)
    }

    /// Takes `data` and calls `each` with every complete frame (`Ok`, prologue included) and
    /// every piece of stream thrown away (`Err` with its reason), in stream order.
    pub fn push(&mut self, mut data: &[u8], mut each: impl FnMut(Result<&[u8], Reject>)) {
        while !data.is_empty() {
            let room = MAX_FRAME - self.buf.len();
            let take = data.len().min(room.max(1));
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.drain(&mut each);
            if self.buf.len() >= MAX_FRAME {
                each(Err(Reject::Oversized));
                // Keep a start of event in the newest half: it may still close in bounds.
                match last_start(&self.buf).filter(|&i| i >= MAX_FRAME / 2) {
                    Some(i) => {
                        self.buf.drain(..i);
                    }
                    None => self.buf.clear(),
                }
                self.searched = 0;
            }
        }
    }

    fn drain(&mut self, each: &mut impl FnMut(Result<&[u8], Reject>)) {
        let mut from = 0;
        loop {
            let hay = &self.buf[from..];
            let begin = self.searched.saturating_sub(from).saturating_sub(END.len());
            let Some(at) = find(&hay[begin.min(hay.len())..], END).map(|i| i + begin) else {
                self.searched = self.buf.len();
                break;
            };
            let end = at + END.len();
            let frame = &hay[..end];
            match last_start(&frame[..at]) {
                Some(s) => {
                    // The prologue right before the event stays with it.
                    let head = &frame[..s];
                    let decl = head
                        .windows(2)
                        .rposition(|w| w == b"<?")
                        .filter(|&d| only_prologue(&head[d..]))
                        .unwrap_or(s);
                    if !only_prologue(&head[..decl]) {
                        each(Err(Reject::Truncated));
                    }
                    each(Ok(&frame[decl..]));
                }
                None => each(Err(Reject::Malformed)),
            }
            from += end;
            self.searched = from;
        }
        // Blank or prologue-only leftovers are kept; they are the next event's prologue.
        self.buf.drain(..from);
        self.searched -= from;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> (Vec<String>, Vec<Reject>) {
        let mut f = Framer::new();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for c in chunks {
            f.push(c, |r| match r {
                Ok(b) => ok.push(String::from_utf8_lossy(b).into_owned()),
                Err(e) => bad.push(e),
            });
        }
        (ok, bad)
    }

    const A: &str = r#"<?xml version="1.0"?><event uid="a"><point/></event>"#;
    const B: &str = r#"<event uid="b"></event>"#;

    #[test]
    fn back_to_back_events_split_in_any_chunking() {
        let stream = format!("{A}\n{B}{A}");
        for size in 1..stream.len() {
            let chunks: Vec<&[u8]> = stream.as_bytes().chunks(size).collect();
            let (ok, bad) = frames(&chunks);
            assert_eq!(
                ok,
                vec![A.to_string(), B.to_string(), A.to_string()],
                "chunks of {size}"
            );
            assert!(bad.is_empty());
        }
    }

    #[test]
    fn a_cut_off_event_is_counted_and_the_next_one_kept() {
        let stream = format!(r#"<event uid="cut"><point lat="1"{B}"#);
        let (ok, bad) = frames(&[stream.as_bytes()]);
        assert_eq!(ok, vec![B.to_string()]);
        assert_eq!(bad, vec![Reject::Truncated]);
        let (ok, bad) = frames(&[b"garbage\x00\xff", A.as_bytes()]);
        assert_eq!(ok, vec![A.to_string()]);
        assert_eq!(bad, vec![Reject::Truncated]);
        let (ok, bad) = frames(&[b"no start</event>", B.as_bytes()]);
        assert_eq!(ok, vec![B.to_string()]);
        assert_eq!(bad, vec![Reject::Malformed]);
    }

    #[test]
    fn a_source_that_never_closes_cannot_grow_the_buffer() {
        let mut f = Framer::new();
        let mut bad = Vec::new();
        let chunk = vec![b'x'; 10_000];
        f.push(b"<event uid='x'>", |r| assert!(r.is_err()));
        for _ in 0..100 {
            f.push(&chunk, |r| bad.push(r.err()));
            assert!(f.pending() < MAX_FRAME);
        }
        assert!(bad.iter().all(|r| *r == Some(Reject::Oversized)) && bad.len() >= 10);
        // and it recovers
        let mut ok = 0;
        f.push(B.as_bytes(), |r| ok += usize::from(r.is_ok()));
        assert_eq!(ok, 1);
    }

    #[test]
    fn one_big_chunk_with_many_events() {
        let stream = B.repeat(10_000);
        let (ok, bad) = frames(&[stream.as_bytes()]);
        assert_eq!(ok.len(), 10_000);
        assert!(bad.is_empty());
    }
}
