//! The demo organisation's audits (9.2): this year's audit programme; an internal audit of the
//! support assistant, closed with its report, whose major finding raised a nonconformity; an
//! internal audit planned for next month; and the certificate issued after the certification
//! body's Stage 1 and Stage 2 audits, with its first surveillance audit planned. The demo
//! auditor leads the audits: she owns none of the audited records and changed none of them.

use aims_domain::clock;
use aims_domain::kinds::audit::RAISE_NONCONFORMITY;
use aims_domain::kinds::{AI_SYSTEM, AUDIT, AUDIT_PROGRAMME, CERTIFICATE, FINDING};
use aims_store::model::{Member, Record};
use serde_json::{Value, json};
use time::Duration;

use crate::demo_documents::Cast;
use crate::{App, AppError, AppResult};

fn day(offset: i64) -> String {
    clock::format_date(clock::today() + Duration::days(offset))
}

impl App {
    pub(crate) async fn seed_audit(&self, cast: &Cast<'_>) -> AppResult<()> {
        let auditor = cast.auditor;
        let systems = self.list_records(auditor, &AI_SYSTEM, false, 0, 200).await?.items;
        let system = |name: &str| -> AppResult<String> {
            systems
                .iter()
                .find(|s| s.data.get("name").and_then(Value::as_str) == Some(name))
                .map(|s| s.id.clone())
                .ok_or_else(|| AppError::Internal(format!("demo data: no AI system {name}")))
        };
        let (assistant, screening) = (system("Customer support assistant")?, system("CV screening assistant")?);
        let year = clock::today().year();
        let programme = self.create_record(auditor, &AUDIT_PROGRAMME, &json!({
            "title": format!("AI management system audit programme {year}"),
            "period_from": format!("{year}-01-01"),
            "period_to": format!("{year}-12-31"),
            "frequency": "half_yearly",
            "scope": "Every clause of 4 to 10 once a year; the Annex A controls of each AI system in production at least once in three years, high-risk systems every year.",
            "criteria": "ISO/IEC 42001:2023, our AI policy and the EU AI Act obligations of a deployer.",
            "methods": "Interviews with owners, sampling of records and decisions, walkthroughs of the monitoring dashboards.",
            "owner_id": auditor.user_id
        })).await?;
        self.seed_closed_audit(auditor, &programme.id, &assistant).await?;
        self.create_record(
            auditor,
            &AUDIT,
            &json!({
                "title": "Internal audit: CV screening assistant and human oversight",
                "audit_type": "internal",
                "programme_id": programme.id,
                "requirement_refs": ["8.4", "9.1"],
                "control_refs": ["A.9.2", "A.9.3"],
                "ai_system_ids": [screening],
                "business_units": ["Human resources"],
                "auditees": ["Head of talent acquisition", "HR systems lead"],
                "period_from": day(-180),
                "period_to": day(30),
                "lead_auditor_id": auditor.user_id,
                "planned_start": day(30),
                "planned_end": day(32),
                "criteria": "ISO/IEC 42001:2023 clauses 8.4 and 9.1; Annex A.9"
            }),
        )
        .await?;
        self.seed_certification(auditor).await
    }

    /// The internal audit of the support assistant, from its start to its report, with three
    /// findings; the major one raised a nonconformity.
    async fn seed_closed_audit(&self, auditor: &Member, programme: &str, assistant: &str) -> AppResult<()> {
        let audit = self
            .create_record(
                auditor,
                &AUDIT,
                &json!({
                    "title": "Internal audit: customer support assistant",
                    "audit_type": "internal",
                    "programme_id": programme,
                    "requirement_refs": ["8.2", "9.1"],
                    "control_refs": ["A.6.2.6", "A.8.2"],
                    "ai_system_ids": [assistant],
                    "business_units": ["Customer service"],
                    "auditees": ["Head of customer service", "Conversational AI product owner"],
                    "period_from": day(-200),
                    "period_to": day(-30),
                    "lead_auditor_id": auditor.user_id,
                    "planned_start": day(-25),
                    "planned_end": day(-24),
                    "criteria": "ISO/IEC 42001:2023 clauses 8.2 and 9.1; Annex A.6.2.6 and A.8.2"
                }),
            )
            .await?;
        let mut audit = self.transition(auditor, &AUDIT, &audit.id, "start", audit.version, &json!({})).await?;
        let results: &[(&str, &str, &str, &str)] = &[
            (
                "requirement:8.2",
                "conforming",
                "Risk assessments repeated after the model change in March.",
                "Risk register entries, change log",
            ),
            (
                "requirement:9.1",
                "observation",
                "Monitoring covers answer quality but not the currency of content sources.",
                "Monitoring dashboard walkthrough",
            ),
            (
                "control:A.6.2.6",
                "major_nonconformity",
                "No check that the retrieval index is current; a stale tariff was quoted to customers.",
                "Four conversation transcripts, index build log",
            ),
            (
                "control:A.8.2",
                "opportunity_for_improvement",
                "Customers are told they talk to an AI; the notice could link to the transparency page.",
                "Chat widget screenshots",
            ),
        ];
        for (item, result, notes, evidence) in results {
            let body = json!({"item": item, "result": result, "notes": notes, "evidence": evidence});
            audit = self.transition(auditor, &AUDIT, &audit.id, "record-result", audit.version, &body).await?;
        }
        let checklist = audit.data.get("checklist").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some(system_item) =
            checklist.iter().filter_map(|i| i.get("item").and_then(Value::as_str)).find(|i| i.starts_with("ai_system:"))
        {
            let body = json!({"item": system_item, "result": "minor_nonconformity", "notes": "Human hand-over happens, but its threshold is not documented.", "evidence": "Escalation procedure v2"});
            audit = self.transition(auditor, &AUDIT, &audit.id, "record-result", audit.version, &body).await?;
        }
        let finding = |title: &str, classification: &str, description: &str, controls: &[&str]| {
            json!({"title": title, "audit_id": audit.id, "classification": classification, "description": description,
                   "control_refs": controls, "ai_system_ids": [assistant]})
        };
        let stale = self.create_record(auditor, &FINDING, &finding(
            "Content sources of the support assistant are not checked for currency",
            "major_nonconformity",
            "The retrieval index held a tariff sheet replaced in January; customers were quoted the old fee. No control verifies that content sources are current.",
            &["A.6.2.6"],
        )).await?;
        self.transition(auditor, &FINDING, &stale.id, RAISE_NONCONFORMITY, stale.version, &json!({})).await?;
        self.create_record(auditor, &FINDING, &finding(
            "Monitoring does not cover content currency",
            "observation",
            "The monitoring dashboard tracks answer ratings and escalations but nothing about the age of the sources answers come from.",
            &[],
        )).await?;
        self.create_record(
            auditor,
            &FINDING,
            &finding(
                "AI notice could link to the transparency page",
                "opportunity_for_improvement",
                "The chat widget says an AI answers; a link to the published transparency information would help customers.",
                &["A.8.2"],
            ),
        )
        .await?;
        let audit = self.transition(auditor, &AUDIT, &audit.id, "report", audit.version, &json!({})).await?;
        self.transition(auditor, &AUDIT, &audit.id, "close", audit.version, &json!({
            "summary": "The support assistant's risk assessment and transparency are in place. One major nonconformity (content sources not checked for currency, A.6.2.6) raised as a nonconformity; one observation on monitoring; one opportunity for improvement on the AI notice."
        })).await?;
        Ok(())
    }

    /// The certification body's Stage 1 and Stage 2 audits, the certificate they led to and the
    /// first surveillance audit, planned.
    async fn seed_certification(&self, auditor: &Member) -> AppResult<()> {
        let body = "Nordic Certification AB";
        let stage = |title: &str, kind: &str, from: i64, start: i64| {
            json!({"title": title, "audit_type": kind, "certification_body": body, "period_from": day(from), "period_to": day(start),
                   "planned_start": day(start), "planned_end": day(start + 1), "lead_auditor_id": auditor.user_id,
                   "auditees": ["AI governance lead", "Risk owners"], "criteria": "ISO/IEC 42001:2023"})
        };
        let stage1 = self
            .create_record(auditor, &AUDIT, &stage("Certification Stage 1: documentation review", "certification_stage_1", -270, -95))
            .await?;
        let stage1 = self
            .closed(auditor, stage1, "Documentation ready for Stage 2; the SoA's justifications for two exclusions were expanded.")
            .await?;
        let stage2 = self
            .create_record(auditor, &AUDIT, &stage("Certification Stage 2: operation of the AIMS", "certification_stage_2", -270, -70))
            .await?;
        let stage2 = self.closed(auditor, stage2, "Recommended for certification; no major nonconformity, two observations.").await?;
        let surveillance = self.create_record(auditor, &AUDIT, &stage("First surveillance audit", "surveillance", -60, 295)).await?;
        self.create_record(
            auditor,
            &CERTIFICATE,
            &json!({
                "title": "ISO/IEC 42001 certificate",
                "certification_body": body,
                "certificate_number": "NC-42001-0117",
                "scope": "The development and operation of AI systems for credit decisions and customer support at Northwind Lending.",
                "issued_on": day(-60),
                "expires_on": day(-60 + 3 * 365 - 1),
                "audit_ids": [stage1.id, stage2.id, surveillance.id]
            }),
        )
        .await?;
        Ok(())
    }

    /// Runs an audit without checklist from its start to its closing report.
    async fn closed(&self, auditor: &Member, audit: Record, summary: &str) -> AppResult<Record> {
        let audit = self.transition(auditor, &AUDIT, &audit.id, "start", audit.version, &json!({})).await?;
        let audit = self.transition(auditor, &AUDIT, &audit.id, "report", audit.version, &json!({})).await?;
        self.transition(auditor, &AUDIT, &audit.id, "close", audit.version, &json!({"summary": summary})).await
    }
}
