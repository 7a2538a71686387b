//! The demo organisation's improvement records (clause 10, 6.3): nonconformities at three
//! points of their way — one just raised, one whose corrective action is overdue, one verified
//! effective and closed — improvements decided both ways and implemented, and planned changes
//! to the AIMS. Written through the services, like the rest of the demo.

use aims_domain::clock;
use aims_domain::kinds::{ACTION, AI_SYSTEM, CHANGE, IMPROVEMENT, NONCONFORMITY};
use aims_domain::validate::KindSpec;
use aims_store::model::{Member, Record};
use serde_json::{Value, json};
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppError, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

impl App {
    pub(crate) async fn seed_improvement(&self, cast: &Cast<'_>) -> AppResult<()> {
        let systems = self.list_records(cast.admin, &AI_SYSTEM, false, 0, 200).await?.items;
        let system = |name: &str| -> AppResult<String> {
            systems
                .iter()
                .find(|s| s.data.get("name").and_then(Value::as_str) == Some(name))
                .map(|s| s.id.clone())
                .ok_or_else(|| AppError::Internal(format!("demo data: no AI system {name}")))
        };
        let (scorecard, assistant, screening) =
            (system("Credit scoring model (ScoreCard v4)")?, system("Customer support assistant")?, system("CV screening assistant")?);
        self.seed_nonconformities(cast, &scorecard, &assistant, &screening).await?;
        self.seed_improvements(cast, &scorecard, &assistant).await?;
        self.seed_changes(cast, &screening).await
    }

    async fn seed_nonconformities(&self, cast: &Cast<'_>, scorecard: &str, assistant: &str, screening: &str) -> AppResult<()> {
        let (editor, admin, owner) = (cast.editor, cast.admin, cast.owner);
        // Raised from a customer complaint; its first corrective action is past its due date.
        let fee = self.create_record(editor, &NONCONFORMITY, &json!({
            "title": "Support assistant quoted an outdated early-repayment fee",
            "source": "complaint",
            "description": "A customer was told the 2024 early-repayment fee by the support assistant; the tariff changed in January. Three other conversations gave the same answer.",
            "detected_on": day(-40),
            "ai_system_ids": [assistant],
            "control_refs": ["A.6.2.6", "A.8.2"],
            "correction": "The four customers were contacted and charged the current fee; fee questions now get a fixed answer from the tariff page.",
            "root_cause": "The assistant's retrieval index still held the 2024 tariff sheet: nothing checks that its content sources are current.",
            "similar_elsewhere": "yes",
            "similar_details": "ScoreCard's adverse-action reason texts come from the same content store; one stale text was found and fixed.",
            "owner_id": editor.user_id
        })).await?;
        let fee = self.take_steps(editor, &fee, &["correct", "analyse"]).await?;
        self.raise_corrective_action(editor, &fee.id, fee.version, &json!({"title": "Check content-source currency in the assistant's retrieval pipeline", "owner_id": admin.user_id, "due_date": day(-6), "ai_system_ids": [assistant]})).await?;
        let fee = self.get_record(editor, &NONCONFORMITY, &fee.id).await?;
        self.raise_corrective_action(editor, &fee.id, fee.version, &json!({"title": "Review the assistant's content sources every week", "owner_id": editor.user_id, "due_date": day(14), "ai_system_ids": [assistant]})).await?;
        let fee = self.get_record(editor, &NONCONFORMITY, &fee.id).await?;
        self.take_steps(editor, &fee, &["plan"]).await?;

        // Found at a quarterly review; corrected, actioned and verified effective by someone
        // who did not do the work.
        let review = self.create_record(admin, &NONCONFORMITY, &json!({
            "title": "Quarterly fairness review of ScoreCard skipped",
            "source": "review",
            "description": "The Q3 fairness review of ScoreCard did not take place; the approval-rate comparison for thin-file applicants was not run.",
            "detected_on": day(-120),
            "ai_system_ids": [scorecard],
            "requirement_refs": ["6.2"],
            "control_refs": ["A.6.2.6"],
            "correction": "The review was run three weeks late; its results were within tolerance.",
            "root_cause": "The review's owner was on leave and no deputy was named for recurring AI reviews.",
            "similar_elsewhere": "no",
            "owner_id": editor.user_id
        })).await?;
        let review = self.take_steps(editor, &review, &["correct", "analyse"]).await?;
        let action = self
            .raise_corrective_action(
                editor,
                &review.id,
                review.version,
                &json!({"title": "Name a deputy for every recurring AI review", "owner_id": admin.user_id, "due_date": day(-80)}),
            )
            .await?;
        self.patch_record(admin, &ACTION, &action.id, action.version, &json!({"status": "done", "completed_on": day(-85)})).await?;
        let review = self.get_record(editor, &NONCONFORMITY, &review.id).await?;
        let review = self.take_steps(editor, &review, &["plan", "request-verification"]).await?;
        self.transition(
            owner,
            &NONCONFORMITY,
            &review.id,
            "verify",
            review.version,
            &json!({"comment": "Q4 and Q1 reviews held on time, the Q1 one run by the deputy while the owner was away."}),
        )
        .await?;

        // Just raised from a monitoring alert, its correction already written down.
        self.create_record(admin, &NONCONFORMITY, &json!({
            "title": "CV screening used on live applications before its gate was approved",
            "source": "monitoring",
            "description": "Access logs show recruiters ranking live applications with the CV screening assistant while it was still in verification.",
            "detected_on": day(-2),
            "ai_system_ids": [screening],
            "control_refs": ["A.6.2.5"],
            "correction": "Recruiters' access to the assistant suspended until the gate is decided; the ranked applications are being re-read by hand.",
            "owner_id": admin.user_id
        })).await?;
        Ok(())
    }

    /// Takes `record`'s transitions in turn (none takes a body); returns the record after them.
    async fn take_steps(&self, member: &Member, record: &Record, names: &[&str]) -> AppResult<Record> {
        let mut record = record.clone();
        for name in names {
            record = self.transition(member, &NONCONFORMITY, &record.id, name, record.version, &json!({})).await?;
        }
        Ok(record)
    }

    async fn seed_improvements(&self, cast: &Cast<'_>, scorecard: &str, assistant: &str) -> AppResult<()> {
        let (editor, admin, owner) = (cast.editor, cast.admin, cast.owner);
        let decide = |spec: &'static KindSpec, record: Record, name: &'static str, rationale: &'static str| async move {
            self.transition(owner, spec, &record.id, name, record.version, &json!({"rationale": rationale})).await
        };
        let drift = self.create_record(editor, &IMPROVEMENT, &json!({
            "title": "Alert on ScoreCard drift automatically",
            "opportunity": "Drift is checked by hand each month; an automatic alert on the population stability index would catch shifts within days.",
            "source": "review", "owner_id": editor.user_id, "ai_system_ids": [scorecard], "control_refs": ["A.6.2.6"]
        })).await?;
        let drift =
            decide(&IMPROVEMENT, drift, "accept", "Cheap to build on the existing monitoring; agreed at the governance board.").await?;
        let drift = self
            .patch_record(
                editor,
                &IMPROVEMENT,
                &drift.id,
                drift.version,
                &json!({"outcome": "Alerts live since last month; the first one fired after the rate change and led to a recalibration."}),
            )
            .await?;
        self.transition(editor, &IMPROVEMENT, &drift.id, "implement", drift.version, &json!({})).await?;

        let plain = self.create_record(admin, &IMPROVEMENT, &json!({
            "title": "Explain declines in plain language in the app",
            "opportunity": "Applicants' feedback says decline letters are hard to follow; the app could show the main reasons in plain words.",
            "source": "feedback", "owner_id": admin.user_id, "ai_system_ids": [scorecard], "control_refs": ["A.8.2"]
        })).await?;
        decide(&IMPROVEMENT, plain, "accept", "Supports our transparency objective; design work starts next quarter.").await?;

        let vendor = self
            .create_record(
                admin,
                &IMPROVEMENT,
                &json!({
                    "title": "Run the support assistant on a self-hosted model",
                    "opportunity": "Removes the dependence on one LLM vendor raised in the context register.",
                    "source": "planning", "owner_id": admin.user_id, "ai_system_ids": [assistant]
                }),
            )
            .await?;
        decide(
            &IMPROVEMENT,
            vendor,
            "reject",
            "Cost and the team's size outweigh the benefit for now; the supplier review covers the risk. Revisit next year.",
        )
        .await?;

        self.create_record(
            editor,
            &IMPROVEMENT,
            &json!({
                "title": "Share red-team findings across AI systems",
                "opportunity": "Prompt-injection patterns found on the assistant may apply to future generative systems.",
                "source": "incident", "owner_id": editor.user_id
            }),
        )
        .await?;
        Ok(())
    }

    async fn seed_changes(&self, cast: &Cast<'_>, screening: &str) -> AppResult<()> {
        let (admin, editor) = (cast.admin, cast.editor);
        self.create_record(
            admin,
            &CHANGE,
            &json!({
                "title": "Bring the CV screening assistant into the AIMS scope",
                "purpose": "HR has signed off the use of CV screening; the system must be governed like the lending systems.",
                "consequences": "New risks and an impact assessment for job applicants; HR staff need AI awareness training.",
                "resources": "Two days of the AI governance lead, one day of HR's data protection officer.",
                "owner_id": admin.user_id,
                "responsibilities": "AI governance lead updates the scope and inventory; HR names the system owner.",
                "planned_on": day(30),
                "ai_system_ids": [screening],
                "requirement_refs": ["4.3"]
            }),
        )
        .await?;
        let board = self
            .create_record(
                admin,
                &CHANGE,
                &json!({
                    "title": "Give model validation its own seat on the AI governance board",
                    "purpose": "Keep validation independent of development as the data science team grows.",
                    "consequences": "Board terms of reference change; validation reports go to the board directly.",
                    "resources": "Board secretary's time to redraft the terms of reference.",
                    "owner_id": editor.user_id,
                    "responsibilities": "CEO approves the new terms; the head of risk names the validator.",
                    "planned_on": day(-10),
                    "requirement_refs": ["5.3"]
                }),
            )
            .await?;
        self.transition(editor, &CHANGE, &board.id, "start", board.version, &json!({})).await?;
        Ok(())
    }
}
