//! The documents match the code (`make docs-check`, and part of `make
//! test`): every environment variable the configuration reads, every
//! request and policy field, every template parameter and output, and
//! every metric is named in docs/, and the tables of docs/ name nothing the
//! code does not have.
//! The code's own lists are read from the code: serde's "expected one of"
//! for the fields, `src/config/mod.rs` for the variables, `template.yaml` for
//! the parameters and outputs.

use std::collections::BTreeSet;

use packprune::testkit::policy::RawPolicy;
use packprune::testkit::request::{RawApply, RawRequest};
use regex::Regex;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn doc(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/docs/{name}")).expect(name)
}

/// The fields a `deny_unknown_fields` type accepts, from serde's error for
/// one it does not.
fn fields<T: serde::de::DeserializeOwned + std::fmt::Debug>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#"{"zzNotAField": 1}"#).unwrap_err();
    let text = err.to_string();
    let list = text.split("expected one of").nth(1).expect(&text);
    Regex::new(r"`([A-Za-z0-9]+)`")
        .unwrap()
        .captures_iter(list)
        .map(|c| c[1].to_owned())
        .collect()
}

/// Every `` `name` `` in the first cells of a document's table rows.
fn table_names(text: &str) -> BTreeSet<String> {
    let name = Regex::new(r"`([A-Za-z0-9_.]+)`").unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .flat_map(|cell| {
            name.captures_iter(cell)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn missing(code: &BTreeSet<String>, documented: &BTreeSet<String>) -> Vec<String> {
    code.difference(documented).cloned().collect()
}

#[test]
fn every_request_field_is_documented_and_no_other() {
    let code = fields::<RawRequest>();
    assert!(
        code.contains("service") && code.contains("apply"),
        "{code:?}"
    );
    let documented = table_names(&doc("request.md"));
    assert_eq!(
        missing(&code, &documented),
        Vec::<String>::new(),
        "fields missing from docs/request.md"
    );
    assert_eq!(
        missing(&documented, &code),
        Vec::<String>::new(),
        "docs/request.md names fields the request does not have"
    );
    // `apply`'s members are named where it is described.
    let request = doc("request.md");
    for f in fields::<RawApply>() {
        assert!(
            request.contains(&format!("`{f}`")),
            "apply.{f} is missing from docs/request.md"
        );
    }
}

#[test]
fn every_policy_field_is_documented_and_no_other() {
    let code = fields::<RawPolicy>();
    assert!(
        code.contains("keepLatest") && code.contains("archivedForDays"),
        "{code:?}"
    );
    let text = doc("policies.md");
    let table = &text[text
        .find("| field | default | meaning |")
        .expect("the policy fields table")..];
    let table = &table[..table.find("\n\n").unwrap_or(table.len())];
    let documented = table_names(table);
    assert_eq!(
        missing(&code, &documented),
        Vec::<String>::new(),
        "policy fields missing from docs/policies.md"
    );
    assert_eq!(
        missing(&documented, &code),
        Vec::<String>::new(),
        "docs/policies.md names policy fields the policy does not have"
    );
}

#[test]
fn every_environment_variable_is_documented_and_no_other() {
    let config = std::fs::read_to_string(format!("{ROOT}/src/config/mod.rs")).unwrap();
    let code: BTreeSet<String> =
        Regex::new(r#"get\(\s*"([A-Z][A-Z0-9_]+)"|number\(\s*&get,\s*"([A-Z][A-Z0-9_]+)""#)
            .unwrap()
            .captures_iter(&config)
            .filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned()))
            .collect();
    assert!(
        code.contains("DEAD_LETTER_QUEUE_URL") && code.contains("REPORTS_BUCKET"),
        "{code:?}"
    );
    let text = doc("configuration.md");
    let documented = table_names(&text);
    assert_eq!(
        missing(&code, &documented),
        Vec::<String>::new(),
        "variables missing from docs/configuration.md"
    );
    // The SDK's and Lambda's own (`AWS_*`) are documented without being read here.
    let ours: BTreeSet<String> = documented
        .into_iter()
        .filter(|n| !n.starts_with("AWS_"))
        .collect();
    assert_eq!(
        missing(&ours, &code),
        Vec::<String>::new(),
        "docs/configuration.md names variables the code does not read"
    );
}

fn template_keys(section: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).unwrap();
    // The template's short-form tags (!Ref, !If, ...) are read as plain
    // values: only the keys are wanted.
    let plain = Regex::new(r"!(\w+)").unwrap().replace_all(&text, "");
    let doc: yaml_serde::Value = yaml_serde::from_str(&plain).unwrap();
    doc[section]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_template_parameter_and_output_is_documented_and_no_other() {
    let text = doc("deploying.md");
    let parameters = template_keys("Parameters");
    let documented = table_names(&text);
    assert_eq!(
        missing(&parameters, &documented),
        Vec::<String>::new(),
        "parameters missing from docs/deploying.md"
    );
    assert_eq!(
        missing(&documented, &parameters),
        Vec::<String>::new(),
        "docs/deploying.md's table names parameters the template does not have"
    );
    let outputs = template_keys("Outputs");
    assert!(outputs.contains("DashboardName"), "{outputs:?}");
    let para = &text[text.find("Outputs: ").expect("the Outputs paragraph")..];
    let para = &para[..para.find("\n\n").unwrap_or(para.len())];
    let named: BTreeSet<String> = Regex::new(r"`([A-Z][A-Za-z]+)`")
        .unwrap()
        .captures_iter(para)
        .map(|c| c[1].to_owned())
        .filter(|n| !parameters.contains(n))
        .collect();
    assert_eq!(
        missing(&outputs, &named),
        Vec::<String>::new(),
        "outputs missing from docs/deploying.md"
    );
    assert_eq!(
        missing(&named, &outputs),
        Vec::<String>::new(),
        "docs/deploying.md's Outputs paragraph names outputs the template does not have"
    );
    // Wherever a document calls something "the `X` output", X is one.
    let output = Regex::new(r"`([A-Za-z]+)` output").unwrap();
    let mut files = vec![format!("{ROOT}/README.md")];
    for entry in std::fs::read_dir(format!("{ROOT}/docs")).unwrap() {
        files.push(entry.unwrap().path().display().to_string());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for c in output.captures_iter(&text) {
            assert!(
                outputs.contains(&c[1]),
                "{file} names `{}` as an output; the template's are {outputs:?}",
                &c[1]
            );
        }
    }
    assert_eq!(
        missing(&named, &outputs),
        Vec::<String>::new(),
        "docs/deploying.md names outputs the template does not have"
    );
}

#[test]
fn every_metric_is_documented_and_no_other() {
    let text = doc("operating.md");
    let start = text.find("| metric | what |").expect("the metrics table");
    let table = &text[start..];
    let table = &table[..table.find("\n\n").unwrap_or(table.len())];
    let documented = table_names(table);
    let code: BTreeSet<String> = packprune::testkit::metrics::names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        missing(&code, &documented),
        Vec::<String>::new(),
        "metrics missing from docs/operating.md"
    );
    assert_eq!(
        missing(&documented, &code),
        Vec::<String>::new(),
        "docs/operating.md names metrics the function does not write"
    );
}

/// docs/layout.md's module list, entry by entry: the entry (`main.rs`,
/// `plan/`) and every Rust file its text names, as a path under `src/`.
fn layout_entries() -> Vec<(String, BTreeSet<String>)> {
    let layout = doc("layout.md");
    let start = layout
        .find("### Each module's one job")
        .expect("the module list");
    let block = layout[start..].split("```").nth(1).expect("its code block");
    let file = Regex::new(r"\b((?:[a-z_]+/)*[a-z_]+\.rs)\b").unwrap();
    let mut entries: Vec<(String, BTreeSet<String>)> = Vec::new();
    let mut base = String::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let text = match line.strip_prefix("src/") {
            Some(rest) => {
                let (entry, text) = rest.split_once(' ').unwrap_or((rest, ""));
                base = entry
                    .strip_suffix('/')
                    .map_or(String::new(), |d| format!("{d}/"));
                entries.push((entry.to_owned(), BTreeSet::new()));
                text.to_owned()
            }
            // A continuation line; `sub/: …` names files of `sub/`.
            None => line.trim().to_owned(),
        };
        let (prefix, text) = match text.split_once("/: ") {
            Some((sub, rest)) if !sub.contains(' ') => (format!("{base}{sub}/"), rest.to_owned()),
            _ => (base.clone(), text),
        };
        let named = &mut entries.last_mut().expect("an entry first").1;
        for m in file.captures_iter(&text) {
            named.insert(format!("{prefix}{}", &m[1]));
        }
    }
    entries
}

/// Every Rust file under `src/` but tests, as a path under `src/`.
fn source_files(dir: &std::path::Path, under: &str, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).expect("src") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            if name != "tests" {
                source_files(&e.path(), &format!("{under}{name}/"), out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.insert(format!("{under}{name}"));
        }
    }
}

#[test]
fn the_layout_names_every_module_and_file_and_nothing_else() {
    let entries = layout_entries();
    let src = std::path::Path::new(ROOT).join("src");
    let mut files = BTreeSet::new();
    source_files(&src, "", &mut files);
    // Every top-level file and directory has an entry (a directory beside
    // its own `name.rs` is that file's), and every entry exists.
    let listed: BTreeSet<String> = entries.iter().map(|(e, _)| e.clone()).collect();
    let top: BTreeSet<String> = files
        .iter()
        .map(|f| match f.split_once('/') {
            Some((d, _)) if !files.contains(&format!("{d}.rs")) => format!("{d}/"),
            Some((d, _)) => format!("{d}.rs"),
            None => f.clone(),
        })
        .collect();
    assert_eq!(listed, top, "docs/layout.md's entries against src/");
    // Every file is named where the layout describes its directory, and
    // every file named is there.
    let mut named = BTreeSet::new();
    for (entry, in_entry) in &entries {
        if entry.ends_with(".rs") {
            named.insert(entry.clone());
        }
        named.extend(in_entry.iter().cloned());
    }
    let unnamed: Vec<_> = files.difference(&named).collect();
    assert!(
        unnamed.is_empty(),
        "src/ files the layout does not name: {unnamed:?}"
    );
    let missing: Vec<_> = named.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "files the layout names that src/ lacks: {missing:?}"
    );
}
