//! The demo organisation's operation records (8.1, A.3.3, A.8, A.10): its two AI suppliers with
//! what they provide, one reviewed and completed and one review still in draft; a concern from
//! the public triaged into an AI incident that raised a nonconformity; and a concern just
//! received through the public intake. Written through the services, like the rest of the demo.

use aims_domain::clock;
use aims_domain::kinds::{AI_SYSTEM, CONCERN, INCIDENT, SUPPLIER, SUPPLIER_REVIEW};
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use serde_json::{Value, json};
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppError, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

/// The id of the record of `spec` whose `field` is `value`.
async fn id_named(app: &App, member: &Member, spec: &KindSpec, field: &str, value: &str) -> AppResult<String> {
    app.list_records(member, spec, false, 0, 200)
        .await?
        .items
        .into_iter()
        .find(|r| r.data.get(field).and_then(Value::as_str) == Some(value))
        .map(|r| r.id)
        .ok_or_else(|| AppError::Internal(format!("demo data: no {} {value}", spec.label)))
}

impl App {
    pub(crate) async fn seed_operations(&self, cast: &Cast<'_>) -> AppResult<()> {
        let assistant = id_named(self, cast.admin, &AI_SYSTEM, "name", "Customer support assistant").await?;
        let screening = id_named(self, cast.admin, &AI_SYSTEM, "name", "CV screening assistant").await?;
        self.seed_supplier_reviews(cast, &assistant, &screening).await?;
        self.seed_incident_and_concerns(cast, &assistant).await
    }

    async fn operation_step(&self, member: &Member, spec: &KindSpec, record: &Record, name: &str, body: Value) -> AppResult<Record> {
        self.transition(member, spec, &record.id, name, record.version, &body).await
    }

    async fn seed_supplier_reviews(&self, cast: &Cast<'_>, assistant: &str, screening: &str) -> AppResult<()> {
        let (editor, admin, owner) = (cast.editor, cast.admin, cast.owner);
        let lumen = id_named(self, admin, &SUPPLIER, "name", "Lumen AI Ltd").await?;
        let talentsift = id_named(self, admin, &SUPPLIER, "name", "TalentSift").await?;
        self.patch_record(admin, &SUPPLIER, &lumen, crate::records::ANY_VERSION, &json!({
            "ai_services": [
                {"name": "Lumen-3 chat completion API", "component_type": "model_api", "notes": "Answers customer questions behind the support assistant"},
                {"name": "Lumen embeddings", "component_type": "model_api", "notes": "Retrieval index of the help centre"}
            ],
            "risk_rating": "medium", "review_cadence": "yearly", "next_review_on": day(310)
        })).await?;
        self.patch_record(admin, &SUPPLIER, &talentsift, crate::records::ANY_VERSION, &json!({
            "ai_services": [{"name": "TalentSift ranking model", "component_type": "model", "notes": "Ranks applications for recruiters"}],
            "risk_rating": "high", "review_cadence": "half_yearly", "next_review_on": day(5)
        })).await?;

        // Lumen's yearly review: recorded by the editor, completed by the owner.
        let review = self.create_record(editor, &SUPPLIER_REVIEW, &json!({
            "title": "Lumen AI annual due diligence",
            "supplier_id": lumen, "reviewer_id": editor.user_id, "reviewed_on": day(-55), "ai_system_ids": [assistant],
            "model_lineage": "Lumen-3 is Lumen's own base model, instruction-tuned in-house; model card v3.2 received, version pinned in our contract.",
            "data_provenance": "Licensed and public web text up to 2025; Lumen attests that customer prompts are not used for training (enterprise tier).",
            "evaluation_results": "Lumen's published safety evaluations plus our own 400-question help-centre test set: 96 % correct, no harmful answers.",
            "intended_use_boundaries": "Not for credit, legal or medical advice; EU data residency; no automated decisions about customers.",
            "security_posture": "ISO/IEC 27001 certified, SOC 2 Type II report reviewed, prompt-injection testing summary received.",
            "clause_incident_notice": "agreed", "clause_audit_rights": "partial", "clause_data_use": "agreed",
            "incident_notice_hours": 24,
            "incident_commitments": "Security and model incidents notified within 24 hours; root-cause report within 10 working days.",
            "risk_rating": "medium", "outcome": "approved_with_conditions",
            "conditions": "Audit rights cover reports only: ask for on-site audit rights at renewal.",
            "next_review_on": day(310)
        })).await?;
        let review = self.operation_step(editor, &SUPPLIER_REVIEW, &review, "submit", json!({})).await?;
        self.operation_step(
            owner,
            &SUPPLIER_REVIEW,
            &review,
            "complete",
            json!({"comment": "Agreed; the audit-rights condition is tracked for renewal."}),
        )
        .await?;

        // TalentSift's half-yearly review, started and due within the week.
        self.create_record(
            editor,
            &SUPPLIER_REVIEW,
            &json!({
                "title": "TalentSift half-yearly review",
                "supplier_id": talentsift, "reviewer_id": editor.user_id, "reviewed_on": day(-2), "ai_system_ids": [screening],
                "model_lineage": "Gradient-boosted ranking model retrained quarterly; lineage for the March model not yet received.",
                "clause_incident_notice": "missing", "clause_audit_rights": "missing", "clause_data_use": "partial",
                "risk_rating": "high"
            }),
        )
        .await?;
        Ok(())
    }

    async fn seed_incident_and_concerns(&self, cast: &Cast<'_>, assistant: &str) -> AppResult<()> {
        let (editor, admin) = (cast.editor, cast.admin);
        // A customer's concern, received through the public intake and triaged into an incident.
        let received = self
            .submit_public_concern(
                "demo",
                crate::demo::DEMO_SLUG,
                &json!({
                    "subject": "The chat assistant showed me someone else's order",
                    "ai_system_name": "Support chat on the website",
                    "description": "I asked about my delivery and the assistant answered with another customer's order number and address."
                }),
            )
            .await?;
        let _ = received.token;
        let concern = self.list_records(editor, &CONCERN, false, 0, 10).await?.items.into_iter().next();
        let concern = concern.ok_or_else(|| AppError::Internal("demo data: the concern was not recorded".into()))?;
        let concern = self
            .patch_record(
                editor,
                &CONCERN,
                &concern.id,
                concern.version,
                &json!({
                    "owner_id": editor.user_id, "ai_system_ids": [assistant],
                    "public_answer": "Thank you. We have confirmed the problem, stopped it and are contacting the people affected."
                }),
            )
            .await?;
        let concern =
            self.operation_step(editor, &CONCERN, &concern, "to-incident", json!({"note": "Possible personal data disclosure"})).await?;
        let incident_id = concern.data.get("incident_ids").and_then(Value::as_array).and_then(|ids| ids.first()).and_then(Value::as_str);
        let incident_id = incident_id.ok_or_else(|| AppError::Internal("demo data: no incident from the concern".into()))?.to_owned();

        let incident = self
            .patch_record(
                editor,
                &INCIDENT,
                &incident_id,
                crate::records::ANY_VERSION,
                &json!({
                    "title": "Support assistant disclosed another customer's order details",
                    "severity": "high", "occurred_on": day(-9), "detected_on": day(-8),
                    "affected_people": "Two customers whose order number and delivery address were shown to others.",
                    "people_affected_count": 2,
                    "containment": "Order look-up tool disabled in the assistant within two hours; answers about orders handed to agents.",
                    "external_report_required": true, "reporting_regime": "gdpr_personal_data_breach",
                    "reported_externally_on": day(-7),
                    "notified": [
                        {"party": "Data protection officer", "notified_on": day(-8), "how": "Call and e-mail"},
                        {"party": "Affected customers", "notified_on": day(-7), "how": "Letter and phone call"},
                        {"party": "Supervisory authority", "notified_on": day(-7), "how": "Online breach notification"}
                    ]
                }),
            )
            .await?;
        let incident = self.operation_step(editor, &INCIDENT, &incident, "triage", json!({})).await?;
        let incident = self.operation_step(editor, &INCIDENT, &incident, "contain", json!({})).await?;
        self.raise_nonconformity_from_incident(admin, &incident.id, incident.version, &json!({
            "title": "Assistant's order look-up returned orders of other customers",
            "description": "The order look-up tool matched on order number alone, without the signed-in customer; found through an incident raised from a customer's concern.",
            "owner_id": editor.user_id
        })).await?;

        // A concern just received, not yet triaged.
        self.submit_public_concern(
            "demo",
            crate::demo::DEMO_SLUG,
            &json!({
                "subject": "Was my job application screened by an AI?",
                "ai_system_name": "Careers site",
                "description": "I was rejected within an hour of applying. Was a person involved, and how can I ask for a human review?",
                "contact_name": "A. Applicant", "contact_email": "applicant@example.net"
            }),
        )
        .await?;
        Ok(())
    }
}
