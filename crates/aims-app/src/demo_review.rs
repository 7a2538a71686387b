//! The demo organisation's management reviews (9.3): last quarter's review, held and closed with
//! its decisions and the actions they raised (its inputs frozen as they stood), and the next
//! one, planned.

use aims_domain::clock;
use aims_domain::kinds::{MANAGEMENT_REVIEW, PERSON};
use aims_store::model::Record;
use serde_json::{Value, json};
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

impl App {
    pub(crate) async fn seed_review(&self, cast: &Cast<'_>) -> AppResult<()> {
        let (owner, admin) = (cast.owner, cast.admin);
        let people = self.list_records(admin, &PERSON, false, 0, 200).await?.items;
        let attendees: Vec<&str> = people
            .iter()
            .filter(|p| ["Arjun Mehta", "Aisha Karimi"].contains(&p.data.get("name").and_then(Value::as_str).unwrap_or_default()))
            .map(|p| p.id.as_str())
            .collect();
        let last = self.create_record(admin, &MANAGEMENT_REVIEW, &json!({
            "title": "Management review, last quarter",
            "planned_on": day(-75),
            "chair_id": owner.user_id,
            "attendee_ids": attendees,
            "other_attendees": ["Chief risk officer", "Head of customer operations"],
            "agenda": "Actions from the previous review; changes in context; nonconformities and corrective actions; objectives; audit results; risks and impacts; suppliers; opportunities for improvement.",
            "minutes": "The board reviewed the pack. Fairness monitoring of ScoreCard and the currency of the support assistant's content sources were discussed at length."
        })).await?;
        let last = self.transition(admin, &MANAGEMENT_REVIEW, &last.id, "hold", last.version, &json!({})).await?;
        let decisions = [
            json!({"decision": "Name a deputy for every recurring AI review, so a review never lapses when its owner is away.",
                   "action_title": "Name deputies for recurring AI reviews", "action_owner_id": admin.user_id, "action_due_date": day(-20)}),
            json!({"decision": "Fund an automatic drift alert for ScoreCard from next quarter's budget.",
                   "action_title": "Budget the ScoreCard drift alert", "action_owner_id": owner.user_id, "action_due_date": day(20)}),
            json!({"decision": "The AI policy stays as published; no change is needed this quarter."}),
        ];
        let mut last: Record = last;
        for body in &decisions {
            last = self.transition(admin, &MANAGEMENT_REVIEW, &last.id, "decide", last.version, body).await?;
        }
        self.transition(owner, &MANAGEMENT_REVIEW, &last.id, "close", last.version, &json!({})).await?;

        self.create_record(
            admin,
            &MANAGEMENT_REVIEW,
            &json!({
                "title": "Management review, this quarter",
                "planned_on": day(12),
                "chair_id": owner.user_id,
                "attendee_ids": attendees,
                "other_attendees": ["Chief risk officer"],
                "agenda": "The standing inputs of clause 9.3, and the readiness for the Stage 2 audit."
            }),
        )
        .await?;
        Ok(())
    }
}
