//! Framework libraries in CISO Assistant's library YAML format (our native format, so the many
//! existing libraries import without a second format), and the ISO/IEC 42001:2023 catalogue
//! that aims ships in that format and loads into every new organisation.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use crate::ValidationErrors;

/// The ISO/IEC 42001:2023 library shipped with aims (ids and short titles; guidance in our words).
pub const ISO_42001_YAML: &str = include_str!("../../../frameworks/iso-iec-42001-2023.yaml");
pub const ISO_42001_FRAMEWORK_URN: &str = "urn:aims:risk:framework:iso-iec-42001-2023";
const CLAUSES_NODE_SUFFIX: &str = ":clauses";
const ANNEX_A_NODE_SUFFIX: &str = ":annex-a";

/// A library file: metadata plus its objects. Unknown keys are ignored so libraries written for
/// newer versions of the format still load.
#[derive(Debug, Clone, Deserialize)]
pub struct Library {
    pub urn: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub ref_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub copyright: Option<String>,
    pub version: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub publication_date: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub packager: Option<String>,
    pub objects: Objects,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Objects {
    #[serde(default)]
    pub framework: Option<Framework>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Framework {
    pub urn: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub ref_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub requirement_nodes: Vec<RequirementNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RequirementNode {
    pub urn: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub ref_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub annotation: Option<String>,
    #[serde(default)]
    pub typical_evidence: Option<String>,
    #[serde(default)]
    pub assessable: bool,
    #[serde(default)]
    pub depth: Option<u32>,
    #[serde(default)]
    pub parent_urn: Option<String>,
}

/// Accepts a YAML string or number (libraries write `ref_id: 1.1` as often as `'1.1'`).
fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Int(i64),
        Float(f64),
    }
    Ok(Option::<TextOrNumber>::deserialize(deserializer)?.map(|v| match v {
        TextOrNumber::Text(s) => s,
        TextOrNumber::Int(i) => i.to_string(),
        TextOrNumber::Float(f) => f.to_string(),
    }))
}

impl Library {
    /// Parses and checks a library: YAML well-formed, a framework present, node URNs unique and
    /// every `parent_urn` naming an earlier node.
    pub fn parse(yaml: &str) -> Result<Self, ValidationErrors> {
        let library: Library = serde_saphyr::from_str(yaml)
            .map_err(|e| ValidationErrors::single("library", "invalid_yaml", format!("not a valid library file: {e}")))?;
        library.check()?;
        Ok(library)
    }

    fn check(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(framework) = &self.objects.framework else {
            return Err(ValidationErrors::single("objects.framework", "required", "the library holds no framework"));
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, node) in framework.requirement_nodes.iter().enumerate() {
            let field = format!("objects.framework.requirement_nodes[{i}]");
            if seen.insert(node.urn.as_str(), i).is_some() {
                errors.push(format!("{field}.urn"), "duplicate", format!("urn {} appears twice", node.urn));
            }
            if let Some(parent) = &node.parent_urn {
                if !seen.contains_key(parent.as_str()) {
                    errors.push(format!("{field}.parent_urn"), "unknown_reference", format!("no earlier node has urn {parent}"));
                }
            }
        }
        errors.into_result()
    }
}

/// One row of a shipped catalogue (a requirement of clauses 4–10, or an Annex A control).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub urn: String,
    pub reference: String,
    pub title: String,
    /// The top-level heading the row sits under: clause `6` or group `A.6`.
    pub group_ref: String,
    pub group_title: String,
    pub guidance: String,
    pub typical_evidence: String,
}

/// The ISO/IEC 42001 catalogue as aims uses it.
#[derive(Debug, Clone)]
pub struct Iso42001 {
    pub library: Library,
    /// The 32 leaf requirements of clauses 4–10 in document order.
    pub requirements: Vec<CatalogueEntry>,
    /// The 38 Annex A controls in natural order.
    pub controls: Vec<CatalogueEntry>,
}

impl Iso42001 {
    /// The catalogue shipped in the binary.
    pub fn shipped() -> Result<Self, ValidationErrors> {
        Self::from_library(Library::parse(ISO_42001_YAML)?)
    }

    pub fn from_library(library: Library) -> Result<Self, ValidationErrors> {
        let framework = library
            .objects
            .framework
            .as_ref()
            .ok_or_else(|| ValidationErrors::single("objects.framework", "required", "the library holds no framework"))?;
        let by_urn: HashMap<&str, &RequirementNode> = framework.requirement_nodes.iter().map(|n| (n.urn.as_str(), n)).collect();
        let mut requirements = Vec::new();
        let mut controls = Vec::new();
        for node in framework.requirement_nodes.iter().filter(|n| n.assessable) {
            let ancestors = ancestry(node, &by_urn);
            let (Some(root), Some(group)) = (ancestors.last(), ancestors.iter().rev().nth(1)) else {
                continue;
            };
            let entry = CatalogueEntry {
                urn: node.urn.clone(),
                reference: node.ref_id.clone().unwrap_or_default(),
                title: node.name.clone().unwrap_or_default(),
                group_ref: group.ref_id.clone().unwrap_or_default(),
                group_title: group.name.clone().unwrap_or_default(),
                guidance: node.description.clone().unwrap_or_default(),
                typical_evidence: node.typical_evidence.clone().unwrap_or_default(),
            };
            if root.urn.ends_with(CLAUSES_NODE_SUFFIX) {
                requirements.push(entry);
            } else if root.urn.ends_with(ANNEX_A_NODE_SUFFIX) {
                controls.push(entry);
            }
        }
        let library = library.clone();
        Ok(Self { library, requirements, controls })
    }
}

/// The chain of parents of a node, nearest first, ending at the root.
fn ancestry<'a>(node: &'a RequirementNode, by_urn: &HashMap<&str, &'a RequirementNode>) -> Vec<&'a RequirementNode> {
    let mut chain = Vec::new();
    let mut current = node.parent_urn.as_deref();
    while let Some(urn) = current {
        let Some(parent) = by_urn.get(urn) else { break };
        if chain.len() > 32 {
            break; // a cycle; `Library::check` makes this impossible for parsed libraries
        }
        chain.push(*parent);
        current = parent.parent_urn.as_deref();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped catalogue matches the ids and titles of `shared/catalogue.md` exactly.
    #[test]
    fn shipped_catalogue_matches_the_reference_facts() {
        let Some(reference) = outside_reference("catalogue.md") else { return };
        let (leaves, controls) = reference_rows(&reference);
        assert_eq!(leaves.len(), 32);
        assert_eq!(controls.len(), 38);
        let shipped = Iso42001::shipped().expect("shipped library parses");
        let got_leaves: Vec<(String, String)> = shipped.requirements.iter().map(|e| (e.reference.clone(), e.title.clone())).collect();
        let got_controls: Vec<(String, String)> = shipped.controls.iter().map(|e| (e.reference.clone(), e.title.clone())).collect();
        assert_eq!(got_leaves, leaves);
        assert_eq!(got_controls, controls);
        for entry in shipped.requirements.iter().chain(&shipped.controls) {
            assert!(entry.guidance.len() > 80, "{} needs guidance", entry.reference);
            assert!(!entry.typical_evidence.is_empty(), "{} needs typical evidence", entry.reference);
        }
        assert_eq!(shipped.requirements[8].group_ref, "6");
        assert_eq!(shipped.controls[0].group_ref, "A.2");
        assert_eq!(shipped.controls[14].group_ref, "A.6");
    }

    /// Rows `| id | title | yes |` of section 1 and `| A.x.y | title | group |` of section 3.
    fn reference_rows(markdown: &str) -> (Vec<(String, String)>, Vec<(String, String)>) {
        let mut leaves = Vec::new();
        let mut controls = Vec::new();
        let mut section = 0;
        for line in markdown.lines() {
            if line.starts_with("## ") {
                section = line[3..].chars().next().and_then(|c| c.to_digit(10)).unwrap_or(0);
            }
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            if cells.len() != 3 || cells[0] == "Id" || cells[0].starts_with("---") {
                continue;
            }
            match section {
                1 if cells[2] == "yes" => leaves.push((cells[0].to_owned(), cells[1].to_owned())),
                3 => controls.push((cells[0].to_owned(), cells[1].to_owned())),
                _ => {}
            }
        }
        (leaves, controls)
    }

    #[test]
    fn imports_ciso_assistant_libraries() {
        // The OWASP checklist's licence (CC BY-SA 4.0) lets it live in the repository; the NIST
        // one comes from the product guide's test data beside the checkout.
        let vendored = include_str!("../tests/fixtures/ciso-assistant/owasp-llm-checklist.yaml");
        let mut libraries = vec![("owasp-llm-checklist.yaml", vendored.to_owned())];
        libraries.extend(outside_reference("testdata/ciso-assistant/nist-ai-rmf-1.0.yaml").map(|t| ("nist-ai-rmf-1.0.yaml", t)));
        for (file, text) in libraries {
            let library = Library::parse(&text).expect(file);
            assert!(!library.objects.framework.expect("framework").requirement_nodes.is_empty());
        }
    }

    /// A file of the product guide (`../shared` beside the checkout). A clone without it skips
    /// the comparison and says so; under CI (`CI=true`) its absence is a failure.
    fn outside_reference(relative: &str) -> Option<String> {
        let path = format!("{}/../../../shared/{relative}", env!("CARGO_MANIFEST_DIR"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true but {path} cannot be read: {e}"),
            Err(_) => {
                eprintln!("skipped: {path} is not beside this checkout (the product guide's reference)");
                None
            }
        }
    }

    #[test]
    fn rejects_dangling_parents_and_bad_yaml() {
        let bad = "urn: u\nname: n\nversion: 1\nobjects:\n  framework:\n    urn: f\n    name: F\n    requirement_nodes:\n    - urn: a\n      parent_urn: missing\n";
        let errors = Library::parse(bad).unwrap_err();
        assert_eq!(errors.0[0].field, "objects.framework.requirement_nodes[0].parent_urn");
        assert_eq!(Library::parse("{{{").unwrap_err().0[0].code, "invalid_yaml");
    }
}
