//! The README's endpoint table is the contract: every row names methods that exist, whose docs
//! carry a `Scope:` line with the row's scope, and whose path a test calls on the fake API.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Every `.rs` file under `dir`, concatenated.
fn sources(dir: &str) -> String {
    let mut text = String::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    text
}

/// The text between backticks in `cell`.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// The doc comment right above `pub (async) fn name`.
fn docs_of<'a>(source: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines.iter().position(|l| {
        let l = l.trim();
        l.starts_with(&format!("pub async fn {name}("))
            || l.starts_with(&format!("pub async fn {name}<"))
            || l.starts_with(&format!("pub fn {name}("))
            || l.starts_with(&format!("pub fn {name}<"))
    })?;
    let mut docs: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|l| l.trim().starts_with("///"))
        .map(|l| l.trim())
        .collect();
    docs.reverse();
    Some(docs)
}

#[test]
fn every_endpoint_in_the_readme_has_a_method_a_scope_line_and_a_test() {
    let readme = read("README.md");
    let source = sources("src");
    let tests = sources("tests/it");
    let rows: Vec<Vec<&str>> = readme
        .lines()
        .filter(|l| {
            l.starts_with("| GET")
                || l.starts_with("| POST")
                || l.starts_with("| PATCH")
                || l.starts_with("| DELETE")
        })
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert!(rows.len() >= 28, "{} rows", rows.len());
    let mut problems = Vec::new();
    for row in &rows {
        let (path, methods, scope) = (ticked(row[1])[0], ticked(row[2]), row[3]);
        let called = path.split('{').next().unwrap();
        if !tests.contains(called) {
            problems.push(format!("{path}: no test calls it on the fake API"));
        }
        for method in methods {
            let Some(docs) = docs_of(&source, method) else {
                problems.push(format!("{path}: no method {method}"));
                continue;
            };
            let Some(line) = docs.iter().position(|l| l.starts_with("/// Scope:")) else {
                problems.push(format!("{method}: no `Scope:` line in its docs"));
                continue;
            };
            let scope_text = docs[line..].join(" ");
            for wanted in ticked(scope) {
                if !scope_text.contains(&format!("`{wanted}`")) {
                    problems.push(format!("{method}: its docs do not name the scope {wanted}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
