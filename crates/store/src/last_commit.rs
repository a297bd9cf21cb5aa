//! The mark every commit leaves in a SQLite database's shared-memory file (`-shm`), read without a
//! transaction: what a request read of the database (its key check) still holds while the mark has
//! not moved, whichever connection or process committed in between.
//!
//! Written by hand because SQLite offers no call for it: `PRAGMA data_version` and
//! `SQLITE_FCNTL_DATA_VERSION` only learn of another connection's commit when a read transaction
//! begins, and beginning and ending one (its file locks) was about a third of a kept page's time.
//! The mark is the WAL index's header (<https://www.sqlite.org/walformat.html>, "The WAL-Index
//! Header"), which SQLite's own readers compare to learn the same thing: a commit writes it after its
//! frames, in two copies (the second first) with a checksum over each, so a header half written is
//! told from a written one. Its layout is shared by every SQLite version that opens a database at the
//! same time as another, so it does not change with the library. The file is read with `pread(2)`,
//! not mapped: a file cut short under a map would kill the process, a short read here is only "no
//! mark". SQLite removes the file only when the last connection to the database closes, and the
//! store's writer stays open as long as the store does, so the file read is always the live one.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes in one copy of the WAL index header.
const HEADER: usize = 48;
/// Where the header says it is initialised (`isInit`, after three 32-bit words).
const IS_INIT: usize = 12;
/// Bytes the header's checksum covers (all but the checksum's own two words).
const CHECKED: usize = 40;

/// The WAL index header of the last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommitMark([u8; HEADER]);

/// A database's shared-memory file, open for reading its header.
#[derive(Debug)]
pub(crate) struct LastCommit {
    shm: File,
}

impl LastCommit {
    /// The shared-memory file beside `database`, if the database is in WAL mode and has one.
    pub(crate) fn open(database: &Path) -> Option<LastCommit> {
        // SQLite names the file after the database's real path, a symbolic link followed; a file
        // beside the link would be another's, whose header never moves.
        let mut name = std::fs::canonicalize(database).ok()?.into_os_string();
        name.push("-shm");
        File::open(name).ok().map(|shm| LastCommit { shm })
    }

    /// The header as the last commit wrote it; `None` while a commit is writing it, or when the file
    /// holds none (SQLite is rebuilding the index): the caller reads the database then.
    pub(crate) fn mark(&self) -> Option<CommitMark> {
        let mut both = [0_u8; 2 * HEADER];
        if self.shm.read_at(&mut both, 0).ok()? < both.len() {
            return None;
        }
        let (first, second) = both.split_at(HEADER);
        if first != second || first[IS_INIT] != 1 || !checksum_holds(first) {
            return None;
        }
        first.try_into().ok().map(CommitMark)
    }
}

/// SQLite's checksum of the header (`walChecksumBytes` in native byte order): pairs of 32-bit words
/// summed into two running sums, which the header's last two words hold.
fn checksum_holds(header: &[u8]) -> bool {
    let word = |i: usize| header.get(4 * i..4 * i + 4).and_then(|w| w.try_into().ok()).map(u32::from_ne_bytes);
    let (mut s1, mut s2) = (0_u32, 0_u32);
    for pair in 0..CHECKED / 8 {
        let (Some(a), Some(b)) = (word(2 * pair), word(2 * pair + 1)) else { return false };
        s1 = s1.wrapping_add(a).wrapping_add(s2);
        s2 = s2.wrapping_add(b).wrapping_add(s1);
    }
    word(CHECKED / 4) == Some(s1) && word(CHECKED / 4 + 1) == Some(s2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as SQLite writes it: the given words, then their checksum.
    fn header(words: [u32; 10]) -> [u8; HEADER] {
        let mut h = [0_u8; HEADER];
        let (mut s1, mut s2) = (0_u32, 0_u32);
        for (i, w) in words.iter().enumerate() {
            h[4 * i..4 * i + 4].copy_from_slice(&w.to_ne_bytes());
            if i % 2 == 0 {
                s1 = s1.wrapping_add(*w).wrapping_add(s2);
            } else {
                s2 = s2.wrapping_add(*w).wrapping_add(s1);
            }
        }
        h[40..44].copy_from_slice(&s1.to_ne_bytes());
        h[44..48].copy_from_slice(&s2.to_ne_bytes());
        h
    }

    fn shm(first: &[u8], second: &[u8]) -> (tempfile::TempDir, LastCommit) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut bytes = first.to_vec();
        bytes.extend_from_slice(second);
        bytes.resize(32 * 1024, 0);
        std::fs::write(&db, b"").unwrap();
        std::fs::write(dir.path().join("t.db-shm"), bytes).unwrap();
        let watch = LastCommit::open(&db).unwrap();
        (dir, watch)
    }

    const INIT: u32 = u32::from_ne_bytes([1, 0, 0x10, 0]);

    #[test]
    fn a_written_header_is_a_mark() {
        let h = header([3_007_000, 0, 41, INIT, 812, 9_000, 7, 8, 5, 6]);
        let (_dir, watch) = shm(&h, &h);
        assert_eq!(watch.mark(), Some(CommitMark(h)));
    }

    #[test]
    fn a_header_being_written_or_broken_is_none() {
        let old = header([3_007_000, 0, 41, INIT, 812, 9_000, 7, 8, 5, 6]);
        let new = header([3_007_000, 0, 42, INIT, 815, 9_000, 9, 1, 5, 6]);
        // The second copy is written first: the copies differ until the first is written too.
        assert_eq!(shm(&old, &new).1.mark(), None);
        let mut bad = new;
        bad[20] ^= 1;
        assert_eq!(shm(&bad, &bad).1.mark(), None, "a checksum that does not hold");
        let uninit = header([3_007_000, 0, 42, 0, 815, 9_000, 9, 1, 5, 6]);
        assert_eq!(shm(&uninit, &uninit).1.mark(), None, "not initialised");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.db"), b"").unwrap();
        std::fs::write(dir.path().join("t.db-shm"), [0_u8; 3]).unwrap();
        assert_eq!(LastCommit::open(&dir.path().join("t.db")).unwrap().mark(), None, "a file cut short");
        assert!(LastCommit::open(&dir.path().join("none.db")).is_none());
    }

    #[test]
    fn a_database_behind_a_link_is_watched_where_sqlite_keeps_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.db");
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let conn = rusqlite::Connection::open(&link).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);").unwrap();
        // A file left beside the link: not SQLite's.
        std::fs::write(dir.path().join("link.db-shm"), [0_u8; 32 * 1024]).unwrap();
        let watch = LastCommit::open(&link).unwrap();
        let before = watch.mark().expect("SQLite's file has a mark");
        conn.execute("INSERT INTO t (x) VALUES (1)", []).unwrap();
        assert_ne!(watch.mark(), Some(before));
    }

    #[test]
    fn every_commit_moves_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);").unwrap();
        let watch = LastCommit::open(&path).unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        let mut seen = vec![watch.mark().expect("a mark after the first commit")];
        for i in 0..5 {
            other.execute("INSERT INTO t (x) VALUES (?1)", [i]).unwrap();
            let now = watch.mark().expect("a mark");
            assert!(!seen.contains(&now), "commit {i} left the mark where it was");
            seen.push(now);
        }
        let _: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(watch.mark(), seen.last().copied(), "a read moves nothing");
    }
}
