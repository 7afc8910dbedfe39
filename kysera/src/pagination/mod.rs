//! Pagination: offset pages with the totals an API response needs ([`Page`]), and keyset
//! pages that stay fast at any depth ([`keyset`]).

pub mod keyset;

use serde::{Deserialize, Serialize};

pub use keyset::{CursorError, CursorKey, CursorPage, CursorRequest, Direction, Keyset};

use crate::error::{Error, Result};

/// Which page to read: 1-based `page` of `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// Page number, starting at 1.
    pub page: u64,
    /// Rows per page, at least 1.
    pub limit: u64,
}

impl PageRequest {
    /// Page `page` (1-based) of `limit` rows.
    pub fn new(page: u64, limit: u64) -> Self {
        PageRequest { page, limit }
    }

    /// Rejects page 0, limit 0, and offsets past `i64::MAX`.
    pub(crate) fn offset_and_limit(&self) -> Result<(i64, i64)> {
        if self.page == 0 {
            return Err(Error::InvalidArgument("page numbers start at 1".into()));
        }
        if self.limit == 0 {
            return Err(Error::InvalidArgument(
                "page limit must be at least 1".into(),
            ));
        }
        let offset = (self.page - 1)
            .checked_mul(self.limit)
            .and_then(|o| i64::try_from(o).ok())
            .ok_or_else(|| Error::InvalidArgument("page offset is too large".into()))?;
        let limit = i64::try_from(self.limit)
            .map_err(|_| Error::InvalidArgument("page limit is too large".into()))?;
        Ok((offset, limit))
    }
}

/// One page of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub page: u64,
    /// Rows per page.
    pub limit: u64,
    /// Rows in all pages.
    pub total: u64,
    /// Number of pages (0 when there are no rows).
    pub total_pages: u64,
    /// True when a later page has rows.
    pub has_next: bool,
    /// True when this is not the first page.
    pub has_prev: bool,
}

impl<T> Page<T> {
    /// Builds a page from its rows and the total row count.
    pub fn new(items: Vec<T>, request: PageRequest, total: u64) -> Self {
        let total_pages = total.div_ceil(request.limit.max(1));
        Page {
            items,
            page: request.page,
            limit: request.limit,
            total,
            total_pages,
            has_next: request.page < total_pages,
            has_prev: request.page > 1,
        }
    }

    /// Converts the rows, keeping the totals.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            limit: self.limit,
            total: self.total,
            total_pages: self.total_pages,
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_flags() {
        let p = Page::new(vec![1, 2], PageRequest::new(2, 2), 5);
        assert_eq!((p.total_pages, p.has_next, p.has_prev), (3, true, true));
        let last = Page::new(vec![5], PageRequest::new(3, 2), 5);
        assert_eq!((last.has_next, last.has_prev), (false, true));
        let empty: Page<i32> = Page::new(vec![], PageRequest::new(1, 10), 0);
        assert_eq!(
            (empty.total_pages, empty.has_next, empty.has_prev),
            (0, false, false)
        );
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(PageRequest::new(0, 10).offset_and_limit().is_err());
        assert!(PageRequest::new(1, 0).offset_and_limit().is_err());
        assert!(PageRequest::new(u64::MAX, u64::MAX)
            .offset_and_limit()
            .is_err());
        assert_eq!(
            PageRequest::new(3, 20).offset_and_limit().unwrap(),
            (40, 20)
        );
    }
}
