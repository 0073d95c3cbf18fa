//! Gauges read from the database when metrics are scraped: the job queue by kind (depth and
//! age of the oldest due job) and the connection pool's use.

use crate::db::{self, Pool};
use crate::error::Result;

/// Sets the sampled gauges to what they are now.
pub async fn sample(pool: &Pool) -> Result<()> {
    metrics::gauge!("tern_db_pool_connections", "state" => "open").set(f64::from(pool.size()));
    metrics::gauge!("tern_db_pool_connections", "state" => "idle").set(pool.num_idle() as f64);
    for q in db::jobs::queue_stats(pool).await? {
        metrics::gauge!("tern_jobs", "kind" => q.kind.clone(), "status" => q.status.clone()).set(q.count as f64);
        if q.status == "queued" {
            metrics::gauge!("tern_job_oldest_due_age_seconds", "kind" => q.kind).set(q.oldest_due_age_seconds);
        }
    }
    Ok(())
}
