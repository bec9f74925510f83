//! Server-Sent Events cut out of the bytes of `GET /v1/stream`, as they arrive: `event:`,
//! `id:` and `data:` fields up to a blank line; comments (the keep-alives) skipped. Bounded:
//! a line or an event over [`MAX_BYTES`] is an error, after which the stream is reopened.

/// The longest line, and the most data one event gathers.
pub(super) const MAX_BYTES: usize = 4 << 20;

/// One event.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SseEvent {
    /// `message` when the server named none.
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub(super) struct Sse {
    line: Vec<u8>,
    event: Option<String>,
    id: Option<String>,
    data: Option<String>,
}

impl Sse {
    /// Takes the next bytes; the events they complete are pushed on `out`.
    pub(super) fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), String> {
        for part in bytes.split_inclusive(|b| *b == b'\n') {
            self.line.extend_from_slice(part);
            if self.line.len() > MAX_BYTES {
                return Err(format!("an event line over {MAX_BYTES} bytes"));
            }
            if self.line.last() != Some(&b'\n') {
                continue;
            }
            let mut l = std::mem::take(&mut self.line);
            l.pop();
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            self.field(&String::from_utf8_lossy(&l), out)?;
        }
        Ok(())
    }

    fn field(&mut self, line: &str, out: &mut Vec<SseEvent>) -> Result<(), String> {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(SseEvent {
                    event: self.event.take().unwrap_or_else(|| "message".into()),
                    id: self.id.take(),
                    data,
                });
            }
            self.event = None;
            self.id = None;
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "event" => self.event = Some(value.to_string()),
            "id" => self.id = Some(value.to_string()),
            "data" => {
                let d = self.data.get_or_insert_with(String::new);
                if d.len() + value.len() > MAX_BYTES {
                    return Err(format!("an event over {MAX_BYTES} bytes"));
                }
                if !d.is_empty() {
                    d.push('\n');
                }
                d.push_str(value);
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_out_of_chunks_split_anywhere() {
        let text = ": keep-alive\n\nevent: alert\nid: 7\ndata: {\"a\":1}\n\n\
                    event:message\r\ndata: one\r\ndata: two\r\n\r\ndata: x\n\nid: 9\n\n";
        let mut want = None;
        for step in 1..text.len() {
            let mut p = Sse::default();
            let mut out = Vec::new();
            for c in text.as_bytes().chunks(step) {
                p.push(c, &mut out).ok();
            }
            let want = want.get_or_insert_with(|| out.clone());
            assert_eq!(&out, want, "chunks of {step}");
        }
        let want = want.clone().unwrap_or_default();
        assert_eq!(want.len(), 3);
        assert_eq!(
            (want[0].event.as_str(), want[0].id.as_deref()),
            ("alert", Some("7"))
        );
        assert_eq!(want[0].data, "{\"a\":1}");
        assert_eq!(
            (want[1].event.as_str(), want[1].data.as_str()),
            ("message", "one\ntwo")
        );
        assert_eq!((want[2].event.as_str(), want[2].id.as_deref()), ("message", None));
    }

    #[test]
    fn an_endless_line_is_an_error() {
        let mut p = Sse::default();
        let mut out = Vec::new();
        let chunk = vec![b'a'; 1 << 20];
        let r = (0..5).try_for_each(|_| p.push(&chunk, &mut out));
        assert!(r.is_err());
        assert!(out.is_empty());
    }
}
