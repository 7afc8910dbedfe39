//! Streaming: walk every row a [`Find`] selects in key order, a chunk at a time, with memory
//! that does not grow with the number of rows.

#[allow(unused_imports)]
use super::*;

/// Rows per statement of [`Repo::stream`].
pub const STREAM_CHUNK: usize = 1_000;

impl<'c, M: Supported> Repo<'c, M> {
    /// Every row `find` selects, in key order, read [`STREAM_CHUNK`] rows per statement
    /// (`WHERE <scope> AND <filters> AND key > <last key seen> ORDER BY key LIMIT n`): memory
    /// holds one chunk, whatever the number of rows. Each chunk is its own statement: inside a
    /// transaction with a snapshot (PostgreSQL REPEATABLE READ, MySQL's default, SQLite) the
    /// walk sees one state of the table; outside one, rows written meanwhile behind the walk's
    /// position are not seen, those ahead of it are.
    ///
    /// `find` gives filters only: a stream is ordered by key and reads to the end (use the
    /// iterator's `take` for fewer), so an ordering, limit, offset or lock is refused with
    /// [`Error::InvalidArgument`]. The first error ends the stream.
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "events")]
    /// # pub struct Event { #[kysera(primary_key, generated)] pub id: i64, pub kind: String }
    /// use diesel::prelude::*;
    /// use kysera::Find;
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL);
    /// #   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
    /// #   INSERT INTO events (kind) SELECT CASE i % 2 WHEN 0 THEN 'click' ELSE 'view' END FROM n")?;
    /// let mut clicks = 0;
    /// for event in conn.repo::<Event>().stream(Find::new().filter(events::kind.eq("click")))? {
    ///     let event = event?;
    ///     clicks += 1;
    /// }
    /// assert_eq!(clicks, 1250);
    /// # Ok(()) }
    /// ```
    pub fn stream(&self, find: Find<M>) -> Result<RowStream<'c, M>> {
        Ok(RowStream {
            chunks: self.stream_chunks(find, STREAM_CHUNK)?,
            current: Vec::new().into_iter(),
        })
    }

    /// [`Repo::stream`] a chunk of at most `size` rows at a time (`size` ≥ 1).
    pub fn stream_chunks(&self, find: Find<M>, size: usize) -> Result<ChunkStream<'c, M>> {
        let find = find.checked()?;
        if find.is_ordered() || find.page().is_some() || find.is_locking() {
            return Err(Error::InvalidArgument(
                "a stream walks every selected row in key order: give it filters only (no \
                 ordering, limit, offset or lock); take() fewer rows from the iterator"
                    .into(),
            ));
        }
        if size == 0 {
            return Err(Error::InvalidArgument(
                "a stream's chunk size must be at least 1".into(),
            ));
        }
        Ok(ChunkStream {
            repo: *self,
            scope: self.scope(),
            filters: find.into_filters(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            after: None,
            done: false,
        })
    }
}

/// The chunks of a [`Repo::stream_chunks`] walk: `Ok(rows)` (never empty) until the end, or
/// one `Err` that ends it.
pub struct ChunkStream<'c, M: Model> {
    repo: Repo<'c, M>,
    scope: Scope,
    filters: Vec<Predicate>,
    size: i64,
    after: Option<M::Id>,
    done: bool,
}

impl<M: Supported> Iterator for ChunkStream<'_, M> {
    type Item = Result<Vec<M>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let keys = match self.after.take() {
            None => Keys::All,
            Some(last) => Keys::After(last),
        };
        let predicate = Where::new(self.scope.clone(), keys).filtered(&self.filters);
        let page = Some((0, self.size));
        let rows = self
            .repo
            .run(|c| dispatch!(c, c => <M as ReadOps<_>>::load_where(c, predicate, page)))
            .and_then(|rows| self.repo.checked_all(rows));
        match rows {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(rows) => {
                self.done = (rows.len() as i64) < self.size;
                self.after = rows.last().map(Model::id);
                (!rows.is_empty()).then_some(Ok(rows))
            }
        }
    }
}

impl<M: Supported> std::iter::FusedIterator for ChunkStream<'_, M> {}

/// The rows of a [`Repo::stream`] walk, one at a time; an `Err` ends it.
pub struct RowStream<'c, M: Model> {
    chunks: ChunkStream<'c, M>,
    current: std::vec::IntoIter<M>,
}

impl<M: Supported> Iterator for RowStream<'_, M> {
    type Item = Result<M>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(Ok(row));
            }
            match self.chunks.next()? {
                Ok(rows) => self.current = rows.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl<M: Supported> std::iter::FusedIterator for RowStream<'_, M> {}
