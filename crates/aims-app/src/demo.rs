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
        self.seed_ai_inventory(&owner, &admin, &editor).await?;
        let auditor = self.member_by_email("auditor@demo.example", DEMO_SLUG).await?;
        let viewer = self.member_by_email("viewer@demo.example", DEMO_SLUG).await?;
        let cast = crate::demo_documents::Cast { owner: &owner, admin: &admin, editor: &editor, auditor: &auditor, viewer: &viewer };
        self.seed_documented_information(&cast).await?;
        self.seed_improvement(&cast).await?;
        self.seed_operations(&cast).await?;
        self.seed_audit(&cast).await?;
        self.seed_review(&cast).await?;
        // A pending invitation, so the members page shows one waiting to be accepted.
        self.invite(&admin, "model.validator@demo.example", Role::Editor.as_str()).await?;
        self.seed_schedules(&cast).await?;
        self.seed_maturity(&cast).await?;
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

    /// Scope, context, suppliers, datasets, the three AI systems with their resources,
    /// lifecycle records and a pending gate, risks with treatments, and impact assessments.
    async fn seed_ai_inventory(&self, owner: &Member, admin: &Member, editor: &Member) -> AppResult<()> {
        use aims_domain::kinds::{
            ACTION, AI_SYSTEM, CONTEXT_ISSUE, DATASET, GATE, IMPACT_ASSESSMENT, INTERESTED_PARTY, LIFECYCLE_RECORD, RESOURCE, RISK, SCOPE,
            SUPPLIER,
        };
        let day = |offset: i64| clock::format_date(clock::today() + Duration::days(offset));
        let id = |record: &aims_store::model::Record| record.id.clone();

        let lumen = self.create_record(admin, &SUPPLIER, &json!({"name": "Lumen AI Ltd", "description": "Hosted large language model API", "supplied_ai": "General-purpose LLM (Lumen-3) behind the support assistant", "contact_email": "trust@lumen-ai.example", "owner_id": admin.user_id})).await?;
        let talentsift = self.create_record(admin, &SUPPLIER, &json!({"name": "TalentSift", "description": "CV screening SaaS", "supplied_ai": "Ranking model for job applications", "owner_id": admin.user_id})).await?;

        let applications = self.create_record(editor, &DATASET, &json!({
            "name": "Loan applications 2019–2025",
            "source": "Core lending platform",
            "acquisition": "Extracted monthly from the loan origination system under the data sharing agreement with Risk",
            "provenance": "Application forms and decisions; lineage recorded in the data catalogue",
            "quality_checks": [
                {"check": "Completeness of income fields", "result": "pass", "checked_on": day(-30)},
                {"check": "Representation of applicants under 25", "result": "partial", "checked_on": day(-30), "notes": "Under-represented before 2021"}
            ],
            "preparation_steps": "De-duplication, outlier capping, protected attributes separated for fairness testing only",
            "personal_data": true, "special_category_data": false, "owner_id": editor.user_id
        })).await?;
        let bureau = self.create_record(editor, &DATASET, &json!({"name": "Credit bureau extracts", "source": "Two national credit bureaus", "provenance": "Licensed bureau files, retained 7 years", "personal_data": true, "owner_id": editor.user_id})).await?;
        let transcripts = self.create_record(editor, &DATASET, &json!({"name": "Support transcripts (redacted)", "source": "Contact centre", "preparation_steps": "Names, account and card numbers removed automatically, then sampled for manual review", "quality_checks": [{"check": "Redaction recall on sample of 500", "result": "pass", "checked_on": day(-12)}], "personal_data": true, "owner_id": editor.user_id})).await?;
        let cvs = self.create_record(editor, &DATASET, &json!({"name": "Historic CVs and hiring outcomes", "source": "Applicant tracking system", "personal_data": true, "special_category_data": true, "quality_checks": [{"check": "Gender balance of historic hires", "result": "fail", "checked_on": day(-5), "notes": "Engineering hires 82 % male before 2022"}], "owner_id": admin.user_id})).await?;

        let scorecard = self.create_record(editor, &AI_SYSTEM, &json!({
            "name": "Credit scoring model (ScoreCard v4)",
            "purpose": "Estimate the probability of default of consumer loan applicants",
            "intended_use": "Recommend approve, refer or decline for unsecured loans up to EUR 25,000; every decline is reviewed by an underwriter",
            "foreseeable_misuse": "Using the score for pricing or marketing decisions it was not validated for",
            "ai_roles": ["ai_provider", "ai_producer"], "eu_ai_act_role": "provider",
            "owner_id": editor.user_id, "business_unit": "Consumer Lending",
            "deployment_context": "Loan origination platform, all online and branch applications",
            "geographies": ["Ireland", "Germany", "Netherlands"], "model_type": "Gradient-boosted trees with monotonic constraints",
            "data_categories": ["personal", "financial"], "dataset_ids": [applications.id, bureau.id],
            "eu_ai_act_risk_category": "high", "eu_ai_act_risk_reason": "Creditworthiness assessment of natural persons (Annex III)",
            "human_oversight_mode": "human_in_the_loop", "human_oversight_rationale": "Declines and referrals are decided by an underwriter who sees the main reasons",
            "lifecycle_stage": "operation"
        })).await?;
        let assistant = self.create_record(editor, &AI_SYSTEM, &json!({
            "name": "Customer support assistant",
            "purpose": "Answer customer questions about loans, repayments and account changes",
            "intended_use": "Answer general questions and hand over to an agent for anything about a specific decision or hardship",
            "foreseeable_misuse": "Customers asking for financial advice or trying to extract other customers' data",
            "ai_roles": ["ai_customer"], "eu_ai_act_role": "deployer", "owner_id": admin.user_id,
            "business_unit": "Customer Support", "deployment_context": "Website and mobile app chat", "geographies": ["Ireland", "Germany"],
            "model_type": "Third-party LLM with retrieval over our help centre", "data_categories": ["personal"],
            "supplier_ids": [lumen.id], "dataset_ids": [transcripts.id],
            "eu_ai_act_risk_category": "limited", "eu_ai_act_risk_reason": "Chatbot interacting with people: transparency obligations",
            "human_oversight_mode": "human_on_the_loop", "human_oversight_rationale": "Agents monitor conversations and take over on hand-over triggers",
            "lifecycle_stage": "deployment"
        })).await?;
        let screening = self.create_record(admin, &AI_SYSTEM, &json!({
            "name": "CV screening assistant",
            "purpose": "Rank applications for high-volume roles",
            "intended_use": "Suggest a shortlist for recruiters, who read every application before rejecting",
            "ai_roles": ["ai_customer"], "eu_ai_act_role": "deployer", "owner_id": admin.user_id, "business_unit": "People & Talent",
            "geographies": ["Ireland"], "model_type": "Vendor ranking model", "data_categories": ["personal", "special_category"],
            "supplier_ids": [talentsift.id], "dataset_ids": [cvs.id],
            "eu_ai_act_risk_category": "high", "eu_ai_act_risk_reason": "Recruitment and selection of natural persons (Annex III)",
            "human_oversight_mode": "human_in_the_loop", "human_oversight_rationale": "Recruiters review every ranked list before any rejection",
            "lifecycle_stage": "verification_validation"
        })).await?;

        for (kind, name, description) in [
            ("data", "Bureau and application data", "Monthly refresh, 2.1 million applications"),
            ("tooling", "MLflow model registry", "Versions, validation reports and approvals of each model"),
            ("system_computing", "Scoring service cluster", "Two availability zones; scoring latency under 200 ms"),
            ("human", "Model risk team", "Three validators independent of the developers"),
        ] {
            self.create_child_record(
                editor,
                &RESOURCE,
                &scorecard.id,
                &json!({"resource_type": kind, "name": name, "description": description}),
            )
            .await?;
        }
        for (record_type, title) in [
            ("requirements_specification", "ScoreCard v4 requirements"),
            ("design_documentation", "Model design and feature rationale"),
            ("verification_validation", "Independent validation report 2026-Q2"),
            ("deployment_plan", "Champion–challenger rollout plan"),
            ("operation_monitoring", "Monthly PSI and calibration monitoring"),
            ("technical_documentation", "Technical file for the EU AI Act"),
            ("event_logging", "Decision log retention and access"),
        ] {
            self.create_record(editor, &LIFECYCLE_RECORD, &json!({"ai_system_id": scorecard.id, "record_type": record_type, "title": title, "recorded_on": day(-60), "owner_id": editor.user_id})).await?;
        }
        self.create_record(admin, &LIFECYCLE_RECORD, &json!({"ai_system_id": screening.id, "record_type": "verification_validation", "title": "Adverse impact test on 2025 applications", "recorded_on": day(-7)})).await?;
        self.create_record(admin, &GATE, &json!({"ai_system_id": screening.id, "to_stage": "deployment", "reason": "Vendor validation complete; pilot with two recruiting teams"})).await?;

        self.patch_singleton(admin, &SCOPE, 1, &json!({
            "statement": "The AIMS covers the AI systems Northwind Lending develops or uses in consumer lending, customer support and recruitment.",
            "ai_roles": [
                {"role": "ai_provider", "context": "We build and operate the credit-scoring model"},
                {"role": "ai_customer", "context": "We use a third-party LLM in the support assistant and a vendor CV ranking model"}
            ],
            "ai_system_ids": [scorecard.id, assistant.id, screening.id],
            "business_units": ["Consumer Lending", "Customer Support", "People & Talent"],
            "geographies": ["Ireland", "Germany", "Netherlands"],
            "out_of_scope": "Internal productivity tools without decisions about people (code assistants, meeting notes), covered by the acceptable use policy"
        })).await?;
        for input in [
            json!({"title": "EU AI Act obligations for credit scoring", "issue_type": "external", "category": "legal_regulatory", "effect_on_aims": "High-risk obligations apply to ScoreCard from August 2026", "owner_id": admin.user_id, "review_on": day(90)}),
            json!({"title": "Dependence on a single LLM vendor", "issue_type": "external", "category": "technological", "effect_on_aims": "Model changes outside our control; supplier review needed"}),
            json!({"title": "Small data science team", "issue_type": "internal", "category": "organisational", "effect_on_aims": "Validation must stay independent of development"}),
        ] {
            self.create_record(admin, &CONTEXT_ISSUE, &input).await?;
        }
        for input in [
            json!({"name": "Loan applicants", "category": "affected_person", "needs_expectations": "Fair, explainable decisions and a way to contest them", "addressed_by_aims": true, "how_addressed": "Impact assessment, adverse-action reasons, human review of declines"}),
            json!({"name": "Central Bank supervisors", "category": "regulator", "needs_expectations": "Sound model risk management and EU AI Act compliance", "addressed_by_aims": true, "how_addressed": "Model risk policy, technical documentation, internal audit"}),
            json!({"name": "Support agents", "category": "employee", "needs_expectations": "Clear hand-over rules and training on the assistant's limits", "addressed_by_aims": false}),
        ] {
            self.create_record(admin, &INTERESTED_PARTY, &input).await?;
        }

        let sources = self.list_records(admin, &aims_domain::kinds::RISK_SOURCE, false, 0, 50).await?.items;
        let source = |title: &str| {
            sources.iter().find(|s| s.data.get("title").and_then(Value::as_str) == Some(title)).map(|s| json!([s.id])).unwrap_or(json!([]))
        };
        let fairness = self.create_record(editor, &RISK, &json!({
            "title": "Unfair declines for thin-file applicants", "description": "Applicants with short credit histories, often young or recently arrived, are declined more often than their repayment behaviour justifies",
            "source_category": "societal", "risk_source_ids": source("Training-data bias"), "ai_system_ids": [scorecard.id],
            "inherent_likelihood": 4, "inherent_consequence": 4, "treatment": "mitigate", "control_refs": ["A.7.4", "A.5.4", "NWL-FAIR-2"],
            "residual_likelihood": 2, "residual_consequence": 4, "owner_id": editor.user_id, "due_date": day(45), "status": "in_treatment",
            "enterprise_risk_id": "ERM-CR-014", "nist_characteristics": ["fair_harmful_bias_managed"]
        })).await?;
        self.create_record(editor, &RISK, &json!({
            "title": "Score drift after interest-rate changes", "source_category": "technical", "risk_source_ids": source("Model drift"), "ai_system_ids": [scorecard.id],
            "inherent_likelihood": 3, "inherent_consequence": 4, "treatment": "mitigate", "control_refs": ["A.6.2.6"],
            "residual_likelihood": 2, "residual_consequence": 3, "owner_id": editor.user_id, "status": "monitored", "nist_characteristics": ["valid_reliable"]
        })).await?;
        self.create_record(admin, &RISK, &json!({
            "title": "Assistant gives wrong repayment advice", "source_category": "technical", "risk_source_ids": source("Fabricated output"), "ai_system_ids": [assistant.id],
            "inherent_likelihood": 4, "inherent_consequence": 3, "treatment": "mitigate", "control_refs": ["A.8.2", "A.9.3"],
            "residual_likelihood": 3, "residual_consequence": 3, "owner_id": admin.user_id, "due_date": day(14), "status": "in_treatment", "owasp_llm": ["LLM09"]
        })).await?;
        let injection = self.create_record(admin, &RISK, &json!({
            "title": "Prompt injection exposes account data", "source_category": "technical", "risk_source_ids": source("Prompt injection"), "ai_system_ids": [assistant.id],
            "inherent_likelihood": 3, "inherent_consequence": 5, "treatment": "mitigate", "control_refs": ["A.6.2.4", "A.9.2"],
            "residual_likelihood": 2, "residual_consequence": 5, "owner_id": admin.user_id, "status": "monitored", "owasp_llm": ["LLM01", "LLM02"], "nist_characteristics": ["secure_resilient", "privacy_enhanced"]
        })).await?;
        self.transition(owner, &RISK, &injection.id, "accept", injection.version, &json!({"rationale": "The assistant has no access to account data beyond the signed-in customer's own; output filtering and quarterly red-teaming are in place. Accepted until the next management review."})).await?;
        self.create_record(admin, &RISK, &json!({
            "title": "CV ranking disadvantages career breaks", "source_category": "societal", "risk_source_ids": source("Training-data bias"), "ai_system_ids": [screening.id],
            "inherent_likelihood": 4, "inherent_consequence": 4, "owner_id": admin.user_id, "status": "assessed", "nist_characteristics": ["fair_harmful_bias_managed"]
        })).await?;

        for input in [
            json!({"title": "Add thin-file approval-rate test to the quarterly fairness review", "source": "risk_treatment", "owner_id": editor.user_id, "due_date": day(30), "status": "in_progress", "risk_ids": [fairness.id], "ai_system_ids": [scorecard.id], "control_refs": ["NWL-FAIR-2"]}),
            json!({"title": "Red-team the support assistant for prompt injection", "source": "risk_treatment", "owner_id": admin.user_id, "due_date": day(-3), "status": "open", "risk_ids": [injection.id], "ai_system_ids": [assistant.id]}),
            json!({"title": "Link every risk treatment to Annex A controls", "source": "gap_assessment", "owner_id": editor.user_id, "due_date": day(21), "requirement_refs": ["6.1.3"]}),
        ] {
            self.create_record(editor, &ACTION, &input).await?;
        }

        let scorecard_ia = self.create_record(editor, &IMPACT_ASSESSMENT, &json!({
            "ai_system_id": scorecard.id, "title": "ScoreCard v4 impact assessment",
            "affected_parties": [{"party": "individuals", "description": "Loan applicants"}, {"party": "groups", "description": "Young and recently arrived applicants with thin credit files"}],
            "impacts": [
                {"area": "fairness", "description": "Higher decline rates for thin-file applicants", "severity": "major", "likelihood": "possible", "mitigation": "Quarterly fairness testing; underwriter review of declines", "residual_severity": "moderate"},
                {"area": "transparency", "description": "Applicants cannot see why they were declined", "severity": "moderate", "likelihood": "likely", "mitigation": "Adverse-action reasons in every decline letter", "residual_severity": "minor"},
                {"area": "privacy", "description": "Bureau data used beyond the applicant's expectations", "severity": "moderate", "likelihood": "unlikely", "mitigation": "Purpose limitation and retention controls"}
            ],
            "foreseeable_misuse": "Reusing the score for marketing or pricing",
            "mitigations": "Human review of declines; fairness testing; reason codes; monitoring",
            "residual_impact": "Moderate fairness impact remains for thin-file applicants; monitored quarterly",
            "overall_level": "high"
        })).await?;
        self.transition(
            admin,
            &IMPACT_ASSESSMENT,
            &scorecard_ia.id,
            "sign-off",
            scorecard_ia.version,
            &json!({"comment": "Approved by the AI governance board"}),
        )
        .await?;
        let assistant_ia = self.create_record(editor, &IMPACT_ASSESSMENT, &json!({
            "ai_system_id": assistant.id, "title": "Support assistant impact assessment",
            "affected_parties": [{"party": "individuals", "description": "Customers using chat"}],
            "impacts": [{"area": "safety", "description": "Customers in financial difficulty given generic answers", "severity": "major", "likelihood": "possible", "mitigation": "Hardship keywords hand over to an agent"}],
            "overall_level": "medium"
        })).await?;
        self.transition(admin, &IMPACT_ASSESSMENT, &assistant_ia.id, "sign-off", assistant_ia.version, &json!({})).await?;
        self.create_record(admin, &IMPACT_ASSESSMENT, &json!({
            "ai_system_id": screening.id, "title": "CV screening impact assessment (draft)",
            "affected_parties": [{"party": "individuals", "description": "Job applicants"}, {"party": "groups", "description": "Applicants with career breaks, mostly women"}],
            "impacts": [{"area": "fairness", "description": "Career breaks lower the ranking", "severity": "major", "likelihood": "likely"}],
            "overall_level": "high"
        })).await?;
        // The assistant's model changed after its assessment was signed off: it is now due.
        let assistant_now = self.get_record(editor, &AI_SYSTEM, &assistant.id).await?;
        self.patch_record(
            editor,
            &AI_SYSTEM,
            &assistant.id,
            assistant_now.version,
            &json!({"model_type": "Third-party LLM (Lumen-4) with retrieval over our help centre"}),
        )
        .await?;
        self.publish_demo_disclosures(admin, &scorecard.id, &assistant.id).await?;
        let _ = (id(&scorecard), owner);
        Ok(())
    }

    /// Two systems' transparency disclosures (A.8), published by the admin, so the trust page
    /// has content.
    async fn publish_demo_disclosures(&self, admin: &Member, scorecard_id: &str, assistant_id: &str) -> AppResult<()> {
        self.patch_demo(admin, &aims_domain::kinds::AI_SYSTEM, scorecard_id, json!({
            "disclosure_published": true,
            "disclosure_summary": "A statistical model that estimates how likely a loan applicant is to fall behind on repayments, used when we decide on unsecured personal loans.",
            "disclosure_limitations": "It only knows what is in your application and your credit bureau file, so it can misjudge people with a short credit history or a recent change in circumstances. It was tested on loans up to EUR 25,000 and is not used for anything else, such as pricing or marketing.",
            "disclosure_human_oversight": "The model never declines an application on its own. Every decline and every referral is decided by an underwriter who sees the main reasons behind the score and can overrule it. You can ask for a person to look at your application again.",
        })).await?;
        self.patch_demo(admin, &aims_domain::kinds::AI_SYSTEM, assistant_id, json!({
            "disclosure_published": true,
            "disclosure_summary": "A chat assistant on our website and app that answers general questions about loans, repayments and account changes.",
            "disclosure_limitations": "It can be wrong, and it does not give financial advice or make decisions about your loan. It only answers from our help centre; anything about your own account, a decision or financial difficulty is handed to a person.",
            "disclosure_human_oversight": "Support agents follow conversations as they happen and take over whenever you ask for a person, or when the conversation turns to a decision or hardship. You can always ask to speak to an agent.",
        })).await
    }

    async fn patch_demo(&self, member: &Member, spec: &KindSpec, reference: &str, patch: Value) -> AppResult<()> {
        let record = self.get_record(member, spec, reference).await?;
        self.patch_record(member, spec, reference, record.version, &patch)
            .await
            .map_err(|e| AppError::Internal(format!("demo data for {reference}: {e}")))?;
        Ok(())
    }
}
