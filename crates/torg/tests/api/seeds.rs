//! Tests: seeds.
