//! Companies torg knows by tax number (INN), for the billing face's counterparty lookup. One function
//! answers from every source, so a new source (corporate customers' companies) joins in one place.

use crate::{Store, StoreResult};
use torg_domain::invoice::Counterparty;
use torg_domain::reference::{ReferenceEntry, ReferenceKind};

fn from_legal_entity(e: &ReferenceEntry) -> Counterparty {
    let text = |k: &str| e.attr_str(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let legal_name = text("legalName");
    Counterparty {
        source: format!("legal-entity:{}", e.code),
        vat_number: text("INN").unwrap_or_default(),
        kpp: text("KPP"),
        name: legal_name.clone().unwrap_or_else(|| e.name.clone()),
        name_full: legal_name,
        registration_number: text("OGRN").or_else(|| text("OGRNIP")),
        registration_address: text("legalAddress"),
    }
}

impl Store {
    /// Every company torg knows with this INN: today the account's legal entities (the CRM face's
    /// reference book). Empty when none.
    pub async fn counterparty_by_vat(&self, vat_number: &str) -> StoreResult<Vec<Counterparty>> {
        let wanted = vat_number.trim();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let entities = self.list_refs(ReferenceKind::LegalEntity).await?;
        Ok(entities.iter().map(from_legal_entity).filter(|c| c.vat_number == wanted).collect())
    }
}
