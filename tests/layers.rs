//! The runtime in layers (issue 10, item 8): every file of `runtime/src`
//! except `lib.rs` is in a folder named after its layer, and names other
//! parts of the crate (`crate::...`, `super::super::...`) only in its own
//! layer or the layers below it. A newcomer reads the crate bottom-up.
//!
//! Inside a layer, files name each other with `super::<file>`, and those
//! imports have no cycle either.
//!
//! Run with `--nocapture` to print the import graph between layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, bottom first. `openapi` (feature "openapi") documents the
/// route policies and needs only `policy`.
const LAYERS: [&str; 8] = [
    "policy", "jose", "claims", "verify", "issue", "web", "openapi", "testing",
];

/// The `crate::<name>` names a source file uses, comments left out.
fn crate_names(source: &str) -> Vec<String> {
    names_after(source, "crate::")
}

/// The `super::<name>` names a source file uses, comments left out.
fn super_names(source: &str) -> Vec<String> {
    names_after(source, "super::")
}

/// The first name after each `prefix` (`crate::a::b` gives `a`), and each
/// top-level item's first name in a group (`crate::{a::b, c}` gives `a`
/// and `c`), outside `//` comments.
fn names_after(source: &str, prefix: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find(prefix) {
        rest = &rest[i + prefix.len()..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.push(first_ident(&item));
        } else {
            names.push(first_ident(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn first_ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut graph: BTreeMap<usize, BTreeMap<usize, Vec<String>>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let shown = relative.display().to_string();
        if relative == Path::new("lib.rs") {
            continue;
        }
        let Some(layer) = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .and_then(|first| LAYERS.iter().position(|l| *l == first))
            .filter(|_| relative.components().count() > 1)
        else {
            problems.push(format!(
                "{shown}: not in a layer folder ({})",
                LAYERS.join(", ")
            ));
            continue;
        };
        let source = std::fs::read_to_string(file).unwrap();
        if source.contains("super::super") {
            problems.push(format!(
                "{shown}: reaches out with `super::super`; name `crate::<layer>`"
            ));
        }
        for name in crate_names(&source) {
            match LAYERS.iter().position(|l| *l == name) {
                Some(used) if used > layer => problems.push(format!(
                    "{shown}: `crate::{name}` is above its layer `{}`",
                    LAYERS[layer]
                )),
                Some(used) => {
                    if used != layer {
                        graph
                            .entry(layer)
                            .or_default()
                            .entry(used)
                            .or_default()
                            .push(shown.clone());
                    }
                }
                None => problems.push(format!(
                    "{shown}: `crate::{name}` names no layer: import through the layer's path \
                     (`crate::<layer>::...`), not the crate root's re-exports"
                )),
            }
        }
    }
    for (layer, uses) in &graph {
        let below: Vec<&str> = uses.keys().map(|u| LAYERS[*u]).collect();
        println!("{:>7} -> {}", LAYERS[*layer], below.join(", "));
    }
    for (layer, name) in LAYERS.iter().enumerate() {
        if !graph.contains_key(&layer) {
            println!("{name:>7} -> (nothing of the crate)");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        !graph.contains_key(&0),
        "the policy layer imports nothing of the crate"
    );
}

/// Within each layer folder, `super::<file>` imports have no cycle.
#[test]
fn files_inside_a_layer_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
    let mut problems = Vec::new();
    for layer in LAYERS {
        let dir = src.join(layer);
        let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if name == "mod" {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // `super::*` in a file's own tests names the file itself.
            let mut uses: Vec<String> = super_names(&source)
                .into_iter()
                .filter(|n| *n != name && dir.join(format!("{n}.rs")).exists())
                .collect();
            uses.sort();
            uses.dedup();
            edges.insert(name, uses);
        }
        // Depth-first search for a cycle.
        fn visit(
            node: &str,
            edges: &BTreeMap<String, Vec<String>>,
            path: &mut Vec<String>,
            done: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            if let Some(i) = path.iter().position(|p| p == node) {
                let mut cycle = path[i..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.iter().any(|d| d == node) {
                return None;
            }
            path.push(node.to_owned());
            for next in edges.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(next, edges, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            done.push(node.to_owned());
            None
        }
        let mut done = Vec::new();
        for node in edges.keys() {
            if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
                problems.push(format!("{layer}: {}", cycle.join(" -> ")));
                break;
            }
        }
        let listing: Vec<String> = edges
            .iter()
            .filter(|(_, uses)| !uses.is_empty())
            .map(|(file, uses)| format!("{file} -> {}", uses.join(", ")))
            .collect();
        println!("{layer}: {}", listing.join("; "));
    }
    assert!(
        problems.is_empty(),
        "import cycles: {}",
        problems.join("\n")
    );
}

#[test]
fn the_scanner_finds_every_form() {
    let source = "use crate::policy::RoutePolicy;\n\
                  use crate::{jose::{jws, keys::SigningKey}, claims::Claims};\n\
                  // crate::web in a comment is no import\n\
                  let x = crate::verify::now();";
    assert_eq!(crate_names(source), ["policy", "jose", "claims", "verify"]);
    assert_eq!(
        super_names("use super::keys::SigningKey;\n// super::web\nuse super::{error, jws::b64};"),
        ["keys", "error", "jws"]
    );
}
