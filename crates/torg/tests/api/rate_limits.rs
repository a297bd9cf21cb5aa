//! Tests: rate_limits.
