//! The demo organisation: Northwind Lending, a mid-size consumer lender that deploys a
//! credit-scoring model, a customer-support chatbot on a third-party LLM and a CV-screening
//! tool. Everything is written through the same services as the API, so every record has its
//! activity event; dates are relative to today.

use aims_domain::identity::Role;
use aims_domain::kinds::{CONTROL, REQUIREMENT};
use aims_domain::{clock, validate::KindSpec};
use aims_store::model::{Actor, Member};
use serde_json::{Value, json};
use time::Duration;

use crate::secrets::random_token;
use crate::{App, AppError, AppResult};

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_NAME: &str = "Northwind Lending (demo)";

/// A demo user and the password generated for them.
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub role: Role,
}

impl App {
    /// Creates the demo organisation unless it exists. Returns its users with their passwords,
    /// or `None` when it already existed (then nothing is changed).
    pub async fn create_demo(&self) -> AppResult<Option<Vec<DemoUser>>> {
        if aims_store::orgs::by_slug(&self.db, DEMO_SLUG).await?.is_some() {
            return Ok(None);
        }
        let system = Actor::System("demo");
        self.create_org(DEMO_SLUG, DEMO_NAME, &system).await?;
        let people = [
            (Role::Owner, "owner@demo.example", "Olivia Okafor"),
            (Role::Admin, "admin@demo.example", "Arjun Mehta"),
            (Role::Editor, "editor@demo.example", "Elena Rossi"),
            (Role::Auditor, "auditor@demo.example", "Aisha Karimi"),
            (Role::Viewer, "viewer@demo.example", "Victor Lindqvist"),
        ];
        let mut users = Vec::new();
        for (role, email, name) in people {
            let password = random_token("")?.chars().filter(char::is_ascii_alphanumeric).take(20).collect::<String>();
            self.create_member(email, DEMO_SLUG, role.as_str(), &password, Some(name), &system).await?;
            users.push(DemoUser { email: email.to_owned(), password, role });
        }
        let admin = self.member_by_email("admin@demo.example", DEMO_SLUG).await?;
        let editor = self.member_by_email("editor@demo.example", DEMO_SLUG).await?;
        let owner = self.member_by_email("owner@demo.example", DEMO_SLUG).await?;
        self.seed_gap_assessment(&admin, &editor, &owner).await?;
        self.seed_statement_of_applicability(&admin, &editor).await?;
        Ok(Some(users))
    }

    async fn seed_gap_assessment(&self, admin: &Member, editor: &Member, owner: &Member) -> AppResult<()> {
        let gaps: &[(&str, &str, &Member, &str)] = &[
            (
                "4.1",
                "in_place",
                admin,
                "Context register reviewed by the AI governance board; lending regulation and EU AI Act obligations captured.",
            ),
            (
                "4.2",
                "in_place",
                admin,
                "Interested parties include applicants, regulators, the consumer ombudsman, staff and our LLM supplier.",
            ),
            (
                "4.3",
                "partial",
                admin,
                "Scope covers credit scoring and the support chatbot; CV screening still to be added after HR sign-off.",
            ),
            ("4.4", "partial", admin, "Processes mapped; interactions with the model risk framework still being documented."),
            ("5.1", "in_place", owner, "CEO chairs the quarterly AI governance board; budget approved for the AIMS programme."),
            ("5.2", "in_place", admin, "AI policy v2 published; acknowledgements at 87 % of staff."),
            ("5.3", "partial", admin, "RACI drafted; product owners for each AI system named, deputies missing."),
            ("6.1.1", "partial", editor, "Risks and opportunities workshop held; outcomes being entered into the risk register."),
            ("6.1.2", "partial", editor, "Risk criteria agreed (5×5); assessments done for credit scoring only."),
            ("6.1.3", "missing", editor, "Treatment plans not yet linked to Annex A controls."),
            ("6.1.4", "partial", editor, "Impact assessment template adopted; credit scoring assessed, chatbot pending."),
            ("6.2", "partial", admin, "Objectives set for fairness and complaint handling; measurement plan due."),
            ("7.2", "partial", admin, "Competence matrix for model validators exists; data scientists not yet covered."),
            ("7.5.1", "in_place", admin, "Documented information kept in aims with revisions and approvals."),
            ("9.2.1", "missing", admin, "First internal audit planned for next quarter."),
            ("9.3.1", "missing", owner, "First management review to follow the internal audit."),
        ];
        for (reference, status, owner_member, notes) in gaps {
            let patch = json!({"status": status, "owner_id": owner_member.user_id, "notes": notes});
            self.patch_demo(admin, &REQUIREMENT, reference, patch).await?;
        }
        Ok(())
    }

    async fn seed_statement_of_applicability(&self, admin: &Member, editor: &Member) -> AppResult<()> {
        let reviewed = clock::format_date(clock::today() - Duration::days(21));
        let soa: &[(&str, &str, &Member, &str)] = &[
            ("A.2.2", "implemented", admin, "The AI policy sets direction for all AI use in lending and operations."),
            ("A.2.3", "implemented", admin, "Aligned with the model risk, data protection and information security policies."),
            ("A.2.4", "planned", admin, "Annual review scheduled with the governance board."),
            ("A.3.2", "partial", admin, "Roles named per AI system; deputies outstanding."),
            ("A.3.3", "implemented", admin, "Concerns can be raised through the whistleblowing line and the public concern form."),
            ("A.4.2", "partial", editor, "Resources documented for credit scoring; chatbot resources in progress."),
            ("A.5.2", "implemented", editor, "Impact assessment process adopted for every system that affects applicants."),
            ("A.5.4", "partial", editor, "Credit-scoring impact on applicants assessed, including protected groups."),
            ("A.6.2.4", "partial", editor, "Validation reports exist for the scorecard; the chatbot needs red-team tests."),
            ("A.6.2.6", "planned", editor, "Drift monitoring for the scorecard is being set up."),
            ("A.7.4", "partial", editor, "Data quality checks run on bureau and application data."),
            ("A.7.5", "implemented", editor, "Lineage recorded for all training data sets."),
            ("A.8.2", "partial", editor, "Adverse-action explanations reviewed by compliance."),
            ("A.9.4", "implemented", editor, "Intended use and limits documented for every system in production."),
            ("A.10.3", "partial", admin, "Supplier due diligence covers the LLM provider; contract review pending."),
        ];
        for (reference, status, owner_member, justification) in soa {
            let patch = json!({
                "implementation_status": status,
                "owner_id": owner_member.user_id,
                "justification": justification,
                "last_reviewed_on": reviewed,
            });
            self.patch_demo(admin, &CONTROL, reference, patch).await?;
        }
        let excluded = json!({
            "applicable": false,
            "justification": "Northwind Lending does not supply AI systems or AI components to customers; \
                              AI that customers interact with is covered by A.8.2 and A.9.4.",
        });
        self.patch_demo(admin, &CONTROL, "A.10.4", excluded).await?;
        let own = [
            (
                "NWL-MRC-1",
                "Model risk committee sign-off",
                "Every credit model change is approved by the model risk committee before release.",
            ),
            (
                "NWL-FAIR-2",
                "Quarterly fairness testing",
                "Approval-rate parity and calibration across protected groups are tested every quarter.",
            ),
        ];
        for (reference, title, description) in own {
            let input = json!({"ref": reference, "title": title, "description": description, "implementation_status": "implemented", "owner_id": editor.user_id});
            self.create_record(editor, &CONTROL, &input).await?;
        }
        Ok(())
    }

    async fn patch_demo(&self, member: &Member, spec: &KindSpec, reference: &str, patch: Value) -> AppResult<()> {
        let record = self.get_record(member, spec, reference).await?;
        self.patch_record(member, spec, reference, record.version, &patch)
            .await
            .map_err(|e| AppError::Internal(format!("demo data for {reference}: {e}")))?;
        Ok(())
    }
}
