//! Tests: crm_history.
