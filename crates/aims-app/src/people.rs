//! Competence (7.2): who lacks which competence their AI-related roles require.

use aims_domain::clock;
use aims_domain::kinds::people::{self, CompetenceGap};
use aims_domain::policy::Action;
use aims_store::model::{Member, Record};
use aims_store::records;
use serde::Serialize;

use crate::access::require;
use crate::{App, AppResult};

/// A competence gap with the names a reader needs.
#[derive(Debug, Clone, Serialize)]
pub struct CompetenceGapView {
    pub person_id: String,
    pub person_name: String,
    pub competence_id: String,
    pub competence_name: String,
    pub role: String,
    /// `missing` or `expired`.
    pub status: &'static str,
    pub expired_on: Option<String>,
}

fn name_of(records: &[Record], id: &str) -> String {
    records.iter().find(|r| r.id == id).and_then(|r| r.data.get("name")).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

impl App {
    /// Every record of a kind that is not archived, in creation order.
    pub(crate) async fn all_of_kind(&self, org_id: &str, kind: &str) -> AppResult<Vec<Record>> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = records::list(&self.db, org_id, kind, false, after, 200).await?;
            all.extend(page.items);
            match page.next_after {
                Some(seq) => after = seq,
                None => return Ok(all),
            }
        }
    }

    /// Who lacks what today: each person's required competences with no valid record.
    pub async fn competence_gaps(&self, member: &Member) -> AppResult<Vec<CompetenceGapView>> {
        require(member, Action::Read)?;
        let people = self.all_of_kind(&member.org_id, "person").await?;
        let competences = self.all_of_kind(&member.org_id, "competence").await?;
        let trainings = self.all_of_kind(&member.org_id, "training").await?;
        let pairs = |rs: &[Record]| rs.iter().map(|r| (r.id.clone(), r.data.clone())).collect::<Vec<_>>();
        let training_docs: Vec<_> = trainings.iter().map(|t| t.data.clone()).collect();
        let today = clock::format_date(clock::today());
        let gaps: Vec<CompetenceGap> = people::competence_gaps(&pairs(&people), &pairs(&competences), &training_docs, &today);
        Ok(gaps
            .into_iter()
            .map(|g| CompetenceGapView {
                person_name: name_of(&people, &g.person_id),
                competence_name: name_of(&competences, &g.competence_id),
                person_id: g.person_id,
                competence_id: g.competence_id,
                role: g.role,
                status: g.status,
                expired_on: g.expired_on,
            })
            .collect())
    }
}
