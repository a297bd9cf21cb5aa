//! The demo's auto-parts catalogue: families of interchangeable parts across brands (each family's
//! members cross-referenced), stocked at three warehouses that show availability in each of the ways
//! suppliers do. Generated from a fixed seed, so every demo database holds the same parts.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use torg_domain::catalogue::{Availability, Display};
use torg_store::{CatalogueRow, Cross, Store, WarehouseTerms};

/// Part numbers with their brands: (article, brand).
type Parts = &'static [(&'static str, &'static str)];

/// A family of interchangeable parts: name, members, typical price.
struct Family {
    name: String,
    parts: Vec<(String, String)>,
    base: u32,
}

/// Hand-picked families: the parts face's documented examples and the CRM demo orders name.
const KNOWN: &[(&str, Parts, u32)] = &[
    (
        "Фильтр масляный",
        &[("OC47", "KNECHT/MAHLE"), ("W712/75", "MANN-FILTER"), ("0986452041", "BOSCH"), ("OP526", "FILTRON")],
        520,
    ),
    ("Фильтр воздушный", &[("LX1211", "KNECHT/MAHLE"), ("C25114", "MANN-FILTER"), ("AP139/2", "FILTRON")], 890),
    (
        "Колодки тормозные передние",
        &[("GDB1330", "TRW"), ("0986494104", "BOSCH"), ("13.0460-2857.2", "ATE"), ("P85020", "BREMBO")],
        2350,
    ),
    ("Свеча зажигания", &[("BKR6E", "NGK"), ("FR7DC+", "BOSCH"), ("K20PR-U", "DENSO")], 310),
    ("Комплект ремня ГРМ", &[("CT1028K1", "CONTITECH"), ("VKMA01250", "SKF"), ("K015603XS", "GATES")], 6420),
];

/// Other names price lists use for the demo's brands (as in docs/samples/brands.csv).
const ALIASES: &[(&str, &str)] = &[
    ("MAHLE", "KNECHT/MAHLE"),
    ("KNECHT", "KNECHT/MAHLE"),
    ("MANN", "MANN-FILTER"),
    ("VW", "VAG"),
    ("VOLKSWAGEN", "VAG"),
    ("GENERAL MOTORS", "GM"),
];

/// What the generated families are made of: part kind, typical price, and per brand an article pattern.
const KINDS: &[(&str, u32)] = &[
    ("Фильтр масляный", 480),
    ("Фильтр воздушный", 760),
    ("Фильтр салонный", 690),
    ("Фильтр топливный", 1150),
    ("Колодки тормозные передние", 2400),
    ("Колодки тормозные задние", 1900),
    ("Диск тормозной", 3300),
    ("Амортизатор передний", 5200),
    ("Подшипник ступицы", 2800),
    ("Шаровая опора", 1450),
    ("Наконечник рулевой тяги", 1100),
    ("Комплект сцепления", 9800),
    ("Помпа водяная", 3600),
    ("Термостат", 1700),
    ("Датчик кислородный", 4900),
];

const BRANDS: &[(&str, &str)] = &[
    ("KNECHT/MAHLE", "OC"),
    ("MANN-FILTER", "W"),
    ("BOSCH", "0986"),
    ("FILTRON", "OP"),
    ("TRW", "GDB"),
    ("ATE", "13.0460-"),
    ("BREMBO", "P"),
    ("SACHS", "3000"),
    ("KYB", "33"),
    ("SKF", "VKBA"),
    ("LEMFORDER", "3"),
    ("FEBI", "F"),
    ("VALEO", "8"),
    ("GATES", "K0"),
    ("DENSO", "DOX-"),
];

/// The three demo warehouses: code, name, terms.
fn warehouses() -> [(&'static str, WarehouseTerms); 3] {
    [
        ("nsk", WarehouseTerms { period_min: 0, period_max: 1, probability: Some(99), display: Display::Exact }),
        ("msk", WarehouseTerms { period_min: 3, period_max: 5, probability: Some(95), display: Display::Buckets }),
        ("ekb", WarehouseTerms { period_min: 7, period_max: 10, probability: None, display: Display::Presence }),
    ]
}

fn price(base: u32, rng: &mut StdRng) -> Decimal {
    let factor = rng.random_range(80..=130);
    Decimal::from(base) * Decimal::from(factor) / Decimal::from(100) + Decimal::new(rng.random_range(0..100), 2)
}

fn quantity(rng: &mut StdRng) -> Availability {
    match rng.random_range(0..10) {
        0 => Availability::Below(10),
        1 => Availability::Above(50),
        2 => Availability::Present,
        _ => Availability::Exact(rng.random_range(1..300)),
    }
}

/// Loads the catalogue; returns (rows loaded, cross pairs added).
pub async fn load(store: &Store, families: usize) -> anyhow::Result<(usize, u64)> {
    let mut rng = StdRng::seed_from_u64(42);
    // Before the parts, so that everything loaded after them is keyed by the canonical brand.
    let aliases: Vec<(String, String)> =
        ALIASES.iter().map(|(alias, brand)| ((*alias).to_string(), (*brand).to_string())).collect();
    store.set_brand_aliases(&aliases).await?;
    let mut groups: Vec<Family> = KNOWN
        .iter()
        .map(|(name, parts, base)| Family {
            name: name.to_string(),
            parts: parts.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            base: *base,
        })
        .collect();
    for f in 0..families {
        let (kind, base) = KINDS[f % KINDS.len()];
        let members = rng.random_range(2..=5);
        let mut parts = Vec::with_capacity(members);
        for m in 0..members {
            let (brand, prefix) = BRANDS[(f * 7 + m * 3) % BRANDS.len()];
            if parts.iter().any(|(_, b): &(String, String)| b == brand) {
                continue;
            }
            parts.push((format!("{prefix}{}", 1000 + f * 13 + m), brand.to_string()));
        }
        groups.push(Family { name: kind.to_string(), parts, base });
    }
    let mut rows = Vec::new();
    let mut crosses = Vec::new();
    for Family { name, parts, base } in &groups {
        for (article, brand) in parts {
            for (code, _) in warehouses() {
                // Not every part is at every warehouse.
                if rng.random_range(0..4) == 0 && code != "nsk" {
                    continue;
                }
                rows.push(CatalogueRow {
                    article: article.clone(),
                    brand: brand.clone(),
                    name: name.clone(),
                    description: Some(format!("{name} {brand}")),
                    warehouse: code.into(),
                    quantity: quantity(&mut rng),
                    price: price(*base, &mut rng).round_dp(2),
                    min_qty: if name.starts_with("Свеча") { 4 } else { 1 },
                    period_min: None,
                    period_max: None,
                });
            }
        }
        let (first, rest) = parts.split_first().map_or((None, &[][..]), |(f, r)| (Some(f), r));
        if let Some((a, b)) = first {
            for (c, d) in rest {
                crosses.push(Cross {
                    article: a.clone(),
                    brand: b.clone(),
                    cross_article: c.clone(),
                    cross_brand: d.clone(),
                });
            }
        }
    }
    for chunk in rows.chunks(1000) {
        store.load_catalogue(chunk).await?;
    }
    for (code, terms) in warehouses() {
        store.set_warehouse_terms(code, &terms).await?;
    }
    let added = store.add_crosses(&crosses).await?;
    Ok((rows.len(), added))
}
