//! Import circles between the files of one crate: module `a` uses `b` while `b` (or something
//! it uses) uses `a`. Such a circle means no file can be read, changed or tested before the
//! others; the layering inside a crate should run one way, as between crates.
//!
//! The check reads `use` trees and `crate::`/`super::`/`self::` paths, maps each to the file
//! of the deepest module it names, and lifts every edge to the two sibling modules under their
//! closest common parent: `a/x.rs` using `b/y.rs` is an arrow from `a` to `b`. A module using its
//! own parent or children is structure, not a circle. Inline `#[cfg(test)]` modules are left
//! out. Macros and glob re-exports can hide an edge; what it finds is real.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// A module's path inside its crate (`["store", "sqlite"]`; empty for the crate root).
type Module = Vec<String>;

/// Every import circle in each source folder of the repository, as problems.
pub(crate) fn check(root: &Path) -> Vec<String> {
    let mut sources: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path().join("src"))
                .collect()
        })
        .unwrap_or_default();
    sources.extend(["bench", "xtask", "tests", "testkit"].map(|d| root.join(d).join("src")));
    sources.sort();
    let mut problems = Vec::new();
    for src in sources.iter().filter(|s| s.is_dir()) {
        for circle in circles(&graph(&modules(src))) {
            let names: Vec<String> = circle.iter().map(display).collect();
            problems.push(format!(
                "{}: import circle between {}; move what they share into a module both use",
                src.strip_prefix(root).unwrap_or(src).display(),
                names.join(" <-> ")
            ));
        }
    }
    problems
}

fn display(module: &Module) -> String {
    if module.is_empty() {
        "the crate root".into()
    } else {
        module.join("::")
    }
}

/// Every module file under `src` with its text (inline test modules removed).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(relative) = path
                .with_extension("")
                .strip_prefix(src)
                .map(Path::to_path_buf)
            else {
                continue;
            };
            let mut module: Module = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|l| l == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            let text = fs::read_to_string(&path).unwrap_or_default();
            found.insert(module, without_tests(&text));
        }
    }
    found
}

/// `text` without an inline `#[cfg(test)] mod … { … }` (from its start to the end of the file,
/// where such modules live).
fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod ") {
        Some(at) if text[at..].contains('{') => text[..at].to_owned(),
        _ => text.to_owned(),
    }
}

/// The arrows between sibling modules.
fn graph(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in modules {
        for path in paths(text) {
            let Some(target) = resolve(modules, module, &path) else {
                continue;
            };
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == module.len() || common == target.len() {
                continue; // the module itself, an ancestor or a descendant
            }
            let (from, to) = (module[..=common].to_vec(), target[..=common].to_vec());
            graph.entry(to.clone()).or_default();
            graph.entry(from).or_default().insert(to);
        }
    }
    graph
}

/// The module a path used in `module` names: its deepest prefix that is a module file.
fn resolve(modules: &BTreeMap<Module, String>, module: &Module, path: &[String]) -> Option<Module> {
    let (first, rest) = path.split_first()?;
    let mut absolute: Module = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut rest = rest;
    while let Some((segment, tail)) = rest.split_first() {
        if segment != "super" {
            break;
        }
        absolute.pop();
        rest = tail;
    }
    absolute.extend(rest.iter().cloned());
    (0..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|prefix| modules.contains_key(prefix))
}

/// Every path a file names through `crate`, `super` or `self`: the leaves of its `use` trees
/// and the paths written inline.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let item = line.trim_start();
        let Some(tree) = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|lead| item.strip_prefix(lead))
        else {
            continue;
        };
        let from = start + (line.len() - tree.len());
        let Some(end) = text[from..].find(';') else {
            break;
        };
        let tree: String = text[from..from + end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        found.extend(expand(&tree));
    }
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if word.starts_with("crate::") || word.starts_with("super::") || word.starts_with("self::")
        {
            found.push(word.trim_end_matches(':').to_owned());
        }
    }
    found
        .into_iter()
        .map(|p| p.split("::").map(str::to_owned).collect())
        .collect()
}

/// The leaves of a `use` tree: `a::{b, c::{d}}` is `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let Some(close) = tree.rfind('}').filter(|close| *close > open) else {
        return Vec::new();
    };
    let (prefix, inner) = (&tree[..open], &tree[open + 1..close]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The circles of `graph`: its strongly connected parts of two modules or more (Tarjan).
fn circles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, module: &'g Module) {
            let n = self.index.len();
            self.index.insert(module, n);
            self.low.insert(module, n);
            self.stack.push(module);
            for next in self.graph.get(module).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[module].min(self.low[next]);
                    self.low.insert(module, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[module].min(self.index[next]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut part = Vec::new();
                while let Some(top) = self.stack.pop() {
                    part.push(top.clone());
                    if top == module {
                        break;
                    }
                }
                if part.len() > 1 {
                    part.sort();
                    self.found.push(part);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for module in graph.keys() {
        if !walk.index.contains_key(module) {
            walk.visit(module);
        }
    }
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> BTreeMap<Module, String> {
        let dir = std::env::temp_dir().join(format!(
            "xtask-circles-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let found = modules(&dir);
        fs::remove_dir_all(&dir).unwrap();
        found
    }

    #[test]
    fn a_circle_through_a_child_module_is_found() {
        // cli/serve.rs uses running, which uses cli: cli <-> running.
        let modules = tree(&[
            ("lib.rs", "pub mod cli;\npub mod running;\n"),
            (
                "cli/mod.rs",
                "mod serve;\npub const VERSION: &str = \"1\";\n",
            ),
            ("cli/serve.rs", "use crate::running::start;\n"),
            (
                "running.rs",
                "pub fn start() { let _ = crate::cli::VERSION; }\n",
            ),
        ]);
        let found = circles(&graph(&modules));
        assert_eq!(
            found,
            [vec![vec!["cli".to_owned()], vec!["running".to_owned()]]]
        );
    }

    #[test]
    fn parents_children_and_one_way_arrows_are_no_circle() {
        let modules = tree(&[
            ("lib.rs", "pub mod store;\npub mod relay;\n"),
            (
                "store.rs",
                "mod feed;\nuse self::feed::Feed;\npub struct Head;\n",
            ),
            ("store/feed.rs", "use super::Head;\npub struct Feed;\n"),
            (
                "relay.rs",
                "use crate::{store::{Head, feed::Feed}, store};\n#[cfg(test)]\nmod tests {\n    use crate::relay;\n}\n",
            ),
        ]);
        assert!(circles(&graph(&modules)).is_empty());
    }

    #[test]
    fn use_trees_expand_to_their_leaves() {
        assert_eq!(
            expand("crate::{a::{b,c},d}"),
            ["crate::a::b", "crate::a::c", "crate::d"]
        );
    }

    #[test]
    fn the_repository_has_no_import_circle() {
        let problems = check(&crate::project_root());
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
