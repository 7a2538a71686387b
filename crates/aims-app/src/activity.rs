//! Reading and verifying the activity log.

use aims_domain::chain::ChainBreak;
use aims_domain::policy::Action;
use aims_store::activity::{self, ActivityFilter};
use aims_store::model::{ActivityEvent, Member, Organization, Page};

use crate::access::require;
use crate::{App, AppResult};

impl App {
    pub async fn list_activity(
        &self,
        member: &Member,
        filter: &ActivityFilter,
        after_seq: i64,
        limit: Option<u32>,
    ) -> AppResult<Page<ActivityEvent>> {
        require(member, Action::Read)?;
        Ok(activity::list(&self.db, &member.org_id, filter, after_seq, limit).await?)
    }

    /// Verifies every organisation's chain (or one's), returning the first break of each.
    pub async fn verify_log(&self, only: Option<&str>) -> AppResult<Vec<(Organization, Result<(), ChainBreak>)>> {
        let orgs = match only {
            Some(slug) => vec![self.org_by_slug(slug).await?],
            None => aims_store::orgs::all(&self.db).await?,
        };
        let mut results = Vec::with_capacity(orgs.len());
        for org in orgs {
            let outcome = activity::verify(&self.db, &org.id).await?;
            results.push((org, outcome));
        }
        Ok(results)
    }

    /// The current head of an organisation's chain: `(seq, hash)`.
    pub async fn log_head(&self, slug: &str) -> AppResult<(i64, String)> {
        let org = self.org_by_slug(slug).await?;
        Ok(activity::head(&self.db, &org.id).await?)
    }
}
