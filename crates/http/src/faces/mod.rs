//! One module per API dialect. Each face maps its wire contract onto the domain and the store, and
//! nothing else: no face talks SQL, and no face knows another.

pub mod billing;
pub mod crm;
pub mod office;
pub mod parts;
pub mod track;

/// A documented route: what the router serves and what `/openapi.json` describes, in one place.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// HTTP verb.
    pub method: &'static str,
    /// Path, with `{param}` segments.
    pub path: &'static str,
    /// Operation id (`<verb>_<resource>`).
    pub operation: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Scope the key needs, if any.
    pub scope: Option<&'static str>,
    /// Group in the document.
    pub tag: &'static str,
}
