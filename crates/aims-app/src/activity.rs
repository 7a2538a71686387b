//! Reading and verifying the activity log.

use aims_domain::ValidationErrors;
use aims_domain::chain::{ChainBreak, Head};
use aims_domain::policy::Action;
use aims_store::activity::{self, ActivityFilter, Order, Progress, Verified};
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

    /// A page of events in `order`: after the cursor's sequence number in chain order, before
    /// it newest first (0: from the head).
    pub async fn list_activity_ordered(
        &self,
        member: &Member,
        filter: &ActivityFilter,
        order: Order,
        cursor: i64,
        limit: Option<u32>,
    ) -> AppResult<Page<ActivityEvent>> {
        require(member, Action::Read)?;
        Ok(activity::list_ordered(&self.db, &member.org_id, filter, order, cursor, limit).await?)
    }

    /// The record types the organisation's log holds, for a filter that offers exactly those.
    pub async fn activity_record_types(&self, member: &Member) -> AppResult<Vec<String>> {
        require(member, Action::Read)?;
        Ok(activity::record_types(&self.db, &member.org_id).await?)
    }

    /// Names of people the log mentions who may no longer be members (a former owner, the
    /// actor of an old event), by user id or e-mail. Unknown keys are left out.
    pub async fn people_named_in_log(&self, member: &Member, keys: &[String]) -> AppResult<Vec<(String, String)>> {
        require(member, Action::Read)?;
        let mut names = Vec::new();
        for key in keys {
            let user = if key.contains('@') {
                aims_store::users::by_email(&self.db, key).await?
            } else {
                aims_store::users::by_id(&self.db, key).await?
            };
            if let Some(user) = user {
                names.push((key.clone(), user.display_name));
            }
        }
        Ok(names)
    }

    /// Verifies every organisation's chain (or one's), returning the first break of each.
    /// `checkpoint` (only with one organisation) starts the walk after a head recorded
    /// earlier; `progress` hears of each page walked.
    pub async fn verify_log(
        &self,
        only: Option<&str>,
        checkpoint: Option<&Head>,
        progress: &mut (dyn FnMut(&Organization, Progress) + Send),
    ) -> AppResult<Vec<(Organization, Result<Verified, ChainBreak>)>> {
        let orgs = match only {
            Some(slug) => vec![self.org_by_slug(slug).await?],
            None if checkpoint.is_some() => {
                return Err(
                    ValidationErrors::single("from", "required_with", "a checkpoint belongs to one organisation: give --org").into()
                );
            }
            None => aims_store::orgs::all(&self.db).await?,
        };
        let mut results = Vec::with_capacity(orgs.len());
        for org in orgs {
            let outcome = activity::verify(&self.db, &org.id, checkpoint, &mut |p| progress(&org, p)).await?;
            results.push((org, outcome));
        }
        Ok(results)
    }

    /// Reads a checkpoint (`SEQ:HASH`, as `aims log head --checkpoint` prints it) given as
    /// `field`.
    pub fn parse_checkpoint(field: &str, text: &str) -> AppResult<Head> {
        Head::parse(text).ok_or_else(|| {
            ValidationErrors::single(
                field,
                "invalid_format",
                "SEQ:HASH, a sequence number and a head hash as `log head --checkpoint` prints them",
            )
            .into()
        })
    }

    /// The current head of an organisation's chain: `(seq, hash)`.
    pub async fn log_head(&self, slug: &str) -> AppResult<(i64, String)> {
        let org = self.org_by_slug(slug).await?;
        Ok(activity::head(&self.db, &org.id).await?)
    }
}
