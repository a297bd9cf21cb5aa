-- Issue 9: every foreign key's referencing column leads an index. Without one, deleting or re-keying
-- the row it refers to makes the engine look for referrers by reading the whole referencing table:
-- merging customers read every order once per merged customer (`orders.contact_id`), and merging
-- corporate customers every order again for their companies (`orders.company_id`). The contract test
-- `every_foreign_key_leads_an_index` keeps it so for migrations to come.
CREATE INDEX orders_contact ON orders (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX orders_company ON orders (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX api_keys_corporate ON api_keys (corporate_id) WHERE corporate_id IS NOT NULL;
CREATE INDEX bonus_operations_loyalty ON bonus_operations (loyalty_id);
CREATE INDEX corporate_companies_address ON corporate_companies (address_id) WHERE address_id IS NOT NULL;
CREATE INDEX costs_user ON costs (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX favorites_offer ON favorites (offer_id);
CREATE INDEX user_group_members_group ON user_group_members (group_id);
