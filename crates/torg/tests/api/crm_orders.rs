//! Tests: crm_orders.
