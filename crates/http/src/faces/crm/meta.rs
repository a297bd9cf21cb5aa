//! The unversioned methods: API versions, the key's credentials, system info.

use super::{Crm, CrmResult, ok};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use torg_domain::key::SiteAccess;

/// `GET /api/api-versions`.
pub async fn api_versions(_crm: Crm) -> CrmResult {
    ok(StatusCode::OK, json!({ "versions": ["3.0", "4.0", "5.0"] }))
}

/// Every scoped method of the face as RetailCRM names it in `credentials`: without the version
/// (`/api/reference/payment-types`), each path once, with the scope it needs.
static METHODS: std::sync::LazyLock<Vec<(&'static str, String)>> = std::sync::LazyLock::new(|| {
    let mut seen = std::collections::BTreeSet::new();
    (super::FACE.routes)()
        .into_iter()
        .filter_map(|r| {
            let scope = r.access.scope()?;
            let path = r.path.replacen("/api/v5/", "/api/", 1);
            seen.insert(path.clone()).then_some((scope, path))
        })
        .collect()
});

/// `GET /api/credentials`: the key's scopes, site access and reachable sites, and (deprecated in
/// RetailCRM, still sent) the method paths those scopes open.
pub async fn credentials(crm: Crm) -> CrmResult {
    let credentials: Vec<&str> =
        METHODS.iter().filter(|(scope, _)| crm.key.has_scope(scope)).map(|(_, path)| path.as_str()).collect();
    let access = match crm.key.sites {
        SiteAccess::Full => "access_full",
        SiteAccess::Selective(_) => "access_selective",
    };
    ok(
        StatusCode::OK,
        json!({ "credentials": credentials, "scopes": crm.key.scopes, "siteAccess": access, "sitesAvailable": crm.sites }),
    )
}

/// `GET /api/system-info`.
pub async fn system_info(State(state): State<AppState>, _crm: Crm) -> CrmResult {
    ok(
        StatusCode::OK,
        json!({
            "systemVersion": env!("CARGO_PKG_VERSION"),
            "publicUrl": state.config.public_url,
            "technicalUrl": state.config.public_url,
        }),
    )
}
