//! The log's writer: lines gathered in memory by the threads that log them and written out by a
//! thread of its own every few milliseconds, in one `write(2)`.
//!
//! Written by hand because `tracing-appender`'s non-blocking writer (used before) hands each line
//! over a channel whose receiving thread wakes for it: under load a wake-up and a `write(2)` per
//! request, about 5 % of the CPU of a kept order read by id (by profile, and by the same read with
//! the request log off). Here a logger only appends to a buffer under a lock; the writer thread
//! sleeps until its next turn or until the buffer passes [`WRITE_AT`]. Nothing is dropped: a logger
//! finding [`MOST_WAITING`] bytes not yet written waits for the writer, and the guard writes out
//! what is left when it is dropped.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in memory before it is written.
const TURN: Duration = Duration::from_millis(20);
/// Bytes waiting at which the writer is woken before its turn.
const WRITE_AT: usize = 64 * 1024;
/// Bytes waiting at which loggers wait for the writer (a writer that cannot keep up slows the
/// loggers rather than losing lines or growing without bound).
const MOST_WAITING: usize = 4 * 1024 * 1024;

/// The lines waiting, and whether the log is closing.
#[derive(Default)]
struct Waiting {
    lines: Vec<u8>,
    closing: bool,
}

/// What the loggers and the writer thread share.
#[derive(Default)]
struct Shared {
    waiting: Mutex<Waiting>,
    /// Wakes the writer before its turn (a full buffer, closing).
    wake: Condvar,
    /// Wakes loggers waiting for room.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer the log's subscriber writes through (`MakeWriter`, lent by reference for each line).
#[derive(Clone)]
pub struct PacedWriter {
    shared: Arc<Shared>,
}

/// Writes out what is left and stops the writer thread when dropped.
pub struct PacedGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer into `out` and its guard; `out` is written by a thread named `name`.
pub fn paced(out: impl Write + Send + 'static, name: &str) -> std::io::Result<(PacedWriter, PacedGuard)> {
    let shared = Arc::new(Shared::default());
    let theirs = shared.clone();
    let thread = std::thread::Builder::new().name(name.to_owned()).spawn(move || write_out(&theirs, out))?;
    Ok((PacedWriter { shared: shared.clone() }, PacedGuard { shared, thread: Some(thread) }))
}

/// The writer thread: every turn (or sooner when woken) takes every line waiting and writes them.
fn write_out(shared: &Shared, mut out: impl Write) {
    let mut taken = Vec::with_capacity(WRITE_AT);
    loop {
        let closing = {
            let mut waiting = shared.lock();
            if waiting.lines.len() < WRITE_AT && !waiting.closing {
                waiting = shared.wake.wait_timeout(waiting, TURN).unwrap_or_else(PoisonError::into_inner).0;
            }
            std::mem::swap(&mut waiting.lines, &mut taken);
            shared.room.notify_all();
            waiting.closing
        };
        if !taken.is_empty() {
            // A log that cannot be written (stderr closed) has nowhere to say so; its lines go.
            let _ = out.write_all(&taken).and_then(|()| out.flush());
            taken.clear();
        }
        if closing && shared.lock().lines.is_empty() {
            return;
        }
    }
}

impl Write for &PacedWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut waiting = self.shared.lock();
        while waiting.lines.len() >= MOST_WAITING && !waiting.closing {
            waiting = self.shared.room.wait(waiting).unwrap_or_else(PoisonError::into_inner);
        }
        let before = waiting.lines.len();
        waiting.lines.extend_from_slice(line);
        // Once, as the buffer passes the mark: the lines after it until the writer takes them need
        // no wake-up call of their own.
        if before < WRITE_AT && waiting.lines.len() >= WRITE_AT {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for PacedWriter {
    type Writer = &'a PacedWriter;

    /// The writer itself, lent: no count of its shared state moved per line.
    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for PacedGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that can be read while the writer thread holds it.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<u8>>>);

    impl Write for Seen {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seen {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_are_written_on_the_writers_turn_and_the_rest_when_the_guard_goes() {
        let seen = Seen::default();
        let (writer, guard) = paced(seen.clone(), "log-test").unwrap();
        (&writer).write_all(b"one\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while seen.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(seen.text(), "one\n", "written within a turn, without a flush or a guard dropped");
        (&writer).write_all(b"two\n").unwrap();
        drop(guard);
        assert_eq!(seen.text(), "one\ntwo\n");
    }

    #[test]
    fn many_threads_lose_no_line_and_split_none() {
        let seen = Seen::default();
        let (writer, guard) = paced(seen.clone(), "log-test").unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        (&w).write_all(format!("thread {t} line {i:05} {}\n", "x".repeat(100)).as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let text = seen.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 80_000, "every line, past the point where loggers wait for room");
        for t in 0..4 {
            let own: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with(&format!("thread {t} "))).collect();
            assert_eq!(own.len(), 20_000);
            assert!(own.iter().enumerate().all(|(i, l)| l.starts_with(&format!("thread {t} line {i:05} "))));
        }
    }
}
