//! Tests: python_client.
