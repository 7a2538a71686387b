//! Reports (issue 17): the data of each report kind gathered from the record, rendered by
//! `aims-reports` off the async runtime, and recorded as an issued document together with the
//! version of every record it shows, with its activity event in the same transaction.
//!
//! A kind is one entry of [`REPORTS`] and one arm of [`App::gather`]: the integrator adds
//! `transparency`, `activity` and the readiness figure there.

use std::collections::HashMap;

use aims_domain::ValidationErrors;
use aims_domain::clock;
use aims_domain::identity::Role;
use aims_domain::kinds::{self, ACTION, AI_SYSTEM, AUDIT, CONTROL, FINDING, MANAGEMENT_REVIEW, REQUIREMENT, RISK, SOA};
use aims_domain::policy::Action;
use aims_domain::validate::{FieldType, KindSpec};
use aims_reports::{Block, Column, Document, Fact, Organisation, Orientation, PackEntry, Source, Table};
use aims_store::activity::{self, NewEvent};
use aims_store::issued::{self, IssuedDocument, NewIssuedDocument};
use aims_store::members;
use aims_store::model::{Actor, Member, Record};
use aims_store::page_json::Filter;
use serde_json::{Value, json};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::access::require;
use crate::members::Paged;
use crate::review::overdue_action_filters;
use crate::{App, AppError, AppResult};

/// The formats a report may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Xlsx,
    Csv,
    Docx,
    Zip,
    /// A standalone, printable web page.
    Html,
    /// The report's canonical source data: the bytes whose SHA-256 the other formats print.
    Json,
}

impl Format {
    pub const ALL: [Format; 7] = [Format::Pdf, Format::Xlsx, Format::Csv, Format::Docx, Format::Zip, Format::Html, Format::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Docx => "docx",
            Format::Zip => "zip",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == text)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Zip => "application/zip",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// One report kind: its name in the contract, its title, the formats it comes in (the first is
/// the default) and, for a report about one record, that record's kind (`?id=`).
#[derive(Debug)]
pub struct ReportSpec {
    pub kind: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub formats: &'static [Format],
    pub subject: Option<&'static KindSpec>,
}

impl ReportSpec {
    pub fn offers(&self, format: Format) -> bool {
        self.formats.contains(&format)
    }
}

/// The activity log's kind: streamed from the log rather than gathered into a [`Source`].
pub const ACTIVITY: &str = "activity";

/// Every report kind, one entry each.
pub const REPORTS: &[ReportSpec] = &[
    ReportSpec {
        kind: "soa",
        title: "Statement of Applicability",
        summary: "Every Annex A control and the organisation's own: applicability, justification, implementation",
        formats: &[Format::Pdf, Format::Xlsx, Format::Csv, Format::Docx, Format::Json],
        subject: None,
    },
    ReportSpec {
        kind: "ai-system-register",
        title: "AI system register",
        summary: "Every AI system with its purpose, roles, risk category and oversight",
        formats: &[Format::Xlsx, Format::Csv, Format::Json],
        subject: None,
    },
    ReportSpec {
        kind: "risk-register",
        title: "Risk register",
        summary: "Every AI risk with its inherent and residual levels, treatment and owner",
        formats: &[Format::Xlsx, Format::Csv, Format::Json],
        subject: None,
    },
    ReportSpec {
        kind: "management-review",
        title: "Management review",
        summary: "A closed management review: its decisions and the inputs frozen when it closed",
        formats: &[Format::Pdf, Format::Docx, Format::Json],
        subject: Some(&MANAGEMENT_REVIEW),
    },
    ReportSpec {
        kind: "internal-audit",
        title: "Internal audit report",
        summary: "An audit: scope, criteria, checklist results and findings",
        formats: &[Format::Pdf, Format::Json],
        subject: Some(&AUDIT),
    },
    ReportSpec {
        kind: "executive-summary",
        title: "Executive summary",
        summary: "One page: top risks, overdue actions, SoA and gap-assessment figures",
        formats: &[Format::Pdf, Format::Json],
        subject: None,
    },
    ReportSpec {
        kind: "stage1-pack",
        title: "Stage 1 document pack",
        summary: "Every item of documented information clauses 4–10 require, as PDF (and DOCX) with its source data and a manifest",
        formats: &[Format::Zip],
        subject: None,
    },
    ReportSpec {
        kind: "transparency",
        title: "AI transparency disclosures",
        summary: "The disclosures published on the trust page (A.8): intended use, limitations, human oversight",
        formats: &[Format::Html, Format::Pdf, Format::Json],
        subject: None,
    },
    ReportSpec {
        kind: "activity",
        title: "Activity log",
        summary: "Every event of the hash-chained log: CSV, or JSON signed with the organisation's key for outsiders to verify",
        formats: &[Format::Csv, Format::Json],
        subject: None,
    },
];

pub fn report_spec(kind: &str) -> Option<&'static ReportSpec> {
    REPORTS.iter().find(|spec| spec.kind == kind)
}

/// A generated report, ready to hand over.
#[derive(Debug)]
pub struct Generated {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
    pub sha256: String,
    /// The SHA-256 of the source data (what the document's footer prints).
    pub source_sha256: String,
    /// The issued-document record (none for `format=json`, which is the means of checking).
    pub issued_id: Option<String>,
    /// Notes for the person who asked (what a pack lacks).
    pub notes: Vec<String>,
}

/// An issued document with the records changed since it was issued.
#[derive(Debug, Clone)]
pub struct IssuedView {
    pub document: IssuedDocument,
    pub drifted: Vec<DriftedRecord>,
}

#[derive(Debug, Clone)]
pub struct DriftedRecord {
    pub kind: String,
    pub id: String,
    pub reference: Option<String>,
    pub title: String,
    pub issued_version: i64,
    pub current_version: i64,
}

/// Reports progress of long work (the Stage 1 pack): `(done, total, what)`.
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &str) + Send + Sync);

/// The most issued documents one page lists.
pub const ISSUED_PAGE_MAX: i64 = 200;

impl App {
    /// Checks a request for a report: the kind (404 when unknown), the format (422 naming
    /// `format`) and the subject record (422 naming `id` when missing or not allowed, 404 when
    /// unknown or another organisation's).
    pub async fn check_report_request(
        &self,
        member: &Member,
        kind: &str,
        format: Option<&str>,
        id: Option<&str>,
    ) -> AppResult<(&'static ReportSpec, Format, Option<Record>)> {
        require(member, Action::Read)?;
        let spec = report_spec(kind).ok_or_else(|| AppError::NotFound(format!("report kind {kind}")))?;
        let offered = spec.formats.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
        let mut errors = ValidationErrors::default();
        let format = match format {
            None => spec.formats[0],
            Some(text) => match Format::parse(text).filter(|f| spec.offers(*f)) {
                Some(format) => format,
                None => {
                    errors.push("format", "invalid_choice", &format!("the {} report comes as one of: {offered}", spec.kind));
                    spec.formats[0]
                }
            },
        };
        match (spec.subject, id) {
            (Some(_), None) => errors.push("id", "required", &format!("the id of the {} the report is about", subject_label(spec))),
            (None, Some(_)) => errors.push("id", "not_allowed", &format!("the {} report is about the whole organisation", spec.kind)),
            _ => {}
        }
        errors.into_result()?;
        let subject = match (spec.subject, id) {
            (Some(subject_spec), Some(id)) => Some(self.report_subject(member, spec, subject_spec, id).await?),
            _ => None,
        };
        Ok((spec, format, subject))
    }

    async fn report_subject(&self, member: &Member, spec: &ReportSpec, subject: &KindSpec, id: &str) -> AppResult<Record> {
        let record = self.get_record_by_id(member, subject, id).await?;
        if spec.kind == "management-review" && record.state.as_deref() != Some("closed") {
            let mut errors = ValidationErrors::default();
            errors.push("id", "not_closed", "the management review is not closed yet: its pack is frozen when it closes");
            errors.into_result()?;
        }
        Ok(record)
    }

    /// Generates a report and records it as issued (with its activity event).
    pub async fn generate_report(
        &self,
        member: &Member,
        kind: &str,
        format: Option<&str>,
        id: Option<&str>,
        actor: &Actor,
        progress: Progress<'_>,
    ) -> AppResult<Generated> {
        let (spec, format, subject) = self.check_report_request(member, kind, format, id).await?;
        if spec.kind == ACTIVITY {
            return self.activity_report(member, format).await?.collect(member).await;
        }
        let generated_at = generation_time();
        let date = clock::format_date(clock::today());
        let file_name = format!("{}-{}-{}.{}", member.org_slug, spec.kind, date, format.as_str());
        let (bytes, source_sha256, made_from, notes) = if format == Format::Zip {
            self.stage1_pack(member, &generated_at, progress).await?
        } else {
            let document = self.gather(member, spec, subject.as_ref(), &generated_at).await?;
            let made_from = made_from(&document);
            let sha = document.sha256().to_owned();
            let bytes = render(document, format).await?;
            (bytes, sha, made_from, Vec::new())
        };
        let sha256 = aims_reports::sha256_hex(&bytes);
        let issued_id = if format == Format::Json {
            None
        } else {
            let issued =
                Issue { spec, format, subject: subject.as_ref(), file_name: &file_name, sha256: &sha256, source_sha256: &source_sha256 };
            Some(self.record_issued(member, actor, &issued, &made_from).await?)
        };
        Ok(Generated { bytes, content_type: format.content_type(), file_name, sha256, source_sha256, issued_id, notes })
    }

    /// The organisation as the operator's command line reads it for a report: a reader (the
    /// viewer role), acting as the system actor given to [`generate_report`](Self::generate_report).
    pub async fn report_reader(&self, org_slug: &str) -> AppResult<Member> {
        let org = self.org_by_slug(org_slug).await?;
        Ok(Member {
            org_id: org.id,
            org_slug: org.slug,
            org_name: org.name,
            user_id: String::new(),
            email: String::new(),
            display_name: "aims command line".into(),
            role: Role::Viewer,
        })
    }

    async fn record_issued(&self, member: &Member, actor: &Actor, issue: &Issue<'_>, made_from: &[issued::MadeFrom]) -> AppResult<String> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = clock::now_text();
        let subject_id = issue.subject.map(|record| record.id.as_str());
        let mut tx = self.db.begin_write().await?;
        let doc = NewIssuedDocument {
            id: &id,
            org_id: &member.org_id,
            kind: issue.spec.kind,
            format: issue.format.as_str(),
            subject_id,
            file_name: issue.file_name,
            sha256: issue.sha256,
            source_sha256: issue.source_sha256,
            issued_by: actor.user_id(),
            issued_at: &now,
        };
        issued::insert(&mut tx, &doc, made_from).await?;
        let changes = json!({
            "kind": issue.spec.kind, "format": issue.format.as_str(), "subject_id": subject_id,
            "file_name": issue.file_name, "sha256": issue.sha256, "source_sha256": issue.source_sha256,
            "records": made_from.len(),
        });
        activity::append(
            &mut tx,
            &member.org_id,
            actor,
            NewEvent { action: "issue", record_type: "issued_document", record_id: &id, changes },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A page of issued documents, newest first, each with the records changed since.
    pub async fn issued_documents(&self, member: &Member, cursor: Option<&str>, limit: i64) -> AppResult<Paged<IssuedView>> {
        require(member, Action::Read)?;
        let limit = limit.clamp(1, ISSUED_PAGE_MAX);
        let before = cursor.map(decode_issued_cursor).transpose()?;
        let mut rows = issued::page(&self.db, &member.org_id, before.as_ref().map(|(a, b)| (a.as_str(), b.as_str())), limit).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|d| encode_issued_cursor(&d.issued_at, &d.id)) } else { None };
        let items = self.with_drift(member, rows).await?;
        Ok(Paged { items, next_cursor })
    }

    /// One issued document with its drift (404 when unknown or another organisation's).
    pub async fn issued_document(&self, member: &Member, id: &str) -> AppResult<IssuedView> {
        require(member, Action::Read)?;
        let document =
            issued::get(&self.db, &member.org_id, id).await?.ok_or_else(|| AppError::NotFound(format!("issued document {id}")))?;
        let mut views = self.with_drift(member, vec![document]).await?;
        views.pop().ok_or_else(|| AppError::Internal("issued document vanished".into()))
    }

    async fn with_drift(&self, member: &Member, documents: Vec<IssuedDocument>) -> AppResult<Vec<IssuedView>> {
        let ids: Vec<String> = documents.iter().map(|d| d.id.clone()).collect();
        let mut drift: HashMap<String, Vec<DriftedRecord>> = HashMap::new();
        for row in issued::drifted(&self.db, &member.org_id, &ids).await? {
            let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
            let title = ["title", "name"].iter().find_map(|f| data.get(*f).and_then(Value::as_str)).unwrap_or_default().to_owned();
            drift.entry(row.document_id).or_default().push(DriftedRecord {
                kind: row.record_kind,
                id: row.record_id,
                reference: row.reference,
                title,
                issued_version: row.issued_version,
                current_version: row.current_version,
            });
        }
        Ok(documents.into_iter().map(|document| IssuedView { drifted: drift.remove(&document.id).unwrap_or_default(), document }).collect())
    }

    /// The source data of one report (the match arm each kind adds).
    async fn gather(&self, member: &Member, spec: &ReportSpec, subject: Option<&Record>, generated_at: &str) -> AppResult<Document> {
        let org = Organisation { slug: member.org_slug.clone(), name: member.org_name.clone() };
        let mut source = Source::new(spec.kind, spec.title, org);
        let names = self.member_names(member).await?;
        let orientation = match (spec.kind, subject) {
            ("soa", _) => {
                self.soa_source(member, &names, &mut source).await?;
                Orientation::Landscape
            }
            ("ai-system-register", _) => {
                let systems = self.all_records(member, &AI_SYSTEM, &[]).await?;
                register(&mut source, &AI_SYSTEM, &systems, &names, &AI_SYSTEM_COLUMNS);
                Orientation::Landscape
            }
            ("risk-register", _) => {
                let risks = self.all_records(member, &RISK, &[]).await?;
                register(&mut source, &RISK, &risks, &names, &RISK_COLUMNS);
                Orientation::Landscape
            }
            ("management-review", Some(review)) => {
                self.review_source(member, review, &names, &mut source).await?;
                Orientation::Portrait
            }
            ("internal-audit", Some(audit)) => {
                self.audit_source(member, audit, &names, &mut source).await?;
                Orientation::Portrait
            }
            ("transparency", _) => {
                self.transparency_source(member, &mut source).await?;
                Orientation::Portrait
            }
            ("executive-summary", _) => {
                self.executive_summary(member, &names, &mut source).await?;
                Orientation::Portrait
            }
            _ => return Err(AppError::NotFound(format!("report kind {}", spec.kind))),
        };
        Ok(Document::new(source, generated_at, orientation).map_err(internal)?)
    }

    /// Every live record of a kind matching `filters`, page by page (no cap: a register may
    /// hold tens of thousands).
    async fn all_records(&self, member: &Member, spec: &KindSpec, filters: &[Filter]) -> AppResult<Vec<Record>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.list_records_where(member, spec, false, filters, after, 200).await?;
            out.extend(page.items);
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(out),
            }
        }
    }

    /// Members' display names by user id, for owner and author fields.
    async fn member_names(&self, member: &Member) -> AppResult<HashMap<String, String>> {
        let mut names = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = members::page(&self.db, &member.org_id, after.as_deref(), 200).await?;
            let more = page.len() > 200;
            for m in page.into_iter().take(200) {
                after = Some(m.email.clone());
                let name = if m.display_name.trim().is_empty() { m.email } else { m.display_name };
                names.insert(m.user_id, name);
            }
            if !more {
                return Ok(names);
            }
        }
    }

    async fn soa_source(&self, member: &Member, names: &HashMap<String, String>, source: &mut Source) -> AppResult<()> {
        let soa = self.get_singleton(member, &SOA).await?;
        let controls = self.all_records(member, &CONTROL, &[]).await?;
        source.shows(&soa.kind, &soa.id, soa.version);
        let applicable = controls.iter().filter(|c| c.data.get("applicable").and_then(Value::as_bool).unwrap_or(true)).count();
        let implemented = controls.iter().filter(|c| text(c, "implementation_status") == "implemented").count();
        let mut facts = vec![
            Fact::new("Status", soa.state.clone().unwrap_or_default().replace('_', " ")),
            Fact::new("Controls", controls.len().to_string()),
            Fact::new("Applicable", applicable.to_string()),
            Fact::new("Excluded", (controls.len() - applicable).to_string()),
            Fact::new("Implemented", implemented.to_string()),
        ];
        if let Some(by) = soa.data.get("approved_by").and_then(Value::as_str) {
            facts.push(Fact::new("Approved by", name_of(names, by)));
            facts.push(Fact::new("Approved at", day(text(&soa, "approved_at"))));
        }
        facts.push(Fact::new("SoA version", soa.version.to_string()));
        source.push(Block::Facts { items: facts });
        source.heading("Controls");
        let mut table = Table {
            name: "Statement of Applicability".into(),
            columns: vec![
                Column::new("Ref", 1),
                Column::new("Control", 3),
                Column::new("Applicable", 1),
                Column::new("Justification", 4),
                Column::new("Implementation", 2),
                Column::new("Owner", 2),
                Column::new("Last review", 1),
                Column::new("Version", 1),
            ],
            rows: Vec::with_capacity(controls.len()),
        };
        for control in &controls {
            source.shows(&control.kind, &control.id, control.version);
            let applicable = control.data.get("applicable").and_then(Value::as_bool).unwrap_or(true);
            table.rows.push(vec![
                control.reference.clone().unwrap_or_default(),
                text(control, "title").to_owned(),
                if applicable { "Yes".into() } else { "No".into() },
                text(control, "justification").to_owned(),
                text(control, "implementation_status").replace('_', " "),
                name_of(names, text(control, "owner_id")),
                text(control, "last_reviewed_on").to_owned(),
                control.version.to_string(),
            ]);
        }
        source.push(Block::Table(table));
        Ok(())
    }

    async fn review_source(&self, member: &Member, review: &Record, names: &HashMap<String, String>, source: &mut Source) -> AppResult<()> {
        source.shows(&review.kind, &review.id, review.version);
        source.title = format!("Management review: {}", text(review, "title"));
        source.push(Block::Facts { items: record_facts(&MANAGEMENT_REVIEW, review, names) });
        let pack = self.review_inputs(member, review).await?;
        source.heading("Inputs reviewed (frozen when the review closed)");
        json_blocks(source, &pack, names, 0);
        Ok(())
    }

    async fn audit_source(&self, member: &Member, audit: &Record, names: &HashMap<String, String>, source: &mut Source) -> AppResult<()> {
        source.shows(&audit.kind, &audit.id, audit.version);
        source.title = format!("Internal audit report: {}", text(audit, "title"));
        source.push(Block::Facts { items: record_facts(&AUDIT, audit, names) });
        if let Some(summary) = audit.data.get("report_summary").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            source.heading("Summary");
            source.paragraph(summary);
        }
        if let Some(checklist) = audit.data.get("checklist").filter(|c| c.as_array().is_some_and(|a| !a.is_empty())) {
            source.heading("Checklist");
            json_blocks(source, &json!({"Checklist": checklist}), names, 1);
        }
        let findings = self.all_records(member, &FINDING, &[Filter::Link { field: "audit_id", id: audit.id.clone() }]).await?;
        source.heading("Findings");
        register(source, &FINDING, &findings, names, &["title", "classification", "description", "requirement_refs", "control_refs"]);
        Ok(())
    }

    async fn executive_summary(&self, member: &Member, names: &HashMap<String, String>, source: &mut Source) -> AppResult<()> {
        let risks = self.all_records(member, &RISK, &[]).await?;
        let mut ranked: Vec<&Record> = risks.iter().filter(|r| !matches!(text(r, "status"), "closed")).collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.data.get("residual_score").and_then(Value::as_i64).unwrap_or(0)));
        let today = clock::format_date(clock::today());
        let overdue = self.all_records(member, &ACTION, &overdue_action_filters(&today)).await?;
        let controls = self.all_records(member, &CONTROL, &[]).await?;
        let requirements = self.all_records(member, &REQUIREMENT, &[]).await?;
        // The figures are about Annex A: the organisation's own controls are listed in the SoA but
        // not counted here.
        let annex_a: Vec<&Record> = controls.iter().filter(|c| is_annex_a(c)).collect();
        let applicable_controls: Vec<&&Record> =
            annex_a.iter().filter(|c| c.data.get("applicable").and_then(Value::as_bool).unwrap_or(true)).collect();
        let applicable = applicable_controls.len();
        let implemented = applicable_controls.iter().filter(|c| text(c, "implementation_status") == "implemented").count();
        let readiness = self.readiness(member).await?;
        let in_place = requirements.iter().filter(|r| text(r, "status") == "in_place").count();
        let partial = requirements.iter().filter(|r| text(r, "status") == "partial").count();
        source.push(Block::Facts {
            items: vec![
                Fact::new("Audit readiness", format!("{}%", readiness.overall)),
                Fact::new(
                    "Readiness gaps",
                    format!("{} high, {} medium, {} low", readiness.gap_counts.high, readiness.gap_counts.medium, readiness.gap_counts.low),
                ),
                Fact::new("Annex A controls applicable", format!("{applicable} of {}", annex_a.len())),
                Fact::new("Applicable controls implemented", format!("{implemented} of {applicable}")),
                Fact::new("Requirements (clauses 4–10) in place", format!("{in_place} of {} ({partial} partly)", requirements.len())),
                Fact::new("Open risks", ranked.len().to_string()),
                Fact::new("Overdue actions", overdue.len().to_string()),
            ],
        });
        for record in controls.iter().chain(&requirements) {
            source.shows(&record.kind, &record.id, record.version);
        }
        if !readiness.stage1.is_empty() {
            source.heading("Missing for a Stage 1 audit");
            let rows = readiness.stage1.iter().map(|rule| vec![rule.reference.to_owned(), rule.title.to_owned()]).collect();
            source.push(Block::Table(Table {
                name: "Stage 1".into(),
                columns: vec![Column::new("Reference", 1), Column::new("What is missing", 5)],
                rows,
            }));
        }
        source.heading("Top risks by residual level");
        let top: Vec<Record> = ranked.into_iter().take(TOP_RISKS).cloned().collect();
        register(source, &RISK, &top, names, &["title", "residual_level", "inherent_level", "treatment", "owner_id", "due_date"]);
        source.heading("Overdue actions");
        let shown: Vec<Record> = overdue.into_iter().take(OVERDUE_SHOWN).collect();
        register(source, &ACTION, &shown, names, &["title", "owner_id", "due_date", "status"]);
        Ok(())
    }

    /// The Stage 1 pack: every item clauses 4–10 ask to be documented, each as PDF (and DOCX
    /// where the organisation edits and signs it) plus its source data, and a manifest.
    async fn stage1_pack(
        &self,
        member: &Member,
        generated_at: &str,
        progress: Progress<'_>,
    ) -> AppResult<(Vec<u8>, String, Vec<issued::MadeFrom>, Vec<String>)> {
        let names = self.member_names(member).await?;
        let mut entries = Vec::new();
        let mut missing = Vec::new();
        let mut made: Vec<issued::MadeFrom> = Vec::new();
        let total = STAGE1_ITEMS.len() + 2;
        for (index, item) in STAGE1_ITEMS.iter().enumerate() {
            progress(index, total, item.title);
            let org = Organisation { slug: member.org_slug.clone(), name: member.org_name.clone() };
            let mut source = Source::new(item.folder, item.title, org);
            source.paragraph(item.clause);
            let mut any = false;
            for spec_name in item.kinds {
                let Some(spec) = kinds::by_kind(spec_name) else { continue };
                let records = self.all_records(member, spec, &[]).await?;
                if records.is_empty() {
                    continue;
                }
                any = true;
                if item.kinds.len() > 1 {
                    source.heading(spec.plural_label);
                }
                if spec.singleton || item.detailed {
                    for record in &records {
                        source.shows(&record.kind, &record.id, record.version);
                        if !spec.singleton {
                            source.heading(title(record));
                        }
                        source.push(Block::Facts { items: record_facts(spec, record, &names) });
                    }
                } else {
                    let columns = compact_columns(spec);
                    register(&mut source, spec, &records, &names, &columns);
                }
            }
            if !any {
                missing.push(format!("{}: {}", item.title, item.missing));
                continue;
            }
            let document = Document::new(source, generated_at, Orientation::Portrait).map_err(internal)?;
            made.extend(made_from(&document));
            self.pack_item(&mut entries, item.folder, document, item.docx).await?;
        }
        progress(STAGE1_ITEMS.len(), total, "Statement of Applicability");
        let soa = self.gather(member, report_spec_or("soa")?, None, generated_at).await?;
        made.extend(made_from(&soa));
        self.pack_item(&mut entries, "06-statement-of-applicability", soa, true).await?;
        progress(STAGE1_ITEMS.len() + 1, total, "Management review results");
        let reviews = self.all_records(member, &MANAGEMENT_REVIEW, &[Filter::State("closed".into())]).await?;
        match reviews.last() {
            Some(review) => {
                let document = self.gather(member, report_spec_or("management-review")?, Some(review), generated_at).await?;
                made.extend(made_from(&document));
                self.pack_item(&mut entries, "13-management-review", document, true).await?;
            }
            None => missing.push("Management review results (9.3): no management review closed yet".into()),
        }
        progress(total, total, "manifest");
        let (bytes, manifest) = tokio::task::spawn_blocking({
            let slug = member.org_slug.clone();
            let at = generated_at.to_owned();
            let missing = missing.clone();
            move || aims_reports::build_pack("stage1-pack", &slug, &at, &entries, missing)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(internal)?;
        let manifest_json =
            serde_json::to_vec(&manifest.files.iter().map(|f| (&f.path, &f.sha256)).collect::<Vec<_>>()).map_err(|e| internal(e.into()))?;
        made.sort();
        made.dedup();
        Ok((bytes, aims_reports::sha256_hex(&manifest_json), made, missing))
    }

    async fn pack_item(&self, entries: &mut Vec<PackEntry>, folder: &str, document: Document, docx: bool) -> AppResult<()> {
        let folder = folder.to_owned();
        let rendered = tokio::task::spawn_blocking(move || -> aims_reports::ReportResult<Vec<PackEntry>> {
            let mut out = vec![
                PackEntry { path: format!("{folder}/{folder}.pdf"), bytes: document.pdf()? },
                PackEntry { path: format!("{folder}/{folder}.json"), bytes: document.source_json().to_vec() },
            ];
            if docx {
                out.push(PackEntry { path: format!("{folder}/{folder}.docx"), bytes: document.docx()? });
            }
            Ok(out)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(internal)?;
        entries.extend(rendered);
        Ok(())
    }
}

struct Issue<'a> {
    spec: &'a ReportSpec,
    format: Format,
    subject: Option<&'a Record>,
    file_name: &'a str,
    sha256: &'a str,
    source_sha256: &'a str,
}

/// How many risks the one-page executive summary lists, and how many overdue actions.
const TOP_RISKS: usize = 8;
const OVERDUE_SHOWN: usize = 8;

const AI_SYSTEM_COLUMNS: [&str; 13] = [
    "name",
    "purpose",
    "intended_use",
    "ai_roles",
    "eu_ai_act_role",
    "eu_ai_act_risk_category",
    "owner_id",
    "business_unit",
    "model_type",
    "geographies",
    "data_categories",
    "human_oversight_mode",
    "human_oversight_rationale",
];

const RISK_COLUMNS: [&str; 15] = [
    "title",
    "source_category",
    "inherent_likelihood",
    "inherent_consequence",
    "inherent_level",
    "treatment",
    "control_refs",
    "residual_likelihood",
    "residual_consequence",
    "residual_level",
    "owner_id",
    "due_date",
    "status",
    "enterprise_risk_id",
    "acceptance_rationale",
];

/// One item of the Stage 1 pack: the kinds of record it is made of.
struct Stage1Item {
    folder: &'static str,
    title: &'static str,
    clause: &'static str,
    kinds: &'static [&'static str],
    /// Each record shown in full (a policy, a procedure) rather than as a row of a register.
    detailed: bool,
    docx: bool,
    missing: &'static str,
}

const STAGE1_ITEMS: &[Stage1Item] = &[
    Stage1Item {
        folder: "01-scope",
        title: "Scope of the AI management system",
        clause: "Clause 4.3: the boundaries and applicability of the AI management system.",
        kinds: &["scope", "context_issue", "interested_party"],
        detailed: false,
        docx: true,
        missing: "no scope recorded",
    },
    Stage1Item {
        folder: "02-ai-policy",
        title: "AI policy",
        clause: "Clause 5.2: the AI policy and the policies that support it.",
        kinds: &["policy"],
        detailed: true,
        docx: true,
        missing: "no policy recorded",
    },
    Stage1Item {
        folder: "03-objectives",
        title: "AI objectives",
        clause: "Clause 6.2: the AI objectives and how they are measured.",
        kinds: &["objective"],
        detailed: false,
        docx: false,
        missing: "no objective recorded",
    },
    Stage1Item {
        folder: "04-risk-process",
        title: "Risk assessment and treatment process",
        clause: "Clauses 6.1.2 and 6.1.3: the risk criteria and the assessment method.",
        kinds: &["risk_criteria"],
        detailed: false,
        docx: false,
        missing: "no risk criteria recorded",
    },
    Stage1Item {
        folder: "05-risk-results",
        title: "Risk assessment and treatment results",
        clause: "Clauses 8.2 and 8.3: the risks assessed and their treatment.",
        kinds: &["risk", "action"],
        detailed: false,
        docx: false,
        missing: "no risk assessed yet",
    },
    Stage1Item {
        folder: "07-impact-assessments",
        title: "AI system impact assessment process and results",
        clause: "Clauses 6.1.4 and 8.4: the impact assessments of the AI systems.",
        kinds: &["impact_assessment"],
        detailed: false,
        docx: false,
        missing: "no impact assessment recorded",
    },
    Stage1Item {
        folder: "08-competence",
        title: "Competence",
        clause: "Clause 7.2: the competence needed and the evidence of it.",
        kinds: &["competence", "training"],
        detailed: false,
        docx: false,
        missing: "no competence recorded",
    },
    Stage1Item {
        folder: "09-operational-planning",
        title: "Operational planning and control",
        clause: "Clause 8.1: the AI systems, their lifecycle records and gates.",
        kinds: &["ai_system", "lifecycle_record", "gate"],
        detailed: false,
        docx: false,
        missing: "no AI system or lifecycle record recorded",
    },
    Stage1Item {
        folder: "10-monitoring-results",
        title: "Monitoring and measurement results",
        clause: "Clause 9.1: what is monitored and the results.",
        kinds: &["measurement"],
        detailed: false,
        docx: false,
        missing: "no measurement recorded",
    },
    Stage1Item {
        folder: "11-audit-programme",
        title: "Audit programme and results",
        clause: "Clause 9.2: the audit programme, the audits and their findings.",
        kinds: &["audit_programme", "audit", "finding"],
        detailed: false,
        docx: false,
        missing: "no audit programme recorded",
    },
    Stage1Item {
        folder: "12-nonconformities",
        title: "Nonconformities and corrective actions",
        clause: "Clause 10.2: the nonconformities, the actions taken and their results.",
        kinds: &["nonconformity"],
        detailed: false,
        docx: false,
        missing: "no nonconformity recorded",
    },
];

const ISSUED_CURSOR: &str = "d1.";

fn encode_issued_cursor(issued_at: &str, id: &str) -> String {
    format!("{ISSUED_CURSOR}{}", URL_SAFE_NO_PAD.encode(format!("{issued_at}|{id}")))
}

fn decode_issued_cursor(cursor: &str) -> AppResult<(String, String)> {
    cursor
        .strip_prefix(ISSUED_CURSOR)
        .and_then(|rest| URL_SAFE_NO_PAD.decode(rest).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|key| key.split_once('|').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .ok_or_else(|| AppError::Validation(ValidationErrors::single("cursor", "invalid", "not a cursor of this list")))
}

fn report_spec_or(kind: &str) -> AppResult<&'static ReportSpec> {
    report_spec(kind).ok_or_else(|| AppError::Internal(format!("report kind {kind} is not declared")))
}

fn subject_label(spec: &ReportSpec) -> String {
    spec.subject.map(|s| s.label.to_lowercase()).unwrap_or_default()
}

fn internal(error: aims_reports::ReportError) -> AppError {
    AppError::Internal(error.to_string())
}

fn generation_time() -> String {
    let now = clock::now_text();
    // "2026-12-08T01:20:33.123Z" → "2026-12-08 01:20 UTC"
    match (now.get(..10), now.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => now,
    }
}

fn made_from(document: &Document) -> Vec<issued::MadeFrom> {
    document.source.records.iter().map(|r| (r.kind.clone(), r.id.clone(), r.version)).collect()
}

/// Renders off the async runtime: typst and the spreadsheet writer are CPU-bound.
async fn render(document: Document, format: Format) -> AppResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || match format {
        Format::Pdf => document.pdf(),
        Format::Xlsx => document.xlsx(),
        Format::Csv => document.csv(),
        Format::Docx => document.docx(),
        Format::Html => document.html(),
        Format::Json => Ok(document.source_json().to_vec()),
        Format::Zip => Err(aims_reports::ReportError::NoTable("ZIP")),
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(internal)
}

fn text<'a>(record: &'a Record, field: &str) -> &'a str {
    record.data.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn title(record: &Record) -> String {
    let t = text(record, "title");
    let t = if t.is_empty() { text(record, "name") } else { t };
    if t.is_empty() { record.reference.clone().unwrap_or_else(|| record.id.clone()) } else { t.to_owned() }
}

fn day(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_owned()
}

fn name_of(names: &HashMap<String, String>, user_id: &str) -> String {
    if user_id.is_empty() { String::new() } else { names.get(user_id).cloned().unwrap_or_else(|| user_id.to_owned()) }
}

/// A field's value as a reader sees it: lists joined, choices without underscores, people by
/// name, nested objects as compact JSON.
fn show(value: &Value, ty: Option<&FieldType>, names: &HashMap<String, String>) -> String {
    match (value, ty) {
        (Value::Null, _) => String::new(),
        (Value::String(s), Some(FieldType::UserId)) => name_of(names, s),
        (Value::String(s), Some(FieldType::Choice(_))) => s.replace('_', " "),
        (Value::String(s), _) => s.clone(),
        (Value::Bool(b), _) => {
            if *b {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        (Value::Number(n), _) => n.to_string(),
        (Value::Array(items), Some(FieldType::ChoiceList(_))) => {
            items.iter().filter_map(Value::as_str).map(|s| s.replace('_', " ")).collect::<Vec<_>>().join(", ")
        }
        (Value::Array(items), _) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(|i| show(i, None, names)).collect::<Vec<_>>().join(", ")
        }
        (other, _) => other.to_string(),
    }
}

/// The label and type of a field or system field of `spec`.
fn field_info(spec: &KindSpec, name: &str) -> (String, Option<FieldType>) {
    if let Some(field) = spec.fields.iter().find(|f| f.name == name) {
        return (field.label.to_owned(), Some(field.ty));
    }
    let label = name.replace('_', " ");
    let mut chars = label.chars();
    let label = chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default();
    let ty = if name.ends_with("_by") || name.ends_with("_id") && !name.ends_with("risk_id") { Some(FieldType::UserId) } else { None };
    (label, ty)
}

/// The record's non-empty fields as labelled facts, with its version.
fn record_facts(spec: &KindSpec, record: &Record, names: &HashMap<String, String>) -> Vec<Fact> {
    let mut facts = Vec::new();
    if let Some(reference) = &record.reference {
        facts.push(Fact::new("Reference", reference.clone()));
    }
    for field in spec.fields {
        if matches!(field.ty, FieldType::Ids { .. } | FieldType::Link { .. } | FieldType::Items { .. }) {
            continue;
        }
        let value = record.data.get(field.name).map(|v| show(v, Some(&field.ty), names)).unwrap_or_default();
        if !value.is_empty() {
            facts.push(Fact::new(field.label, value));
        }
    }
    if let Some(state) = &record.state {
        facts.push(Fact::new("State", state.replace('_', " ")));
    }
    facts.push(Fact::new("Version", record.version.to_string()));
    facts.push(Fact::new("Last changed", day(&record.updated_at)));
    facts
}

/// Columns of a compact register in a pack PDF: the title, up to five short fields, the state.
fn compact_columns(spec: &KindSpec) -> Vec<&'static str> {
    spec.fields
        .iter()
        .filter(|f| match f.ty {
            FieldType::Text { max } => max <= 300,
            FieldType::Choice(_)
            | FieldType::Date
            | FieldType::UserId
            | FieldType::Integer { .. }
            | FieldType::Number
            | FieldType::Bool => true,
            FieldType::Refs { .. } => true,
            _ => false,
        })
        .map(|f| f.name)
        .take(6)
        .collect()
}

/// A register of records of one kind as a table (every row with its version), and the versions
/// shown.
fn register(source: &mut Source, spec: &KindSpec, records: &[Record], names: &HashMap<String, String>, fields: &[&str]) {
    let mut columns: Vec<Column> = Vec::new();
    let mut infos = Vec::new();
    for name in fields {
        let (label, ty) = field_info(spec, name);
        let width = match ty {
            Some(FieldType::Text { max }) if max > 300 => 4,
            Some(FieldType::Text { .. }) => 3,
            Some(FieldType::ChoiceList(_) | FieldType::TextList { .. } | FieldType::Refs { .. }) => 2,
            _ if *name == "title" || *name == "name" || *name == "description" => 3,
            _ => 1,
        };
        columns.push(Column::new(&label, width));
        infos.push((*name, ty));
    }
    if spec.initial_state.is_some() {
        columns.push(Column::new("State", 1));
    }
    columns.push(Column::new("Version", 1));
    let mut table = Table { name: spec.plural_label.to_owned(), columns, rows: Vec::with_capacity(records.len()) };
    for record in records {
        source.shows(&record.kind, &record.id, record.version);
        let mut row: Vec<String> =
            infos.iter().map(|(name, ty)| record.data.get(*name).map(|v| show(v, ty.as_ref(), names)).unwrap_or_default()).collect();
        if spec.initial_state.is_some() {
            row.push(record.state.clone().unwrap_or_default().replace('_', " "));
        }
        row.push(record.version.to_string());
        table.rows.push(row);
    }
    source.push(Block::Table(table));
}

/// A frozen JSON pack (a management review's inputs, an audit checklist) as blocks: objects
/// become headed sections, lists of objects tables, scalars facts.
fn json_blocks(source: &mut Source, value: &Value, names: &HashMap<String, String>, depth: usize) {
    let Value::Object(map) = value else {
        source.paragraph(show(value, None, names));
        return;
    };
    let mut facts = Vec::new();
    for (key, item) in map {
        let label = field_info(&kinds::BASE, key).0;
        match item {
            Value::Array(rows) if rows.iter().any(Value::is_object) => {
                flush_facts(source, &mut facts);
                if depth > 0 || !label.is_empty() {
                    source.heading(label);
                }
                source.push(Block::Table(object_table(key, rows, names)));
            }
            Value::Object(_) if depth < 2 => {
                flush_facts(source, &mut facts);
                source.heading(label);
                json_blocks(source, item, names, depth + 1);
            }
            other => {
                let shown = show(other, field_info(&kinds::BASE, key).1.as_ref(), names);
                facts.push(Fact::new(&label, if shown.is_empty() { "—".to_owned() } else { shown }));
            }
        }
    }
    flush_facts(source, &mut facts);
}

fn flush_facts(source: &mut Source, facts: &mut Vec<Fact>) {
    if !facts.is_empty() {
        source.push(Block::Facts { items: std::mem::take(facts) });
    }
}

/// A list of objects as a table whose columns are the keys in order of first appearance.
fn object_table(name: &str, rows: &[Value], names: &HashMap<String, String>) -> Table {
    let mut keys: Vec<String> = Vec::new();
    for row in rows {
        if let Value::Object(map) = row {
            for key in map.keys() {
                if !keys.contains(key) && key != "id" {
                    keys.push(key.clone());
                }
            }
        }
    }
    let columns = keys
        .iter()
        .map(|k| Column::new(&field_info(&kinds::BASE, k).0, if k == "title" || k == "notes" || k == "description" { 3 } else { 1 }))
        .collect();
    let rows = rows
        .iter()
        .map(|row| {
            keys.iter().map(|k| row.get(k).map(|v| show(v, field_info(&kinds::BASE, k).1.as_ref(), names)).unwrap_or_default()).collect()
        })
        .collect();
    Table { name: field_info(&kinds::BASE, name).0, columns, rows }
}

/// The activity log as a report: CSV of every event, or the signed export handed out a chunk at
/// a time (so a caller can stream a log of millions of events).
pub enum ActivityReport {
    Csv(Vec<u8>),
    Signed(crate::activity_export::ActivityExport),
}

impl ActivityReport {
    /// The whole report in memory, for callers that write one file (tests, small logs).
    async fn collect(self, member: &Member) -> AppResult<Generated> {
        let date = clock::format_date(clock::today());
        let (bytes, format) = match self {
            ActivityReport::Csv(bytes) => (bytes, Format::Csv),
            ActivityReport::Signed(mut export) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = export.next_chunk().await? {
                    bytes.extend_from_slice(&chunk);
                }
                (bytes, Format::Json)
            }
        };
        let sha256 = aims_reports::sha256_hex(&bytes);
        Ok(Generated {
            file_name: format!("{}-{ACTIVITY}-{date}.{}", member.org_slug, format.as_str()),
            content_type: format.content_type(),
            source_sha256: sha256.clone(),
            sha256,
            bytes,
            issued_id: None,
            notes: Vec::new(),
        })
    }
}

impl App {
    /// The activity log report in `format` (CSV, or the signed JSON export). Not recorded as an
    /// issued document: it is the log itself, which verifies on its own.
    pub async fn activity_report(&self, member: &Member, format: Format) -> AppResult<ActivityReport> {
        match format {
            Format::Json => Ok(ActivityReport::Signed(self.export_activity(member, Default::default()).await?)),
            _ => {
                let filter = aims_store::activity::ActivityFilter::default();
                let events = self.list_activity_ordered(member, &filter, aims_store::activity::Order::Chain, 0, None).await?;
                Ok(ActivityReport::Csv(activity_csv(&events.items)?))
            }
        }
    }

    /// The published disclosures, as the trust page shows them.
    async fn transparency_source(&self, member: &Member, source: &mut Source) -> AppResult<()> {
        let page = self.public_trust_page(&member.org_slug).await?;
        if page.systems.is_empty() {
            source.notice("No AI system's disclosure is published yet.");
        }
        for system in &page.systems {
            source.shows(AI_SYSTEM.kind, &system.id, system.version);
            source.heading(system.name.clone());
            if !system.summary.is_empty() {
                source.paragraph(system.summary.clone());
            }
            let oversight_mode = system.oversight_mode.as_deref().map(|mode| mode.replace('_', " ")).unwrap_or_else(|| "not stated".into());
            source.push(Block::Facts {
                items: vec![
                    Fact::new("Intended use", system.intended_use.clone()),
                    Fact::new("Limitations", system.limitations.clone()),
                    Fact::new("Human oversight", format!("{oversight_mode}: {}", system.oversight)),
                    Fact::new("Disclosure version", format!("{} (last changed {})", system.version, system.updated_at)),
                    Fact::new("Raise a concern", format!("/trust/{}/concerns/new", page.org_slug)),
                ],
            });
        }
        Ok(())
    }
}

/// Every event as CSV, cells a spreadsheet would run as a formula neutralised.
pub fn activity_csv(events: &[aims_store::model::ActivityEvent]) -> AppResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["seq", "id", "at", "actor", "action", "record_type", "record_id", "changes", "prev_hash", "hash"])
        .map_err(|e| AppError::Internal(e.to_string()))?;
    for e in events {
        let row = [
            e.seq.to_string(),
            e.id.clone(),
            e.at.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.record_type.clone(),
            e.record_id.clone(),
            e.changes.to_string(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        writer
            .write_record(row.iter().map(|cell| aims_reports::neutralise_formula(cell)))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    writer.into_inner().map_err(|e| AppError::Internal(e.to_string()))
}

/// An Annex A control of the catalogue (`A.` and a digit), not one of the organisation's own.
fn is_annex_a(control: &Record) -> bool {
    let reference = control.reference.as_deref().or_else(|| control.data.get("ref").and_then(Value::as_str)).unwrap_or_default();
    reference.strip_prefix("A.").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}
