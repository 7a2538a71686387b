//! The demo organisation's recurring reviews: the policies' yearly reviews (one overdue), the
//! impact re-assessments, the suppliers' reviews (one overdue), the evidence refresh and the
//! internal audit, owned by the people who do them; and one e-mail channel, disabled, pointing
//! at a mail server on the demo's own reserved domain, so nothing leaves the machine until
//! someone configures and enables it.

use aims_domain::clock;
use aims_domain::kinds::{EVIDENCE, IMPACT_ASSESSMENT, NOTIFICATION_CHANNEL, POLICY, SCHEDULE, SUPPLIER};
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use serde_json::{Value, json};
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

fn label(record: &Record) -> &str {
    ["title", "name"].iter().find_map(|f| record.data.get(*f).and_then(Value::as_str)).unwrap_or_default()
}

impl App {
    async fn demo_records(&self, member: &Member, spec: &KindSpec) -> AppResult<Vec<Record>> {
        Ok(self.list_records(member, spec, false, 0, 200).await?.items)
    }

    pub(crate) async fn seed_schedules(&self, cast: &Cast<'_>) -> AppResult<()> {
        let (admin, editor, auditor) = (cast.admin, cast.editor, cast.auditor);
        for policy in self.demo_records(admin, &POLICY).await? {
            let due = match policy.data.get("next_review_on").and_then(Value::as_str) {
                Some(date) => date.to_owned(),
                None => continue,
            };
            self.create_record(admin, &SCHEDULE, &json!({
                "title": format!("Yearly review: {}", label(&policy)),
                "subject": "policy_review",
                "frequency": "yearly",
                "next_due_on": due,
                "owner_id": policy.data.get("owner_id"),
                "instructions": "Read the policy against this year's changes (systems, suppliers, law); revise and publish a new edition, or record that it still holds.",
                "policy_ids": [policy.id],
            }))
            .await?;
        }
        for (i, assessment) in self.demo_records(editor, &IMPACT_ASSESSMENT).await?.iter().enumerate() {
            let offset = [-3, 45, 120].get(i).copied().unwrap_or(90);
            self.create_record(
                editor,
                &SCHEDULE,
                &json!({
                    "title": format!("Re-assess impacts: {}", label(assessment)),
                    "subject": "impact_reassessment",
                    "frequency": if i == 0 { "quarterly" } else { "yearly" },
                    "next_due_on": day(offset),
                    "owner_id": editor.user_id,
                    "instructions": "Check the assessment against the system's changes, complaints and monitoring since the last sign-off.",
                    "impact_assessment_ids": [assessment.id],
                    "ai_system_ids": assessment.data.get("ai_system_ids").cloned().unwrap_or(json!([])),
                }),
            )
            .await?;
        }
        for (i, supplier) in self.demo_records(admin, &SUPPLIER).await?.iter().enumerate() {
            self.create_record(
                admin,
                &SCHEDULE,
                &json!({
                    "title": format!("Supplier review: {}", label(supplier)),
                    "subject": "supplier_review",
                    "frequency": if i == 0 { "quarterly" } else { "yearly" },
                    "next_due_on": day(if i == 0 { -10 } else { 60 }),
                    "owner_id": admin.user_id,
                    "instructions": "Review model lineage, data use, incident notices and the contract's audit rights.",
                    "supplier_ids": [supplier.id],
                }),
            )
            .await?;
        }
        let evidence: Vec<String> = self.demo_records(editor, &EVIDENCE).await?.iter().take(3).map(|e| e.id.clone()).collect();
        self.create_record(
            editor,
            &SCHEDULE,
            &json!({
                "title": "Refresh monitoring evidence",
                "subject": "evidence_refresh",
                "frequency": "monthly",
                "next_due_on": day(4),
                "owner_id": editor.user_id,
                "instructions": "Replace last month's monitoring exports with this month's.",
                "evidence_ids": evidence,
            }),
        )
        .await?;
        self.create_record(
            admin,
            &SCHEDULE,
            &json!({
                "title": "Internal audit of the AIMS",
                "subject": "audit",
                "frequency": "yearly",
                "next_due_on": day(75),
                "owner_id": auditor.user_id,
                "instructions": "Plan and run the yearly internal audit of clauses 4 to 10 and the applicable Annex A controls.",
            }),
        )
        .await?;
        self.create_record(
            admin,
            &NOTIFICATION_CHANNEL,
            &json!({
                "name": "Governance team e-mail",
                "channel_type": "email",
                "enabled": false,
                "smtp_host": "mail.demo.example",
                "smtp_port": 587,
                "smtp_tls": "starttls",
                "from_address": "aims@demo.example",
                "recipients": ["ai-governance@demo.example"],
            }),
        )
        .await?;
        Ok(())
    }
}
