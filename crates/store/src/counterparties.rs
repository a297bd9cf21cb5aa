//! Companies torg knows by tax number (INN), for the billing face's counterparty lookup. One function
//! answers from every source: the legal entities book and corporate customers' companies.

use crate::{Store, StoreResult};
use serde_json::Value;
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

fn from_company(found: &crate::CompanyOfInn) -> Counterparty {
    let c = &found.company;
    let text = |k: &str| {
        c.contragent.get(k).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    };
    Counterparty {
        source: format!("corporate-company:{}", c.id),
        vat_number: text("INN").unwrap_or_default(),
        kpp: text("KPP"),
        name: c.name.clone(),
        name_full: text("legalName"),
        registration_number: text("OGRN").or_else(|| text("OGRNIP")),
        registration_address: text("legalAddress"),
    }
}

impl Store {
    /// Every company torg knows with this INN: the account's legal entities (the CRM face's reference
    /// book), then the corporate customers' company that INN names (see [`Store::company_by_inn`]).
    /// Empty when none.
    pub async fn counterparty_by_vat(&self, vat_number: &str) -> StoreResult<Vec<Counterparty>> {
        let wanted = vat_number.trim();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let entities = self.list_refs(ReferenceKind::LegalEntity).await?;
        let mut found: Vec<Counterparty> =
            entities.iter().map(from_legal_entity).filter(|c| c.vat_number == wanted).collect();
        if let Some(company) = self.company_by_inn(wanted).await? {
            found.push(from_company(&company));
        }
        Ok(found)
    }
}
