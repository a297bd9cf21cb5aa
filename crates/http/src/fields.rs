//! What each route reads and answers, declared beside the route (`Route::fields`, `Route::answers`): the
//! OpenAPI document describes every operation's parameters and bodies from these declarations, and
//! the readers every face goes through ([`crate::input::Input`], the CRM's `FilterReader`, the parts
//! face's fields) note each name a handler reads so that a test server refuses to stay quiet about a
//! name its route does not declare ([`Undeclared`]). The billing and office faces go further: their
//! handlers refuse members outside the same declarations.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};
use torg_domain::listing::FieldSpec;

/// Where a declared field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The query string.
    Query,
    /// The body (a form, multipart form or JSON object; the office's XML too).
    Body,
    /// A header.
    Header,
}

/// The members a JSON entity is known to carry, each with what it holds (an [`Kind::Entity`] or
/// [`Kind::Entities`] has members of its own). Others may be sent: RetailCRM ignores members it does
/// not know, and so does torg, so a schema built from these stays open (`additionalProperties`).
pub type Members = &'static [(&'static str, Kind)];

/// Whether a JSON-in-form field holds an object or a list (of objects), with the members known of
/// that object (none: an object of any members).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A JSON object.
    Object(Members),
    /// A JSON list (of objects, for the uploads).
    List(Members),
    /// A JSON list of whole numbers (ids).
    Ids,
    /// A JSON list of texts (codes).
    Texts,
}

/// What a declared field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number (digits in a form).
    Integer,
    /// A decimal number.
    Number,
    /// A flag: `1`/`0`, `true`/`false`.
    Boolean,
    /// A date, `Y-m-d`.
    Date,
    /// A date with a time, `Y-m-d H:i:s` (a bare `Y-m-d` is read too).
    DateTime,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A page size, one of these.
    Limit(&'static [u32]),
    /// A page number, from 1.
    Page,
    /// A list of texts (`name[]=a&name[]=b`).
    Texts,
    /// A list of whole numbers (`name[]=1&name[]=2`).
    Integers,
    /// An object of members (`name[key]=v` in a form, an object in JSON).
    Object,
    /// A JSON object with these members known (others allowed).
    Entity(Members),
    /// A JSON list of objects with these members known (others allowed).
    Entities(Members),
    /// A list of members of any type (JSON bodies).
    List,
    /// JSON text in a form field (`order={…}`); in a JSON body the value itself.
    Json(Shape),
    /// The CRM's `filter[key]=…` with the keys a list accepts and what each holds.
    Filter(&'static [(&'static str, Kind)]),
    /// A list of rows, each an object of these members (the office's `data`).
    Rows(&'static [&'static str]),
    /// An object of these members, each a value or a list of values (the office's `filter`).
    Members(&'static [&'static str]),
    /// The billing face's list language over these fields (`field[_op]=`, `_order[field]=`).
    Listing(&'static [FieldSpec]),
    /// Anything.
    Any,
}

/// One field a route reads (or one member an answer carries).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Wire name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Where it travels; none means the verb's place (the query for `GET` and `DELETE`, else the body).
    pub place: Option<Place>,
    /// Whether the request is refused without it.
    pub required: bool,
    /// A line for the document; empty when the name says it all.
    pub about: &'static str,
}

impl Field {
    /// A field of `kind`, optional, in the verb's place.
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field { name, kind, place: None, required: false, about: "" }
    }

    /// A text field.
    pub const fn text(name: &'static str) -> Field {
        Field::new(name, Kind::Text)
    }

    /// A whole-number field.
    pub const fn int(name: &'static str) -> Field {
        Field::new(name, Kind::Integer)
    }

    /// A decimal field.
    pub const fn number(name: &'static str) -> Field {
        Field::new(name, Kind::Number)
    }

    /// A flag.
    pub const fn flag(name: &'static str) -> Field {
        Field::new(name, Kind::Boolean)
    }

    /// One of `values`.
    pub const fn one_of(name: &'static str, values: &'static [&'static str]) -> Field {
        Field::new(name, Kind::OneOf(values))
    }

    /// A form field whose text is a JSON object of which torg reads no member (a CRM write's
    /// entities are described by member: [`Field::entity`]).
    pub const fn json_object(name: &'static str) -> Field {
        Field::new(name, Kind::Json(Shape::Object(&[])))
    }

    /// A form field whose text is a JSON list of texts (`codes=["a","b"]`).
    pub const fn json_texts(name: &'static str) -> Field {
        Field::new(name, Kind::Json(Shape::Texts))
    }

    /// A form field whose text is a JSON list of whole numbers (`ids=[1,2]`).
    pub const fn json_ids(name: &'static str) -> Field {
        Field::new(name, Kind::Json(Shape::Ids))
    }

    /// A form field whose text is a JSON object with these members known.
    pub const fn entity(name: &'static str, members: Members) -> Field {
        Field::new(name, Kind::Json(Shape::Object(members)))
    }

    /// A form field whose text is a JSON list of objects with these members known.
    pub const fn entities(name: &'static str, members: Members) -> Field {
        Field::new(name, Kind::Json(Shape::List(members)))
    }

    /// A bracketed object (`name[key]=v`) or a JSON body's object member.
    pub const fn object(name: &'static str) -> Field {
        Field::new(name, Kind::Object)
    }

    /// A JSON body's list member.
    pub const fn list(name: &'static str) -> Field {
        Field::new(name, Kind::List)
    }

    /// The CRM's `filter` with its keys.
    pub const fn filter(keys: &'static [(&'static str, Kind)]) -> Field {
        Field::new("filter", Kind::Filter(keys))
    }

    /// Refused when absent.
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// Read from the query string whatever the verb.
    pub const fn in_query(mut self) -> Field {
        self.place = Some(Place::Query);
        self
    }

    /// A header.
    pub const fn in_header(mut self) -> Field {
        self.place = Some(Place::Header);
        self
    }

    /// With a line for the document.
    pub const fn about(mut self, about: &'static str) -> Field {
        self.about = about;
        self
    }

    /// Where the field travels on a route of `method`.
    pub fn place_on(&self, method: &str) -> Place {
        self.place.unwrap_or(if matches!(method, "GET" | "DELETE") { Place::Query } else { Place::Body })
    }
}

/// A CRM list's `limit`, one of `limits`, and `page`.
pub const fn paging(limits: &'static [u32]) -> [Field; 2] {
    [
        Field::new("limit", Kind::Limit(limits)).about("Page size."),
        Field::new("page", Kind::Page).about("Page number, from 1."),
    ]
}

/// The CRM lists' `limit` (20, 50 or 100) and `page`.
pub const PAGING: [Field; 2] = paging(torg_domain::page::LIMITS);

/// The CRM's `site`: where a write goes or external ids are looked up.
pub const SITE: Field = Field::text("site").about("Site code; needed when the key reaches several sites.");

/// The CRM's `by`: what an `{externalId}` path segment is.
pub const BY: Field = Field::one_of("by", &["externalId", "id"]).about("What the path's identifier is.");

/// One declared route, as the checks look it up.
#[derive(Debug)]
pub struct Declared {
    /// The face's name.
    pub face: &'static str,
    /// Verb.
    pub method: &'static str,
    /// Path.
    pub path: String,
    /// What it reads.
    pub fields: Vec<Field>,
}

/// Every route's declaration, in [`crate::kit::all_routes`] order (the gate names a route by its place
/// in this list).
pub fn declared() -> &'static [Declared] {
    static ALL: OnceLock<Vec<Declared>> = OnceLock::new();
    ALL.get_or_init(|| {
        crate::kit::all_routes()
            .into_iter()
            .map(|(f, r)| Declared { face: f.name, method: r.method, path: r.path, fields: r.fields })
            .collect()
    })
}

/// What handlers read, kept when the server checks (`HttpConfig::check_fields`): the names their
/// routes do not declare (the test harness fails a test that leaves any here), and every name read
/// and every route admitted, which the harness writes out so that a later step can find declarations
/// no handler reads any more ([`unread`]).
#[derive(Debug, Default)]
pub struct Undeclared {
    undeclared: Mutex<BTreeSet<String>>,
    read: Mutex<BTreeSet<(usize, String)>>,
    reached: Mutex<BTreeSet<usize>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Undeclared {
    /// Notes that the handler of `route` read `name` (`filter[key]` for a filter key).
    pub fn note(&self, route: usize, name: &str) {
        let Some(d) = declared().get(route) else { return };
        if !declares(&d.fields, name) {
            locked(&self.undeclared).insert(format!("{} {} reads `{name}`", d.method, d.path));
        }
        locked(&self.read).insert((route, name.to_string()));
    }

    /// Notes that the gate let a request of `route` through to its handler.
    pub fn reached(&self, route: usize) {
        locked(&self.reached).insert(route);
    }

    /// What was noted so far, emptied.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *locked(&self.undeclared)).into_iter().collect()
    }

    /// The routes reached and the names read so far, as lines of [`Reads`], emptied.
    pub fn take_reads(&self) -> Vec<String> {
        let reached = std::mem::take(&mut *locked(&self.reached));
        let read = std::mem::take(&mut *locked(&self.read));
        let route = |i: usize| declared().get(i).map(|d| format!("{} {}", d.method, d.path));
        let mut out: Vec<String> =
            reached.into_iter().filter_map(|i| Some(format!("reached\t{}", route(i)?))).collect();
        out.extend(read.into_iter().filter_map(|(i, name)| Some(format!("read\t{}\t{name}", route(i)?))));
        out
    }
}

/// Routes reached and names read, merged from the lines [`Undeclared::take_reads`] wrote (of many
/// servers, in many processes).
#[derive(Debug, Default)]
pub struct Reads {
    /// `METHOD /path` of each route whose handler ran.
    pub reached: BTreeSet<String>,
    /// (`METHOD /path`, name) of each name read.
    pub read: BTreeSet<(String, String)>,
}

impl Reads {
    /// Adds the lines of one file.
    pub fn add(&mut self, text: &str) {
        for line in text.lines() {
            match line.split('\t').collect::<Vec<_>>().as_slice() {
                ["reached", route] => {
                    self.reached.insert((*route).to_string());
                }
                ["read", route, name] => {
                    self.read.insert(((*route).to_string(), (*name).to_string()));
                }
                _ => {}
            }
        }
    }
}

/// The names a declaration stands for, as readers note them: a filter's keys as `filter[key]`,
/// anything else by its name.
fn declared_names(field: &Field) -> Vec<String> {
    match field.kind {
        Kind::Filter(keys) => keys.iter().map(|(k, _)| format!("filter[{k}]")).collect(),
        _ => vec![field.name.to_string()],
    }
}

/// Whether the readers note reads of `field` of route `d`. The billing face's lists read the list
/// language themselves: the declaration there is the handler's own list, so it is not judged by
/// reads. Its bodies are: members outside the declaration are refused (`billing::Billing::body_of`),
/// and the handlers read the others through `billing::JsonBody`, which notes each.
fn noted(d: &Declared, field: &Field) -> bool {
    !(d.face == "billing" && matches!(field.kind, Kind::Listing(_)))
}

/// The declarations no handler read, as `METHOD /path declares `name``: of each route `reads` shows
/// reached (a route the runs never reached says nothing either way), each declared name the readers
/// note and none read, unless `allowed` lists it as (`METHOD /path`, name).
pub fn unread(reads: &Reads, allowed: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for d in declared() {
        let route = format!("{} {}", d.method, d.path);
        if !reads.reached.contains(&route) {
            continue;
        }
        for name in d.fields.iter().filter(|f| noted(d, f)).flat_map(declared_names) {
            let read = reads.read.contains(&(route.clone(), name.clone()));
            if !read && !allowed.iter().any(|(r, n)| *r == route && *n == name) {
                out.push(format!("{route} declares `{name}`"));
            }
        }
    }
    out
}

/// Whether `fields` declare `name`, a filter key written `filter[key]`.
pub fn declares(fields: &[Field], name: &str) -> bool {
    if let Some(key) = name.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) {
        return fields.iter().any(|f| match f.kind {
            Kind::Filter(keys) => keys.iter().any(|(k, _)| *k == key),
            _ => false,
        });
    }
    fields.iter().any(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keys_and_plain_names_are_told_apart() {
        let fields = [Field::filter(&[("ids", Kind::Integers)]), Field::text("site")];
        assert!(declares(&fields, "site"));
        assert!(declares(&fields, "filter[ids]"));
        assert!(!declares(&fields, "filter[numbers]"));
        assert!(!declares(&fields, "by"));
        assert_eq!(Field::text("x").place_on("GET"), Place::Query);
        assert_eq!(Field::text("x").place_on("POST"), Place::Body);
        assert_eq!(Field::text("x").in_query().place_on("POST"), Place::Query);
    }

    #[test]
    fn a_read_the_route_does_not_declare_is_noted() {
        let routes = declared();
        let at = routes.iter().position(|d| d.path == "/api/v5/orders" && d.method == "GET").expect("orders list");
        let log = Undeclared::default();
        log.note(at, "limit");
        log.note(at, "filter[numbers]");
        assert!(log.take().is_empty(), "declared names are not noted");
        log.note(at, "undeclaredThing");
        log.note(at, "filter[nope]");
        let found = log.take();
        assert_eq!(found, ["GET /api/v5/orders reads `filter[nope]`", "GET /api/v5/orders reads `undeclaredThing`"]);
        assert!(log.take().is_empty());
    }

    #[test]
    fn a_declaration_no_handler_reads_is_found_on_routes_reached() {
        let routes = declared();
        let at = |method: &str, path: &str| {
            routes.iter().position(|d| d.path == path && d.method == method).expect("a route")
        };
        let statuses = at("GET", "/api/v5/orders/statuses");
        let log = Undeclared::default();
        log.reached(statuses);
        log.note(statuses, "ids");
        log.note(statuses, "ids");
        log.note(at("GET", "/api/v5/orders"), "limit");
        let lines = log.take_reads();
        assert!(log.take_reads().is_empty(), "taken once");
        let mut reads = Reads::default();
        reads.add(&lines.join("\n"));
        assert!(reads.read.contains(&("GET /api/v5/orders".to_string(), "limit".to_string())));
        // The orders list was not reached: nothing is said of it. The statuses' `externalIds` is unread.
        assert_eq!(unread(&reads, &[]), ["GET /api/v5/orders/statuses declares `externalIds`"]);
        assert!(unread(&reads, &[("GET /api/v5/orders/statuses", "externalIds")]).is_empty());
        // A filter's keys are each a declaration.
        reads.add("reached\tGET /api/v5/orders\nread\tGET /api/v5/orders\tfilter");
        let found = unread(&reads, &[("GET /api/v5/orders/statuses", "externalIds")]);
        assert!(found.contains(&"GET /api/v5/orders declares `filter[numbers]`".to_string()), "{found:?}");
        assert!(found.contains(&"GET /api/v5/orders declares `page`".to_string()), "{found:?}");
        assert!(!found.iter().any(|f| f.contains("`limit`")), "{found:?}");
        // The billing face's body members are judged like any other declaration; its list language
        // is the handler's own list, not judged by reads.
        reads.add("reached\tPOST /v3/billing/api/order/order\nreached\tGET /v3/filter/api/order/order");
        reads.add("read\tPOST /v3/billing/api/order/order\tmerchantId");
        let found = unread(&reads, &[("GET /api/v5/orders/statuses", "externalIds")]);
        assert!(found.contains(&"POST /v3/billing/api/order/order declares `shopId`".to_string()), "{found:?}");
        assert!(!found.iter().any(|f| f.contains("`merchantId`")), "{found:?}");
        assert!(!found.iter().any(|f| f.contains("/v3/filter/")), "{found:?}");
    }
}
