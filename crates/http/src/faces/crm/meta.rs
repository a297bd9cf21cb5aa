//! The unversioned methods: API versions, the key's credentials, system info.

use super::{Crm, CrmResult, ROUTES, ok};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use torg_domain::key::SiteAccess;

/// `GET /api/api-versions`.
pub async fn api_versions(_crm: Crm) -> CrmResult {
    ok(StatusCode::OK, json!({ "versions": ["3.0", "4.0", "5.0"] }))
}

/// `GET /api/credentials`: the key's scopes, site access and reachable sites, and (deprecated in
/// RetailCRM, still sent) the method paths those scopes open.
pub async fn credentials(crm: Crm) -> CrmResult {
    let credentials: Vec<String> =
        ROUTES.iter().filter(|r| r.scope.is_none_or(|s| crm.key.has_scope(s))).map(|r| r.path.to_string()).collect();
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
