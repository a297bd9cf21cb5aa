//! What an operator asks of the database: whether it answers, whether its schema is current, and how
//! its connections are used.

use crate::{Backend, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, Store, StoreResult, db};

impl Store {
    /// The migrations this build carries that the database has not applied, oldest first (empty when
    /// the schema is current). Fails when the database does not answer.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        let applied: Vec<i64> = db::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(self.reader())
            .await?;
        let migrator = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| m.version)
            .collect())
    }

    /// How the database's connections are used right now.
    pub fn pool_stats(&self) -> db::PoolStats {
        self.reader().pool_stats()
    }
}

#[cfg(test)]
mod tests {
    use crate::{SQLITE_MIGRATIONS, Store, db};

    #[tokio::test]
    async fn a_migration_missing_from_the_database_is_pending() {
        let store = Store::open("sqlite::memory:").await.expect("store");
        assert_eq!(store.pending_migrations().await.expect("pending"), Vec::<i64>::new());
        let last = SQLITE_MIGRATIONS.iter().map(|m| m.version).max().expect("migrations");
        let mut tx = store.begin().await.expect("tx");
        db::query("DELETE FROM _sqlx_migrations WHERE version = $1")
            .bind(last)
            .execute(&mut *tx)
            .await
            .expect("delete");
        tx.commit().await.expect("commit");
        assert_eq!(store.pending_migrations().await.expect("pending"), vec![last]);
        assert_eq!(store.pool_stats().engine, "sqlite");
    }
}
