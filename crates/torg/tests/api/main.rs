//! torg's integration tests: one binary, a module per area. Every test starts the real server on a
//! random loopback port against a fresh database and talks HTTP to it; storage tests run once on SQLite
//! and once on PostgreSQL (`TORG_TEST_POSTGRES_URL`, required: a missing server fails, never skips).

mod common;

mod authz;
mod billing;
mod billing_errors;
mod billing_flows;
mod billing_gate;
mod billing_list;
mod billing_sdk;
mod billing_shipments;
mod billing_support;
mod cli;
mod crm_combine;
mod crm_corporate;
mod crm_customers;
mod crm_definitions;
mod crm_delivery;
mod crm_errors;
mod crm_files;
mod crm_filters;
mod crm_history;
mod crm_interaction;
mod crm_loyalty;
mod crm_meta;
mod crm_orders;
mod crm_packs;
mod crm_payment_api;
mod crm_payments;
mod crm_people;
mod crm_references;
mod crm_store;
mod crm_tasks_costs;
mod crm_telephony;
mod durability;
mod fields_read;
mod idempotency;
mod import;
mod office;
mod office_seeds;
mod office_xml;
mod ops;
mod parts;
mod plans_seen;
mod pools;
mod python_client;
mod rate_limits;
mod seeds;
mod shown_cache;
mod track;
mod track_browser;
mod two_instances;
mod webhooks;
