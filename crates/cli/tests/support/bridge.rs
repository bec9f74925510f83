//! A `deconflict feed …` bridge process, as the feed tests run it: its token in a file, its
//! stdout and stderr lines on one channel, killed and reaped when dropped.

use super::bin;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a bridge test waits for a line or for the process to stop.
const WAIT: Duration = Duration::from_secs(15);

pub(crate) struct Bridge {
    pub child: Child,
    /// Where it listens (`listening on ADDR …`, its first line on stdout); empty when it
    /// does not.
    pub addr: String,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, stdout's and stderr's.
    pub seen: Vec<String>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Forwards every line of `r` to `tx` until the end of the stream.
fn forward(r: impl std::io::Read + Send + 'static, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
}

impl Bridge {
    /// Runs `deconflict feed ARGS --token-file F` with `token` in F (in `dir`). With
    /// `listens`, waits for its `listening on ADDR` line.
    pub(crate) fn spawn(dir: &Path, token: &str, args: &[&str], listens: bool) -> Bridge {
        static N: AtomicUsize = AtomicUsize::new(0);
        let tf = dir.join(format!("feed-{}.token", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&tf, format!("{token}\n")).unwrap();
        let mut child = bin()
            .arg("feed")
            .args(args)
            .arg("--token-file")
            .arg(&tf)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        forward(child.stderr.take().unwrap(), tx.clone());
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut addr = String::new();
        if listens {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            addr = line
                .trim()
                .strip_prefix("listening on ")
                .and_then(|r| r.split(' ').next())
                .unwrap_or_else(|| panic!("no listening line: {line:?}"))
                .to_string();
        }
        // The rest of stdout is read too: a closed pipe would make the bridge's next line fail.
        forward(out, tx);
        Bridge {
            child,
            addr,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line (stdout or stderr) that contains every one of `parts`.
    pub(crate) fn line_with(&mut self, parts: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(l) = self
                .seen
                .iter()
                .rev()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {parts:?}; got {:?}",
                self.seen
            );
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(l);
            }
        }
    }

    /// Waits for the bridge to stop by itself; its exit status.
    pub(crate) fn stopped(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "the bridge did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
