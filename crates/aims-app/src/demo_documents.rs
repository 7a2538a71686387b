//! The demo organisation's documented information: evidence files linked along the spine, the
//! AI policy in two published revisions with acknowledgements, topic policies at each stage,
//! objectives with a measurement history, people with their competences and training, the
//! communication plan, an approved SoA revision and gap actions. Written through the services,
//! like the rest of the demo.

use aims_domain::clock;
use aims_domain::kinds::{self, ACTION, COMMUNICATION, COMPETENCE, MEASUREMENT, OBJECTIVE, PERSON, POLICY, SOA, TRAINING};
use aims_store::model::{Member, Record};
use serde_json::{Value, json};
use time::Duration;

use crate::evidence::Upload;
use crate::{App, AppError, AppResult};

/// The demo members by role.
pub(crate) struct Cast<'a> {
    pub owner: &'a Member,
    pub admin: &'a Member,
    pub editor: &'a Member,
    pub auditor: &'a Member,
    pub viewer: &'a Member,
}

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

/// A one-page PDF with a line of text: small, valid, opens in any viewer.
fn tiny_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 14 Tf 72 720 Td ({}) Tj ET", text.replace(['(', ')', '\\'], ""));
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    pdf
}

fn by_field<'a>(records: &'a [Record], field: &str, value: &str) -> AppResult<&'a Record> {
    records
        .iter()
        .find(|r| r.data.get(field).and_then(Value::as_str) == Some(value))
        .ok_or_else(|| AppError::Internal(format!("demo data: no record with {field} {value}")))
}

impl App {
    pub(crate) async fn seed_documented_information(&self, cast: &Cast<'_>) -> AppResult<()> {
        let systems = self.list_records(cast.admin, &kinds::AI_SYSTEM, false, 0, 50).await?.items;
        let risks = self.list_records(cast.admin, &kinds::RISK, false, 0, 50).await?.items;
        let suppliers = self.list_records(cast.admin, &kinds::SUPPLIER, false, 0, 50).await?.items;
        let scorecard = by_field(&systems, "name", "Credit scoring model (ScoreCard v4)")?;
        let assistant = by_field(&systems, "name", "Customer support assistant")?;
        let fairness = by_field(&risks, "title", "Unfair declines for thin-file applicants")?;
        let injection = by_field(&risks, "title", "Prompt injection exposes account data")?;
        let lumen = by_field(&suppliers, "name", "Lumen AI Ltd")?;

        let policy = self.seed_policies(cast).await?;
        self.seed_evidence(cast, scorecard, assistant, fairness, injection, lumen, &policy).await?;
        self.seed_objectives(cast, scorecard).await?;
        self.seed_competence(cast).await?;
        self.seed_communications(cast, &policy, assistant).await?;
        self.seed_soa_approval(cast).await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn seed_evidence(
        &self,
        cast: &Cast<'_>,
        scorecard: &Record,
        assistant: &Record,
        fairness: &Record,
        injection: &Record,
        lumen: &Record,
        policy: &Record,
    ) -> AppResult<()> {
        let upload = |name: &str, content_type: &str, bytes: Vec<u8>| Upload::from_bytes(name, content_type, bytes);
        let validation = "# ScoreCard v4 — independent validation, 2026 Q2\n\nDiscrimination (Gini) 0.61 on the hold-out sample; calibration within tolerance in every score band.\nMonotonic constraints verified for income and arrears features.\nFinding: approval-rate gap for thin-file applicants above appetite; remediation tracked as an action.\n";
        let fairness_csv = "quarter,segment,approval_rate,population_rate,gap_pp\n2026-Q1,thin_file,0.52,0.58,6.1\n2026-Q2,thin_file,0.54,0.58,4.2\n2026-Q3,thin_file,0.555,0.59,3.5\n";
        let items = [
            (
                json!({"title": "ScoreCard v4 independent validation report", "evidence_type": "report", "owner_id": cast.editor.user_id, "review_by": day(120),
                       "description": "Validation by the model risk team, independent of the developers.",
                       "ai_system_ids": [scorecard.id], "risk_ids": [fairness.id], "control_refs": ["A.6.2.4"], "requirement_refs": ["8.2"]}),
                upload("scorecard-v4-validation.md", "text/markdown", validation.as_bytes().to_vec()),
            ),
            (
                json!({"title": "Quarterly fairness test results", "evidence_type": "test_result", "owner_id": cast.editor.user_id, "review_by": day(-9),
                       "ai_system_ids": [scorecard.id], "risk_ids": [fairness.id], "control_refs": ["A.7.4", "A.5.4"]}),
                upload("fairness-tests.csv", "text/csv", fairness_csv.as_bytes().to_vec()),
            ),
            (
                json!({"title": "Lumen AI supplier due-diligence questionnaire", "evidence_type": "record", "owner_id": cast.admin.user_id, "review_by": day(200),
                       "ai_system_ids": [assistant.id], "supplier_ids": [lumen.id], "control_refs": ["A.10.3"]}),
                upload("lumen-due-diligence.pdf", "application/pdf", tiny_pdf("Lumen AI Ltd - supplier due diligence, answered 2026")),
            ),
            (
                json!({"title": "Red-team plan for the support assistant", "evidence_type": "document", "owner_id": cast.admin.user_id,
                       "ai_system_ids": [assistant.id], "risk_ids": [injection.id], "control_refs": ["A.6.2.4", "A.9.2"]}),
                upload(
                    "assistant-red-team-plan.txt",
                    "text/plain",
                    b"Scope: prompt injection, data leakage, harmful advice. Quarterly, by the security team with an external partner.\n"
                        .to_vec(),
                ),
            ),
            (
                json!({"title": "AI governance board minutes — last quarter", "evidence_type": "minutes", "owner_id": cast.owner.user_id,
                       "requirement_refs": ["5.1", "5.2"], "control_refs": ["A.2.2"], "policy_ids": [policy.id]}),
                upload("ai-board-minutes.pdf", "application/pdf", tiny_pdf("AI governance board - minutes - AI policy v2 approved")),
            ),
        ];
        for (metadata, file) in items {
            self.upload_evidence(cast.editor, &metadata, file).await?;
        }
        Ok(())
    }

    async fn step(&self, member: &Member, record: &Record, name: &str, body: Value) -> AppResult<Record> {
        self.transition(member, &POLICY, &record.id, name, record.version, &body).await
    }

    /// Returns the AI policy.
    async fn seed_policies(&self, cast: &Cast<'_>) -> AppResult<Record> {
        let first = "Purpose. Northwind Lending uses AI to serve customers better and more fairly, never to decide about people without accountable humans.\n\nPrinciples. Every AI system has a named owner, is registered in aims before use, and is assessed for risk and for its impact on people before deployment.\n\nOversight. Decisions that refuse credit or employment are reviewed by a person who can change them.\n\nReview. The AI governance board reviews this policy every year.";
        let second = "Purpose. Northwind Lending uses AI to serve customers better and more fairly, never to decide about people without accountable humans.\n\nPrinciples. Every AI system has a named owner, is registered in aims before use, and is assessed for risk and for its impact on people before deployment and after every material change.\n\nOversight. Decisions that refuse credit or employment are reviewed by a person who can change them.\n\nThird parties. AI from suppliers meets the same rules; suppliers tell us before they change a model we rely on.\n\nReview. The AI governance board reviews this policy every year.";
        let policy = self
            .create_record(cast.editor, &POLICY, &json!({"title": "AI policy", "topic": "ai_policy", "summary": "How Northwind Lending develops, buys and uses AI", "body": first, "owner_id": cast.admin.user_id, "next_review_on": day(300), "requirement_refs": ["5.2"], "control_refs": ["A.2.2"]}))
            .await?;
        let policy = self.step(cast.editor, &policy, "submit", json!({})).await?;
        let policy = self.step(cast.owner, &policy, "approve", json!({"comment": "Approved by the AI governance board"})).await?;
        let policy = self.step(cast.admin, &policy, "publish", json!({})).await?;
        let policy = self.step(cast.owner, &policy, "acknowledge", json!({})).await?;
        let policy = self.patch_record(cast.editor, &POLICY, &policy.id, policy.version, &json!({"body": second})).await?;
        let policy =
            self.step(cast.editor, &policy, "submit", json!({"comment": "Adds third parties and re-assessment after change"})).await?;
        // The admin owns the AI policy: top management approves it (separation of duties).
        let policy = self.step(cast.owner, &policy, "approve", json!({})).await?;
        let mut policy = self.step(cast.admin, &policy, "publish", json!({})).await?;
        for member in [cast.editor, cast.auditor, cast.viewer] {
            policy = self.step(member, &policy, "acknowledge", json!({})).await?;
        }

        let acceptable = self
            .create_record(cast.editor, &POLICY, &json!({"title": "Acceptable use of generative AI", "topic": "acceptable_use", "body": "Staff may use approved generative AI tools for drafting and research. Customer data, credit decisions and code secrets never go into tools that are not approved.", "owner_id": cast.editor.user_id, "next_review_on": day(180), "control_refs": ["A.9.2"]}))
            .await?;
        self.step(cast.editor, &acceptable, "submit", json!({})).await?;
        let transparency = self
            .create_record(cast.editor, &POLICY, &json!({"title": "Transparency towards applicants", "topic": "transparency", "body": "We tell applicants when AI is used in a decision about them, what it considers, and how to ask for a person to review it.", "owner_id": cast.admin.user_id, "next_review_on": day(-15), "control_refs": ["A.8.2"]}))
            .await?;
        let transparency = self.step(cast.editor, &transparency, "submit", json!({})).await?;
        let transparency = self.step(cast.owner, &transparency, "approve", json!({})).await?;
        self.step(cast.admin, &transparency, "publish", json!({})).await?;
        self.create_record(cast.editor, &POLICY, &json!({"title": "Data for AI systems", "topic": "data", "body": "Draft: provenance, quality checks and retention for every dataset used to train or run an AI system.", "owner_id": cast.editor.user_id, "control_refs": ["A.7.2"]}))
            .await?;
        Ok(policy)
    }

    async fn seed_objectives(&self, cast: &Cast<'_>, scorecard: &Record) -> AppResult<()> {
        let objectives = [
            (
                json!({"title": "Close the thin-file approval gap", "metric": "Approval-rate gap between thin-file applicants and all applicants", "unit": "pp", "direction": "at_most", "target": 3, "baseline": 7.5, "owner_id": cast.editor.user_id, "due_date": day(90), "ai_system_ids": [scorecard.id]}),
                vec![7.5, 6.8, 6.1, 5.0, 4.2, 3.6],
            ),
            (
                json!({"title": "Every in-scope AI system has a signed-off impact assessment", "metric": "Share of in-scope AI systems with a current signed-off impact assessment", "unit": "%", "direction": "at_least", "target": 100, "baseline": 0, "owner_id": cast.admin.user_id, "due_date": day(60)}),
                vec![0.0, 33.0, 33.0, 67.0, 67.0, 67.0],
            ),
            (
                json!({"title": "Answer AI-related complaints quickly", "metric": "AI-related complaints answered within 15 days", "unit": "%", "direction": "at_least", "target": 95, "baseline": 80, "owner_id": cast.admin.user_id}),
                vec![82.0, 85.0, 88.0, 91.0, 94.0, 96.5],
            ),
        ];
        for (input, series) in objectives {
            let objective = self.create_record(cast.admin, &OBJECTIVE, &input).await?;
            let count = i64::try_from(series.len()).unwrap_or(0);
            for (i, value) in (0..).zip(series) {
                let measured_on = day(-30 * (count - 1 - i) - 2);
                self.create_child_record(cast.editor, &MEASUREMENT, &objective.id, &json!({"value": value, "measured_on": measured_on}))
                    .await?;
            }
        }
        Ok(())
    }

    async fn seed_competence(&self, cast: &Cast<'_>) -> AppResult<()> {
        let competence = |name: &str, description: &str, roles: &[&str], renewal: Option<i64>| json!({"name": name, "description": description, "required_for_roles": roles, "renewal_months": renewal});
        let act = self
            .create_record(
                cast.admin,
                &COMPETENCE,
                &competence(
                    "EU AI Act essentials",
                    "Obligations by role and risk category; what they mean for our systems",
                    &["AI governance lead", "Model owner", "Data scientist"],
                    Some(24),
                ),
            )
            .await?;
        let validation = self
            .create_record(
                cast.admin,
                &COMPETENCE,
                &competence(
                    "Model validation methods",
                    "Independent testing of performance, stability and calibration",
                    &["Model validator"],
                    None,
                ),
            )
            .await?;
        let fairness = self
            .create_record(
                cast.admin,
                &COMPETENCE,
                &competence(
                    "Fairness testing",
                    "Measuring and explaining outcome differences between groups",
                    &["Data scientist", "Model validator"],
                    Some(24),
                ),
            )
            .await?;
        let auditing = self
            .create_record(
                cast.admin,
                &COMPETENCE,
                &competence(
                    "AI management system auditing",
                    "Planning and running internal audits of an AIMS",
                    &["Internal auditor"],
                    Some(36),
                ),
            )
            .await?;
        let person = |name: &str, title: &str, roles: &[&str], user: Option<&Member>| json!({"name": name, "job_title": title, "roles": roles, "user_id": user.map(|m| m.user_id.clone()), "business_unit": "Risk & Compliance"});
        let arjun = self
            .create_record(cast.admin, &PERSON, &person("Arjun Mehta", "Head of AI governance", &["AI governance lead"], Some(cast.admin)))
            .await?;
        let elena = self
            .create_record(
                cast.admin,
                &PERSON,
                &person("Elena Rossi", "Lead data scientist", &["Model owner", "Data scientist"], Some(cast.editor)),
            )
            .await?;
        let aisha = self
            .create_record(cast.admin, &PERSON, &person("Aisha Karimi", "Internal auditor", &["Internal auditor"], Some(cast.auditor)))
            .await?;
        let sam = self.create_record(cast.admin, &PERSON, &person("Sam Doyle", "Model validator", &["Model validator"], None)).await?;
        let trainings = [
            (&arjun, "EU AI Act for governance leads", vec![&act], day(-200), Some(day(530))),
            (&elena, "EU AI Act essentials e-learning", vec![&act], day(-90), Some(day(640))),
            (&elena, "Fairness in credit models workshop", vec![&fairness], day(-400), Some(day(-35))),
            (&aisha, "ISO/IEC 42001 lead auditor course", vec![&auditing], day(-300), Some(day(795))),
            (&sam, "Model risk validation certificate", vec![&validation], day(-700), None),
        ];
        for (person, title, competences, completed_on, expires_on) in trainings {
            let ids: Vec<&str> = competences.iter().map(|c| c.id.as_str()).collect();
            self.create_record(cast.admin, &TRAINING, &json!({"person_id": person.id, "title": title, "competence_ids": ids, "completed_on": completed_on, "expires_on": expires_on, "training_type": if expires_on.is_some() { "training" } else { "certification" }}))
                .await?;
        }
        Ok(())
    }

    async fn seed_communications(&self, cast: &Cast<'_>, policy: &Record, assistant: &Record) -> AppResult<()> {
        let plan = [
            json!({"subject": "AI policy v2 and what changed", "audience": "All staff", "channel": "intranet", "frequency": "on_change", "responsible_id": cast.admin.user_id, "policy_ids": [policy.id],
                   "records": [{"communicated_on": day(-20), "summary": "Intranet article and e-mail from the CEO; acknowledgement requested in aims"}]}),
            json!({"subject": "AI governance update", "audience": "Board of directors", "channel": "meeting", "frequency": "quarterly", "next_on": day(24), "responsible_id": cast.owner.user_id,
                   "records": [{"communicated_on": day(-66), "summary": "Risk register highlights, objective status, EU AI Act readiness"}]}),
            json!({"subject": "AI notice on the support chat", "audience": "Customers using the chat", "audience_type": "external", "channel": "website", "frequency": "on_change", "responsible_id": cast.editor.user_id, "ai_system_ids": [assistant.id]}),
            json!({"subject": "Prompt-injection awareness for support agents", "audience": "Support agents", "channel": "training_session", "frequency": "yearly", "next_on": day(-4), "responsible_id": cast.editor.user_id}),
        ];
        for input in plan {
            self.create_record(cast.admin, &COMMUNICATION, &input).await?;
        }
        Ok(())
    }

    /// The SoA approved by top management a while ago; one entry has changed since.
    async fn seed_soa_approval(&self, cast: &Cast<'_>) -> AppResult<()> {
        let soa = self.get_singleton(cast.owner, &SOA).await?;
        let soa = self
            .patch_record(cast.admin, &SOA, &soa.id, soa.version, &json!({"notes": "First full SoA after the 2026 risk assessment."}))
            .await?;
        self.transition(cast.owner, &SOA, &soa.id, "approve", soa.version, &json!({"comment": "Approved at the AI governance board"}))
            .await?;
        let control = self.get_record(cast.editor, &kinds::CONTROL, "A.6.2.6").await?;
        self.patch_record(cast.editor, &kinds::CONTROL, "A.6.2.6", control.version, &json!({"implementation_status": "partial"})).await?;
        self.create_record(cast.admin, &ACTION, &json!({"title": "Set up the internal audit programme", "source": "gap_assessment", "owner_id": cast.auditor.user_id, "due_date": day(40), "requirement_refs": ["9.2.1"]}))
            .await?;
        Ok(())
    }
}
