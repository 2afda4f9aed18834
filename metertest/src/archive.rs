//! The result archive: every run in one SQLite file, searchable by serial number, date and
//! verdict (`pqe metertest history SERIAL`).

use crate::run::RunResults;
use rusqlite::{params, Connection};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Archive failure, naming the database file.
#[derive(Debug, thiserror::Error)]
#[error("archive {path}: {message}")]
pub struct ArchiveError {
    /// The database file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// One archived run of one meter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// The run's id in the archive.
    pub run: i64,
    /// Start of the run, UTC, ISO 8601.
    pub started: String,
    /// The meter's serial.
    pub serial: String,
    /// pass, fail or incomplete.
    pub verdict: String,
    /// The plan's name.
    pub plan: String,
    /// The bench URI.
    pub bench: String,
    /// Points measured.
    pub points: i64,
    /// Points failed.
    pub failed: i64,
    /// The bench fault that ended the run, if any.
    pub fault: Option<String>,
    /// The folder the run's report was written to.
    pub out_dir: String,
}

/// A search of the archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryQuery {
    /// Serial number (exact).
    pub serial: String,
    /// Runs started on or after this date/time (ISO 8601 prefix, e.g. 2026-12-07).
    pub since: Option<String>,
    /// Runs started before this date/time.
    pub until: Option<String>,
    /// Only this verdict (pass, fail, incomplete).
    pub verdict: Option<String>,
}

/// The archive file.
pub struct Archive {
    conn: Connection,
    path: String,
}

/// The default archive: `$XDG_DATA_HOME/pqe/metertest.sqlite`, else
/// `$HOME/.local/share/pqe/metertest.sqlite`.
pub fn default_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("pqe").join("metertest.sqlite"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    plan TEXT NOT NULL,
    bench TEXT NOT NULL,
    complete INTEGER NOT NULL,
    fault TEXT,
    out_dir TEXT NOT NULL,
    results_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meters (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    serial TEXT NOT NULL,
    verdict TEXT NOT NULL,
    points INTEGER NOT NULL,
    failed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS meters_serial ON meters(serial);
CREATE TABLE IF NOT EXISTS points (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    serial TEXT NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    error REAL,
    limit_percent REAL,
    verdict TEXT NOT NULL
);
";

impl Archive {
    /// Open (and create if needed) the archive at `path`, with its folder.
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        let p = path.display().to_string();
        let err = |m: String| ArchiveError {
            path: p.clone(),
            message: m,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| err(e.to_string()))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| err(format!("not a PQE meter-test archive, or unwritable: {e}")))?;
        Ok(Archive { conn, path: p })
    }

    fn err(&self, e: impl std::fmt::Display) -> ArchiveError {
        ArchiveError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Store a run (its results and where its report is); returns its id.
    pub fn store(&mut self, r: &RunResults, out_dir: &Path) -> Result<i64, ArchiveError> {
        let json = serde_json::to_string(r).map_err(|e| self.err(e))?;
        let tx = self.conn.transaction().map_err(|e| ArchiveError {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let path = self.path.clone();
        let e = |x: rusqlite::Error| ArchiveError {
            path: path.clone(),
            message: x.to_string(),
        };
        tx.execute(
            "INSERT INTO runs (started, plan, bench, complete, fault, out_dir, results_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![r.started, r.plan, r.bench, r.complete as i64, r.fault, out_dir.display().to_string(), json],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        for m in &r.meters {
            let failed = m
                .points
                .iter()
                .filter(|p| p.verdict == crate::limits::Verdict::Fail)
                .count() as i64;
            tx.execute(
                "INSERT INTO meters (run_id, serial, verdict, points, failed) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, m.serial, m.verdict, m.points.len() as i64, failed],
            )
            .map_err(e)?;
            for p in &m.points {
                let verdict = match p.verdict {
                    crate::limits::Verdict::Pass => "pass",
                    crate::limits::Verdict::Fail => "fail",
                };
                tx.execute(
                    "INSERT INTO points (run_id, serial, idx, name, kind, error, limit_percent, verdict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, m.serial, p.index as i64, p.name, p.kind, p.error, p.limit, verdict],
                )
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// The runs of a serial, newest first, filtered by date and verdict.
    pub fn history(&self, q: &HistoryQuery) -> Result<Vec<HistoryRow>, ArchiveError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.started, m.serial, m.verdict, r.plan, r.bench, m.points, m.failed, r.fault, r.out_dir
                 FROM meters m JOIN runs r ON r.id = m.run_id
                 WHERE m.serial = ?1
                   AND (?2 IS NULL OR r.started >= ?2)
                   AND (?3 IS NULL OR r.started < ?3)
                   AND (?4 IS NULL OR m.verdict = ?4)
                 ORDER BY r.started DESC, r.id DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![q.serial, q.since, q.until, q.verdict], |row| {
                Ok(HistoryRow {
                    run: row.get(0)?,
                    started: row.get(1)?,
                    serial: row.get(2)?,
                    verdict: row.get(3)?,
                    plan: row.get(4)?,
                    bench: row.get(5)?,
                    points: row.get(6)?,
                    failed: row.get(7)?,
                    fault: row.get(8)?,
                    out_dir: row.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The stored results.json of run `id`.
    pub fn results(&self, id: i64) -> Result<RunResults, ArchiveError> {
        let json: String = self
            .conn
            .query_row(
                "SELECT results_json FROM runs WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(format!("run {id}: {e}")))?;
        serde_json::from_str(&json)
            .map_err(|e| self.err(format!("run {id}: stored results unreadable: {e}")))
    }
}
