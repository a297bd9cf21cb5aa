//! Tests: crm_references.
