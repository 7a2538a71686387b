//! Organisations: creating one loads the shipped ISO/IEC 42001 catalogue into it.

use aims_domain::identity::{OrgSlug, parse_name};
use aims_domain::{ValidationErrors, catalogue::CatalogueEntry, clock};
use aims_store::activity::{self, NewEvent};
use aims_store::model::{Actor, Organization};
use aims_store::records::{self, NewRecord};
use aims_store::{WriteTx, orgs};
use serde_json::{Map, Value, json};

use crate::{App, AppError, AppResult};

impl App {
    /// Creates an organisation with its catalogue, in one transaction.
    pub async fn create_org(&self, slug: &str, name: &str, actor: &Actor) -> AppResult<Organization> {
        let mut tx = self.db.begin_write().await?;
        let org = self.create_org_in(&mut tx, slug, name, actor).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub(crate) async fn create_org_in(&self, tx: &mut WriteTx, slug: &str, name: &str, actor: &Actor) -> AppResult<Organization> {
        let mut errors = ValidationErrors::default();
        let slug = OrgSlug::parse("slug", slug).map_err(|e| errors.0.extend(e.0)).ok();
        let name = parse_name("name", name).map_err(|e| errors.0.extend(e.0)).ok();
        let (Some(slug), Some(name)) = (slug, name) else {
            return Err(AppError::Validation(errors));
        };
        let id = uuid::Uuid::now_v7().to_string();
        let now = clock::now_text();
        orgs::insert(tx, &id, slug.as_str(), &name, &now).await?;
        activity::append(
            tx,
            &id,
            actor,
            NewEvent {
                action: "create",
                record_type: "organization",
                record_id: &id,
                changes: json!({"slug": slug.as_str(), "name": name}),
            },
        )
        .await?;
        self.load_catalogue(tx, &id, actor, &now).await?;
        self.seed_org_defaults(tx, &id, actor).await?;
        Ok(Organization { id, slug: slug.as_str().to_owned(), name, version: 1, created_at: now.clone(), updated_at: now })
    }

    /// Instantiates the shipped catalogue in an organisation: one gap-assessment entry per
    /// requirement and one SoA entry per Annex A control, in document order. Logged as one
    /// `load` event of the framework (the rows are its instantiation, not separate edits).
    async fn load_catalogue(&self, tx: &mut WriteTx, org_id: &str, actor: &Actor, now: &str) -> AppResult<()> {
        let library = &self.catalogue.library;
        let framework = library.objects.framework.as_ref().ok_or_else(|| AppError::Internal("catalogue has no framework".into()))?;
        orgs::insert_framework(tx, org_id, &framework.urn, framework.ref_id.as_deref(), &framework.name, library.version, now).await?;
        for entry in &self.catalogue.requirements {
            let mut data = catalogue_fields(entry);
            data.insert("clause".into(), json!(entry.group_ref));
            data.insert("clause_title".into(), json!(entry.group_title));
            data.insert("status".into(), json!("missing"));
            data.insert("owner_id".into(), Value::Null);
            data.insert("notes".into(), Value::Null);
            insert_catalogue_row(tx, org_id, "requirement", entry, &data, actor, now).await?;
        }
        for entry in &self.catalogue.controls {
            let mut data = catalogue_fields(entry);
            data.insert("group".into(), json!(entry.group_ref));
            data.insert("group_title".into(), json!(entry.group_title));
            data.insert("description".into(), Value::Null);
            data.insert("source".into(), json!("iso42001"));
            data.insert("applicable".into(), json!(true));
            data.insert("justification".into(), Value::Null);
            data.insert("implementation_status".into(), json!("not_started"));
            data.insert("owner_id".into(), Value::Null);
            data.insert("last_reviewed_on".into(), Value::Null);
            insert_catalogue_row(tx, org_id, "control", entry, &data, actor, now).await?;
        }
        activity::append(
            tx,
            org_id,
            actor,
            NewEvent {
                action: "load",
                record_type: "framework",
                record_id: &framework.urn,
                changes: json!({
                    "library_version": library.version,
                    "requirements": self.catalogue.requirements.len(),
                    "controls": self.catalogue.controls.len(),
                }),
            },
        )
        .await?;
        Ok(())
    }
}

fn catalogue_fields(entry: &CatalogueEntry) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("urn".into(), json!(entry.urn));
    data.insert("title".into(), json!(entry.title));
    data.insert("guidance".into(), json!(entry.guidance));
    data.insert("typical_evidence".into(), json!(entry.typical_evidence));
    data
}

async fn insert_catalogue_row(
    tx: &mut WriteTx,
    org_id: &str,
    kind: &str,
    entry: &CatalogueEntry,
    data: &Map<String, Value>,
    actor: &Actor,
    now: &str,
) -> AppResult<()> {
    let id = uuid::Uuid::now_v7().to_string();
    records::insert(
        tx,
        &NewRecord { org_id, id: &id, kind, reference: Some(&entry.reference), state: None, data, actor_id: actor.user_id(), now },
    )
    .await?;
    Ok(())
}

impl App {
    pub async fn org_by_slug(&self, slug: &str) -> AppResult<Organization> {
        orgs::by_slug(&self.db, slug).await?.ok_or_else(|| AppError::NotFound(format!("organisation {slug}")))
    }
}

impl App {
    /// The records every organisation starts with besides the catalogue: an empty AIMS scope,
    /// default risk criteria, default gate requirements and the library of AI risk sources.
    /// Each is created through the record machinery with its event.
    pub(crate) async fn seed_org_defaults(&self, tx: &mut WriteTx, org_id: &str, actor: &Actor) -> AppResult<()> {
        use aims_domain::kinds::{GATE_REQUIREMENT, RISK_CRITERIA, RISK_SOURCE, SCOPE, SOA, lifecycle, risk};
        let seed = |spec: &'static aims_domain::validate::KindSpec,
                    input: Value|
         -> AppResult<(Map<String, Value>, &'static aims_domain::validate::KindSpec)> {
            Ok((spec.validate_create(&input, &[])?, spec))
        };
        let mut drafts = vec![seed(&SCOPE, json!({}))?, seed(&RISK_CRITERIA, risk::default_criteria())?, seed(&SOA, json!({}))?];
        for (stage, types) in lifecycle::DEFAULT_GATE_REQUIREMENTS {
            drafts.push(seed(&GATE_REQUIREMENT, json!({"to_stage": stage, "required_record_types": types}))?);
        }
        for source in risk::RISK_SOURCE_LIBRARY {
            let input = json!({
                "title": source.title,
                "description": source.description,
                "category": source.category,
                "control_refs": source.controls,
                "nist_characteristics": source.nist,
                "owasp_llm": source.owasp,
            });
            drafts.push(seed(&RISK_SOURCE, input)?);
        }
        for (document, spec) in drafts {
            let draft = crate::rules::Draft { reference: None, state: spec.initial_state.map(str::to_owned), document };
            crate::records::insert_logged(tx, org_id, actor, spec, &draft).await?;
        }
        Ok(())
    }

    /// Gives organisations created before these defaults existed their defaults (run at start).
    pub(crate) async fn backfill_org_defaults(&self) -> AppResult<()> {
        for org in orgs::all(&self.db).await? {
            if records::count(&self.db, &org.id, "risk_criteria").await? == 0 {
                let mut tx = self.db.begin_write().await?;
                self.seed_org_defaults(&mut tx, &org.id, &Actor::System("upgrade")).await?;
                tx.commit().await?;
            } else if records::count(&self.db, &org.id, "soa").await? == 0 {
                let mut tx = self.db.begin_write().await?;
                let document = aims_domain::kinds::SOA.validate_create(&json!({}), &[])?;
                let draft = crate::rules::Draft { reference: None, state: Some("draft".into()), document };
                crate::records::insert_logged(&mut tx, &org.id, &Actor::System("upgrade"), &aims_domain::kinds::SOA, &draft).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
