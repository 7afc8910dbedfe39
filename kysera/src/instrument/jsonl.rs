//! JSON-lines output: one JSON object per query appended to a file, through a buffer.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::event::QueryRecord;
use crate::error::{Error, Result};

/// Appends records to a file, one line each (see [`QueryRecord`]'s `Serialize` for the
/// fields). Lines reach the file when the buffer fills, on [`JsonLines::flush`] and when the
/// writer is dropped.
#[derive(Debug)]
pub(crate) struct JsonLines {
    path: PathBuf,
    out: BufWriter<File>,
    /// The first write error since the last flush: recording cannot fail, so it is kept
    /// and reported by `flush`.
    failed: Option<std::io::Error>,
}

impl JsonLines {
    /// Opens (or creates) `path` for appending.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::Config(format!("cannot open query log {}: {e}", path.display())))?;
        Ok(JsonLines {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, file),
            failed: None,
        })
    }

    /// Appends one line.
    pub(crate) fn write(&mut self, record: &QueryRecord) {
        if self.failed.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.failed = Some(e);
        }
    }

    /// Writes the buffered lines to the file; reports a write that failed since the last
    /// flush (the lines after it were dropped).
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        let flushed = self.out.flush();
        match self.failed.take() {
            Some(e) => Err(std::io::Error::new(
                e.kind(),
                format!("writing query log {}: {e}", self.path.display()),
            )),
            None => flushed,
        }
    }
}
