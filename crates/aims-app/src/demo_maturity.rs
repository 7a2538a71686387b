//! The demo organisation's maturity assessments: one six months ago and one last month, so the
//! list's chart shows progress where the management system has been worked on (risk, impact,
//! governance) and little where it has not (third parties, monitoring).

use aims_domain::clock;
use aims_domain::kinds::MATURITY_ASSESSMENT;
use serde_json::json;
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

impl App {
    pub(crate) async fn seed_maturity(&self, cast: &Cast<'_>) -> AppResult<()> {
        let earlier = json!({
            "title": "Baseline maturity assessment", "assessed_on": day(-182), "assessor_id": cast.admin.user_id,
            "governance_level": 2, "governance_note": "AI policy drafted; roles agreed informally",
            "risk_level": 2, "risk_note": "Risks listed per system, no common criteria yet",
            "impact_level": 1, "impact_note": "Only ScoreCard had a written assessment",
            "lifecycle_level": 2, "lifecycle_note": "Release checks by habit, not gated",
            "data_level": 2, "data_note": "Provenance known for the credit data only",
            "transparency_level": 1, "transparency_note": "No user-facing AI notices",
            "third_parties_level": 1, "third_parties_note": "Vendors chosen without an AI review",
            "monitoring_level": 1, "monitoring_note": "Drift noticed by complaints",
            "improvement_level": 1, "improvement_note": "No nonconformity process yet",
        });
        let later = json!({
            "title": "Half-year maturity assessment", "assessed_on": day(-30), "assessor_id": cast.admin.user_id,
            "governance_level": 3, "governance_note": "Policy published; owners named for every system",
            "risk_level": 3, "risk_note": "Risk criteria approved and used for every risk",
            "impact_level": 3, "impact_note": "Impact assessments signed off for two of three systems",
            "lifecycle_level": 3, "lifecycle_note": "Lifecycle gates in use",
            "data_level": 2, "data_note": "CV data provenance still unclear",
            "transparency_level": 2, "transparency_note": "Adverse-action reasons given; assistant notice pending",
            "third_parties_level": 2, "third_parties_note": "One of two AI suppliers reviewed",
            "monitoring_level": 2, "monitoring_note": "Quarterly fairness review started",
            "improvement_level": 3, "improvement_note": "Nonconformities tracked to verified closure",
        });
        for input in [earlier, later] {
            self.create_record(cast.admin, &MATURITY_ASSESSMENT, &input).await?;
        }
        Ok(())
    }
}
