//! Tests: crm_telephony.
