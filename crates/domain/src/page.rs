//! Pagination: which page sizes a list accepts and the numbers a paged answer reports.

/// Page sizes every list accepts.
pub const LIMITS: &[u32] = &[20, 50, 100];
/// Page sizes the store (catalogue and stock) lists accept.
pub const STORE_LIMITS: &[u32] = &[20, 50, 100, 250];

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page.
    pub limit: u32,
    /// Page number, from 1.
    pub page: u32,
}

impl PageRequest {
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.limit)
    }

    /// The pagination block for a filtered set of `total` items.
    pub fn meta(&self, total: u64) -> Pagination {
        Pagination {
            limit: self.limit,
            total_count: total,
            current_page: self.page,
            total_page_count: total.div_ceil(u64::from(self.limit)),
        }
    }
}

/// What a paged answer says about the whole filtered set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// Items per page.
    pub limit: u32,
    /// Items in the filtered set.
    pub total_count: u64,
    /// The page returned.
    pub current_page: u32,
    /// Pages in the filtered set.
    pub total_page_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let p = PageRequest { limit: 20, page: 3 };
        assert_eq!(p.offset(), 40);
        assert_eq!(p.meta(1583).total_page_count, 80);
        assert_eq!(p.meta(0).total_page_count, 0);
        assert_eq!(p.meta(20).total_page_count, 1);
    }
}
