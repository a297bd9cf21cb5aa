//! Tests: crm_customers.
