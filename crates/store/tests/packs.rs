//! The store contract of packs, on both engines: a pack takes its quantity from a warehouse's stock
//! (consuming the order's reservation there rather than counting it twice) and hands it back when
//! lowered, moved or deleted; order edits that change reservations or remove a packed line keep the
//! stock right; a line's packs never hold more than the line, also when packed concurrently.
//!
//! The harness is contract.rs's: `contract!(name)` runs `async fn name(db: &TestDb)` as `name::sqlite`
//! and `name::postgres`, each on a fresh database (PostgreSQL at `TORG_TEST_POSTGRES_URL`, required).

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use torg_domain::catalogue::Offer;
use torg_domain::history::Actor;
use torg_domain::order::{OfferRef, Order};
use torg_domain::pack::{Pack, PackPatch};
use torg_domain::page::PageRequest;
use torg_domain::product::{StockUpload, StoreStock};
use torg_domain::reference::{Site, Warehouse};
use torg_domain::stock::Refusal;
use torg_domain::time::Zone;
use torg_domain::{DomainError, FieldErrors};
use torg_store::{Backend, HistoryFilter, OrderLookup, PackFilter, Store, StoreError};

// ---------------------------------------------------------------------------------------------------------
// Harness (contract.rs's)

/// A fresh database for one test, on one engine.
pub struct TestDb {
    backend: Backend,
    url: String,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) to drop at the end (PostgreSQL only).
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn postgres_admin_url() -> String {
    std::env::var("TORG_TEST_POSTGRES_URL").expect(
        "TORG_TEST_POSTGRES_URL must point at a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres): \
         the PostgreSQL half of the pack contract cannot run without it",
    )
}

impl TestDb {
    async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("torg.db").display());
                TestDb { backend, url, _dir: Some(dir), pg: None }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or_default();
                let name =
                    format!("torg_packs_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
                let url = torg_store::testing::create_postgres_database(&admin, &name)
                    .await
                    .expect("create a test database on TORG_TEST_POSTGRES_URL");
                TestDb { backend, url, _dir: None, pg: Some((admin, name)) }
            }
        }
    }

    async fn open(&self) -> Store {
        let store = Store::open(&self.url).await.unwrap_or_else(|e| panic!("open {:?} store: {e}", self.backend));
        assert_eq!(store.backend(), self.backend);
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(torg_store::testing::drop_postgres_database(&admin, &name))
                    .map_err(|e| format!("drop test database {name}: {e}"))
            })
            .join();
            if let Ok(Err(e)) = dropped
                && !std::thread::panicking()
            {
                panic!("{e}");
            }
        }
    }
}

macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::TestDb::new(torg_store::Backend::Sqlite).await;
                super::$name(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = super::TestDb::new(torg_store::Backend::Postgres).await;
                super::$name(&db).await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const ACTOR: Actor = Actor::Api(1);
const SITE: &str = "default";

fn sites() -> Vec<String> {
    vec![SITE.to_string()]
}

fn zone() -> Zone {
    Zone::named("Europe/Moscow").expect("time zone")
}

fn doc(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

async fn add_warehouse(store: &Store, code: &str) {
    let w =
        Warehouse { id: 0, code: code.into(), name: code.into(), active: true, distributor: None, attrs: Map::new() };
    store.upsert_warehouse(&w).await.expect("warehouse");
}

/// An offer with `stock` units at each of `stores`.
async fn offer(store: &Store, external_id: &str, stock: &[(&str, i64)]) -> i64 {
    let id = store
        .create_offer(&Offer {
            external_id: Some(external_id.into()),
            name: format!("Offer {external_id}"),
            price: dec(100),
            active: true,
            ..Offer::default()
        })
        .await
        .expect("offer");
    let stores = stock
        .iter()
        .map(|(code, n)| StoreStock { code: (*code).into(), available: *n, purchase_price: None })
        .collect();
    store.upload_inventories(&[StockUpload { offer: OfferRef::Id(id), stores }]).await.expect("stock");
    id
}

async fn order(store: &Store, v: Value) -> Order {
    store.create_order(SITE, &doc(v.clone()), ACTOR, &zone()).await.unwrap_or_else(|e| panic!("order {v}: {e}"))
}

/// (available, reserved) of `offer` at `code`.
async fn stock(store: &Store, offer: i64, code: &str) -> (i64, i64) {
    let (rows, _) = store.list_inventories(&[offer], &[], &[], 20, 0).await.expect("inventories");
    rows[0].stores.iter().find(|s| s.0 == code).map(|s| (s.1, s.2)).unwrap_or_else(|| panic!("no stock at {code}"))
}

fn new_pack(item: i64, store: &str, quantity: Decimal) -> PackPatch {
    PackPatch { item_id: Some(item), store: Some(store.into()), quantity: Some(quantity), ..PackPatch::default() }
}

fn invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> FieldErrors {
    match r {
        Err(StoreError::Domain(DomainError::Invalid(f))) => f,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// The stock's refusal of a write.
fn refused<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Refusal {
    match r {
        Err(StoreError::Domain(DomainError::Refused(r))) => r,
        other => panic!("expected a refusal by stock, got {other:?}"),
    }
}

async fn packs_of_item(store: &Store, item: i64) -> Vec<Pack> {
    let f = PackFilter { sites: sites(), item_id: Some(item), ..PackFilter::default() };
    store.list_packs(&f, PageRequest { limit: 100, page: 1 }).await.expect("packs").0
}

// ---------------------------------------------------------------------------------------------------------
// Tests

contract!(packs_take_stock_and_hand_it_back);
/// Without a reservation a pack takes from free stock; with one it consumes the reservation, so free
/// stock does not fall twice; order edits, a cancel and a removed line keep the rule.
async fn packs_take_stock_and_hand_it_back(db: &TestDb) {
    let store = db.open().await;
    add_warehouse(&store, "north").await;
    let offer = offer(&store, "o-1", &[("main", 10), ("north", 4)]).await;

    // No reservation (no store named on the order): the pack takes free stock.
    let loose = order(&store, json!({"items": [{"offer": {"id": offer}, "quantity": 5, "initialPrice": 100}]})).await;
    let item = loose.items[0].id;
    let p = store.create_pack(&new_pack(item, "main", dec(2)), ACTOR, &sites()).await.expect("pack");
    assert_eq!(stock(&store, offer, "main").await, (8, 0));
    let lower = PackPatch { quantity: Some(dec(1)), ..PackPatch::default() };
    store.edit_pack(p.id, &lower, ACTOR, &sites()).await.expect("lower");
    assert_eq!(stock(&store, offer, "main").await, (9, 0), "lowering hands back");
    let moved = PackPatch { store: Some("north".into()), quantity: Some(dec(3)), ..PackPatch::default() };
    store.edit_pack(p.id, &moved, ACTOR, &sites()).await.expect("move");
    assert_eq!(stock(&store, offer, "main").await, (10, 0), "moving hands back to the old store");
    assert_eq!(stock(&store, offer, "north").await, (1, 0), "and takes from the new one");
    store.delete_pack(p.id, ACTOR, &sites()).await.expect("delete");
    assert_eq!(stock(&store, offer, "north").await, (4, 0));

    // Reserved at main: packing consumes the reservation, free stock (10 - 5) stays 5.
    let held = order(
        &store,
        json!({"externalId": "held", "shipmentStore": "main",
               "items": [{"offer": {"id": offer}, "quantity": 5, "initialPrice": 100}]}),
    )
    .await;
    let item = held.items[0].id;
    assert_eq!(stock(&store, offer, "main").await, (10, 5));
    let p = store.create_pack(&new_pack(item, "main", dec(2)), ACTOR, &sites()).await.expect("pack");
    assert_eq!(stock(&store, offer, "main").await, (8, 3), "2 left the store, 3 still held");
    // An edit of the order rewrites its reservation: the packed part stays consumed.
    let lookup = OrderLookup::ExternalId { site: SITE.into(), external_id: "held".into() };
    store.edit_order(&lookup, &doc(json!({"managerComment": "packing"})), ACTOR, &sites(), &zone()).await.unwrap();
    assert_eq!(stock(&store, offer, "main").await, (8, 3));
    // Packing beyond the reservation would take free stock: only 5 of the line, 8 - 3 = 5 free.
    let more = PackPatch { quantity: Some(dec(5)), ..PackPatch::default() };
    store.edit_pack(p.id, &more, ACTOR, &sites()).await.expect("pack the whole line");
    assert_eq!(stock(&store, offer, "main").await, (5, 0));
    // Cancelled: the reservation is released, the packed units stay gone.
    store.edit_order(&lookup, &doc(json!({"status": "cancel-other"})), ACTOR, &sites(), &zone()).await.unwrap();
    assert_eq!(stock(&store, offer, "main").await, (5, 0));
    store.edit_order(&lookup, &doc(json!({"status": "new"})), ACTOR, &sites(), &zone()).await.unwrap();
    assert_eq!(stock(&store, offer, "main").await, (5, 0), "re-reserved, but all of it is packed");
    // Lowering the pack: the reservation holds what is no longer packed.
    let less = PackPatch { quantity: Some(dec(3)), ..PackPatch::default() };
    store.edit_pack(p.id, &less, ACTOR, &sites()).await.expect("lower");
    assert_eq!(stock(&store, offer, "main").await, (7, 2));
    // Removing the line removes its pack: everything is back, the reservation gone.
    store
        .edit_order(
            &lookup,
            &doc(json!({"items": [{"productName": "Другое", "quantity": 1}]})),
            ACTOR,
            &sites(),
            &zone(),
        )
        .await
        .unwrap();
    assert!(packs_of_item(&store, item).await.is_empty());
    assert_eq!(stock(&store, offer, "main").await, (10, 0));
    assert_eq!(store.oversold_stock().await.unwrap(), 0);

    // History: created, changed fields, deleted, numbered in order.
    let (records, total) = store
        .pack_history(
            &HistoryFilter { sites: sites(), ..HistoryFilter::default() },
            PageRequest { limit: 100, page: 1 },
        )
        .await
        .unwrap();
    assert_eq!(total, records.len() as u64);
    let fields: Vec<(bool, bool, Option<&str>)> =
        records.iter().take(5).map(|r| (r.created, r.deleted, r.field.as_deref())).collect();
    assert_eq!(
        fields,
        vec![
            (true, false, Some("store")),
            (false, false, Some("quantity")),
            (false, false, Some("store")),
            (false, false, Some("quantity")),
            (false, true, Some("store"))
        ]
    );
    assert!(records.windows(2).all(|w| w[0].id < w[1].id));
    let since = store
        .pack_history(
            &HistoryFilter { sites: sites(), since_id: Some(records[2].id), ..HistoryFilter::default() },
            PageRequest { limit: 100, page: 1 },
        )
        .await
        .unwrap();
    assert_eq!(since.1, total - 3);
    store.close().await;
}

contract!(packs_never_exceed_the_line_or_the_stock);
/// Refused writes name the field and change nothing.
async fn packs_never_exceed_the_line_or_the_stock(db: &TestDb) {
    let store = db.open().await;
    store
        .upsert_site(&Site {
            id: 0,
            code: "other".into(),
            name: "Other".into(),
            url: None,
            ordering: 2,
            attrs: Map::new(),
        })
        .await
        .unwrap();
    let offer = offer(&store, "o-2", &[("main", 3)]).await;
    let o = order(&store, json!({"items": [{"offer": {"id": offer}, "quantity": 3, "initialPrice": 100}]})).await;
    let item = o.items[0].id;
    let first = store.create_pack(&new_pack(item, "main", dec(2)), ACTOR, &sites()).await.expect("2 of 3");
    let e = invalid(store.create_pack(&new_pack(item, "main", dec(2)), ACTOR, &sites()).await);
    assert!(e["quantity"].contains("1 left"), "{e:?}");
    let e = invalid(
        store.edit_pack(first.id, &PackPatch { quantity: Some(dec(4)), ..PackPatch::default() }, ACTOR, &sites()).await,
    );
    assert!(e.contains_key("quantity"), "{e:?}");
    let half = Decimal::new(5, 1);
    store.create_pack(&new_pack(item, "main", half), ACTOR, &sites()).await.expect("fractions count against the line");
    let e = invalid(store.create_pack(&new_pack(item, "main", Decimal::new(6, 1)), ACTOR, &sites()).await);
    assert!(e.contains_key("quantity"));
    assert_eq!(packs_of_item(&store, item).await.len(), 2);
    assert_eq!(stock(&store, offer, "main").await, (1, 0), "2.5 packed: 2 whole units taken");

    // More than the store has free.
    let big = order(&store, json!({"items": [{"offer": {"id": offer}, "quantity": 5, "initialPrice": 100}]})).await;
    let e = refused(store.create_pack(&new_pack(big.items[0].id, "main", dec(2)), ACTOR, &sites()).await);
    assert_eq!(e, Refusal::Short { left: 1, wanted: 2, store: Some("main".into()) });
    assert_eq!(stock(&store, offer, "main").await, (1, 0));
    // A store that does not exist, or does not stock the offer; a line elsewhere; a missing line.
    let e = invalid(store.create_pack(&new_pack(item, "nowhere", dec(1)), ACTOR, &sites()).await);
    assert!(e.contains_key("store"));
    store
        .upsert_warehouse(&Warehouse {
            id: 0,
            code: "empty".into(),
            name: "Empty".into(),
            active: true,
            distributor: None,
            attrs: Map::new(),
        })
        .await
        .unwrap();
    let e = refused(store.create_pack(&new_pack(big.items[0].id, "empty", dec(1)), ACTOR, &sites()).await);
    assert_eq!(e, Refusal::Short { left: 0, wanted: 1, store: Some("empty".into()) });
    let elsewhere = store
        .create_order("other", &doc(json!({"items": [{"offer": {"id": offer}, "quantity": 1}]})), ACTOR, &zone())
        .await
        .unwrap();
    let e = invalid(store.create_pack(&new_pack(elsewhere.items[0].id, "main", dec(1)), ACTOR, &sites()).await);
    assert!(e.contains_key("itemId"));
    let e = invalid(store.create_pack(&PackPatch::default(), ACTOR, &sites()).await);
    assert!(e.contains_key("itemId") && e.contains_key("quantity"));
    // Not found: another site's pack, or none.
    let theirs = store
        .create_pack(&new_pack(elsewhere.items[0].id, "main", dec(1)), ACTOR, &["other".to_string()])
        .await
        .expect("on its own site");
    let gone = store.delete_pack(theirs.id, ACTOR, &sites()).await;
    assert!(matches!(gone, Err(StoreError::Domain(DomainError::NotFound(_)))), "{gone:?}");
    let gone = store.edit_pack(999_999, &PackPatch::default(), ACTOR, &sites()).await;
    assert!(matches!(gone, Err(StoreError::Domain(DomainError::NotFound(_)))), "{gone:?}");
    // Fractions: stock counts whole packed units, when packing and when the reservation is rewritten.
    let weighed = self::offer(&store, "o-5", &[("main", 5)]).await;
    let o = order(
        &store,
        json!({"externalId": "weighed", "shipmentStore": "main",
               "items": [{"offer": {"id": weighed}, "quantity": 2, "initialPrice": 100}]}),
    )
    .await;
    store.create_pack(&new_pack(o.items[0].id, "main", Decimal::new(15, 1)), ACTOR, &sites()).await.expect("1.5");
    assert_eq!(stock(&store, weighed, "main").await, (4, 1));
    let lookup = OrderLookup::ExternalId { site: SITE.into(), external_id: "weighed".into() };
    store.edit_order(&lookup, &doc(json!({"managerComment": "half"})), ACTOR, &sites(), &zone()).await.unwrap();
    assert_eq!(stock(&store, weighed, "main").await, (4, 1));
    assert_eq!(store.oversold_stock().await.unwrap(), 0);
    store.close().await;
}

contract!(concurrent_packs_cannot_over_pack);
/// Twenty writers packing one unit each of a five-unit line: five succeed, the rest are refused, and
/// the stock fell by five. Twenty orders racing for five units of stock: five packs, never oversold.
async fn concurrent_packs_cannot_over_pack(db: &TestDb) {
    let store = db.open().await;
    let offer = offer(&store, "o-3", &[("main", 100)]).await;
    let o = order(&store, json!({"items": [{"offer": {"id": offer}, "quantity": 5, "initialPrice": 100}]})).await;
    let item = o.items[0].id;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.create_pack(&new_pack(item, "main", dec(1)), ACTOR, &sites()).await },
        ));
    }
    let mut done = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => done += 1,
            Err(StoreError::Domain(DomainError::Invalid(f))) => assert!(f.contains_key("quantity"), "{f:?}"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(done, 5);
    assert_eq!(packs_of_item(&store, item).await.len(), 5);
    assert_eq!(stock(&store, offer, "main").await, (95, 0));

    let scarce = self::offer(&store, "o-4", &[("main", 5)]).await;
    let mut items = Vec::new();
    for _ in 0..20 {
        let o = order(&store, json!({"items": [{"offer": {"id": scarce}, "quantity": 1, "initialPrice": 100}]})).await;
        items.push(o.items[0].id);
    }
    let mut tasks = Vec::new();
    for item in items {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.create_pack(&new_pack(item, "main", dec(1)), ACTOR, &sites()).await },
        ));
    }
    let mut done = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => done += 1,
            Err(StoreError::Domain(DomainError::Refused(r))) => {
                assert!(matches!(r, Refusal::Short { left: 0, wanted: 1, .. }), "{r:?}")
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(done, 5);
    assert_eq!(stock(&store, scarce, "main").await, (0, 0));
    assert_eq!(store.oversold_stock().await.unwrap(), 0);
    store.close().await;
}
