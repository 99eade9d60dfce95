//! The shape of the code, kept by tests: the modules of judge-runtime, judge-rules and judge-macros
//! import one another one way only (no cycle among the top-level modules, nor among the sub-modules
//! of any directory module), and
//! no source file of the three library crates grows past 600 lines before its tests.
//!
//! An import is any `crate::…` or `super::…` path outside a `#[cfg(test)] mod tests` block, doc
//! links and comments included; a path through a re-export (`crate::Verdict`, `pub use …` in a
//! `mod.rs`) counts as an import of the module the re-export names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be before its `#[cfg(test)] mod tests`, in lines.
const MAX_LINES: usize = 600;

#[test]
fn judge_runtime_modules_import_each_other_one_way() {
    let tree = ModuleTree::read(&workspace().join("judge-runtime/src"));
    assert!(tree.files.len() > 20, "judge-runtime/src was not read: {:?}", tree.files.keys());
    let cycles = tree.cycles();
    assert!(
        cycles.is_empty(),
        "judge-runtime's modules import each other in a cycle; move the shared item below both \
         (docs/architecture.md shows the layers):\n\n{}",
        cycles.join("\n\n")
    );
}

/// The rules and the macro keep the same shape as the runtime.
#[test]
fn judge_rules_and_judge_macros_modules_import_each_other_one_way() {
    for krate in ["judge-rules", "judge-macros"] {
        let tree = ModuleTree::read(&workspace().join(krate).join("src"));
        assert!(tree.files.len() > 4, "{krate}/src was not read: {:?}", tree.files.keys());
        let cycles = tree.cycles();
        assert!(cycles.is_empty(), "{krate}'s modules import each other in a cycle:\n\n{}", cycles.join("\n\n"));
    }
}

#[test]
fn no_source_file_is_longer_than_600_lines_before_its_tests() {
    let mut long = Vec::new();
    for krate in ["judge-runtime", "judge-macros", "judge-rules"] {
        for file in rust_files(&workspace().join(krate).join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines = lines_before_tests(&text);
            if lines > MAX_LINES {
                long.push(format!("{}: {lines} lines", file.strip_prefix(workspace()).unwrap().display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these files (one concept per file), at most {MAX_LINES} lines each:\n{}",
        long.join("\n")
    );
}

/// The checks themselves, on a tree made for them: a cycle through a grouped import, one through a
/// re-export and one among sub-modules are each found; imports in tests and one-way imports are not.
#[test]
fn the_cycle_check_finds_what_it_must_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\npub use d::inner::Thing;\n");
    write("a.rs", "use crate::{b::B, c};\n");
    write("b.rs", "/// See [`crate::a::A`].\npub struct B;\n");
    write("c.rs", "pub fn c() -> crate::Thing { todo!() }\n");
    write(
        "d/mod.rs",
        "pub mod inner;\nmod other;\n#[cfg(test)]\nmod tests {\n    use crate::a::A; // a test may look anywhere\n    fn f() { let _ = '{'; }\n}\n",
    );
    write("d/inner.rs", "pub struct Thing;\nuse super::other::O;\n");
    write("d/other.rs", "pub struct O(crate::d::inner::Thing);\n");
    let tree = ModuleTree::read(dir.path());
    let cycles = tree.cycles();
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    assert!(cycles[0].starts_with("a -> b -> a\n") && cycles[0].contains("b -> a: b.rs:1"), "{}", cycles[0]);
    assert!(cycles[1].starts_with("d/: inner -> other -> inner"), "{}", cycles[1]);
    // c -> d through the re-export `crate::Thing`, one way: no cycle; d's test imports do not count.
    assert!(tree.edges(&[]).contains_key(&("c".to_owned(), "d".to_owned())), "{:?}", tree.edges(&[]));
    assert!(!tree.edges(&[]).contains_key(&("d".to_owned(), "a".to_owned())));

    let text = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn b() { let s = \"}}}\"; }\n}\n";
    assert_eq!(lines_before_tests(text), 1);
    assert_eq!(lines_before_tests("fn a() {}\nfn b() {}\n"), 2);
}

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The lines of `text` before its `#[cfg(test)] mod tests` block (all of them if it has none).
fn lines_before_tests(text: &str) -> usize {
    match tests_block(text) {
        Some((start, _)) => text[..start].lines().count(),
        None => text.lines().count(),
    }
}

/// The byte range of the `#[cfg(test)] mod tests { … }` block of `text`, if any.
fn tests_block(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("#[cfg(test)]") {
        let start = from + i;
        let rest = text[start + "#[cfg(test)]".len()..].trim_start();
        if let Some(body) = rest.strip_prefix("mod tests").map(str::trim_start).filter(|b| b.starts_with('{')) {
            let open = text.len() - body.len();
            return Some((start, matching_brace(text, open)));
        }
        from = start + 1;
    }
    None
}

/// The end of the block whose `{` is at `open`, skipping braces in strings, characters and comments.
fn matching_brace(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i += text[i..].find('\n').unwrap_or(text.len() - i);
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            // A character literal ('{', '\''), not a lifetime ('a): a quote two or three bytes on.
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                i += text[i + 2..].find('\'').map_or(0, |j| j + 2);
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// The modules of a crate's `src/`, each with its file's text (tests cut out) and its re-exports.
struct ModuleTree {
    root: PathBuf,
    /// Module path (`["judge", "http"]`; `[]` for lib.rs) → (file, text without its tests block).
    files: BTreeMap<Vec<String>, (PathBuf, String)>,
}

/// One import: where it is written, and the module path it names.
struct Import {
    from: Vec<String>,
    to: Vec<String>,
    at: String,
}

impl ModuleTree {
    fn read(root: &Path) -> Self {
        let mut files = BTreeMap::new();
        for file in rust_files(root) {
            let relative = file.strip_prefix(root).unwrap();
            let mut path: Vec<String> =
                relative.with_extension("").iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if matches!(path.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                path.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let text = match tests_block(&text) {
                // Blanked, not removed, so that line numbers stay true.
                Some((start, end)) => {
                    let blank: String = text[start..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
                    format!("{}{blank}{}", &text[..start], &text[end..])
                }
                None => text,
            };
            files.insert(path, (file, text));
        }
        Self { root: root.to_path_buf(), files }
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.files.contains_key(path)
    }

    /// Every import of the tree, with re-exports followed to the module they name.
    fn imports(&self) -> Vec<Import> {
        let mut imports = Vec::new();
        for (module, (file, text)) in &self.files {
            // `super` of a file's module is its parent; a mod.rs or lib.rs is its directory's module.
            let parent = &module[..module.len().saturating_sub(1)];
            for prefix in ["crate::", "super::"] {
                let mut from = 0;
                while let Some(i) = text[from..].find(prefix) {
                    let start = from + i;
                    from = start + prefix.len();
                    // `crate::` inside a longer word (`my_crate::`, `$crate::`) is not this crate, and
                    // the second `super::` of `super::super::` was counted with the first.
                    let before = text[..start].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
                        continue;
                    }
                    let mut base: Vec<String> = if prefix == "crate::" { Vec::new() } else { parent.to_vec() };
                    let mut tree = &text[from..];
                    while let Some(rest) = tree.strip_prefix("super::") {
                        base.pop();
                        tree = rest;
                    }
                    let line = text[..start].matches('\n').count() + 1;
                    let at = format!("{}:{line}", file.strip_prefix(&self.root).unwrap().display());
                    for path in expand_use_tree(tree) {
                        let to = self.resolve(base.iter().cloned().chain(path).collect(), 0);
                        imports.push(Import { from: module.clone(), to, at: at.clone() });
                    }
                }
            }
        }
        imports
    }

    /// `path`, with a re-export at any level replaced by the path it re-exports.
    fn resolve(&self, path: Vec<String>, depth: usize) -> Vec<String> {
        if depth > 8 {
            return path;
        }
        for level in 0..path.len() {
            let dir = &path[..level];
            let mut child = dir.to_vec();
            child.push(path[level].clone());
            if self.is_module(&child) {
                continue;
            }
            if let Some((_, text)) = self.files.get(dir)
                && let Some(target) = reexport(text, &path[level])
            {
                let base: Vec<String> = match target.first().map(String::as_str) {
                    Some("crate") => Vec::new(),
                    Some("super") => dir[..dir.len().saturating_sub(1)].to_vec(),
                    Some("self") => dir.to_vec(),
                    // Uniform paths: a `use child::…` in a mod.rs starts at that module's children.
                    _ => dir.to_vec(),
                };
                let skip = usize::from(matches!(target.first().map(String::as_str), Some("crate" | "super" | "self")));
                let resolved =
                    base.into_iter().chain(target.into_iter().skip(skip)).chain(path[level + 1..].iter().cloned());
                return self.resolve(resolved.collect(), depth + 1);
            }
            break;
        }
        path
    }

    /// The edges among the sub-modules of the directory module `dir` (`[]`: the top-level modules),
    /// each with where its first import is written.
    fn edges(&self, dir: &[String]) -> BTreeMap<(String, String), String> {
        let mut edges = BTreeMap::new();
        let depth = dir.len();
        for import in self.imports() {
            let (from, to) = (&import.from, &import.to);
            if from.len() <= depth || to.len() <= depth || from[..depth] != *dir || to[..depth] != *dir {
                continue;
            }
            let (a, b) = (&from[depth], &to[depth]);
            let mut target = dir.to_vec();
            target.push(b.clone());
            if a != b && self.is_module(&target) {
                edges.entry((a.clone(), b.clone())).or_insert(import.at);
            }
        }
        edges
    }

    /// Each cycle among the sub-modules of each directory module, as `DIR/: a -> b -> a`, then
    /// every import among the modules caught in it, with the line that makes it.
    fn cycles(&self) -> Vec<String> {
        let dirs: BTreeSet<Vec<String>> =
            self.files.keys().filter(|path| !path.is_empty()).map(|path| path[..path.len() - 1].to_vec()).collect();
        let mut found = Vec::new();
        for dir in dirs {
            let edges = self.edges(&dir);
            for (cycle, members) in strongly_connected(&edges) {
                let name = if dir.is_empty() { String::new() } else { format!("{}/: ", dir.join("/")) };
                let inside: Vec<String> = edges
                    .iter()
                    .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                    .map(|((a, b), at)| format!("  {a} -> {b}: {at}"))
                    .collect();
                let mut steps = cycle;
                steps.push(steps[0].clone());
                found.push(format!("{name}{}\n{}", steps.join(" -> "), inside.join("\n")));
            }
        }
        found
    }
}

/// The paths named by the use tree at the start of `text` (just after `crate::` or `super::`):
/// `a::b::C` → `[a, b, C]`; `{a::B, c}` → `[a, B]`, `[c]`; `a::{b, c::D}` → `[a, b]`, `[a, c, D]`.
fn expand_use_tree(text: &str) -> Vec<Vec<String>> {
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(rest, 0).saturating_sub(1).min(rest.len());
            let inner = &group[..end.saturating_sub(1).min(group.len())];
            let mut items = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            return items
                .into_iter()
                .map(str::trim)
                .filter(|item| !item.is_empty() && *item != "self")
                .flat_map(|item| {
                    expand_use_tree(item).into_iter().map(|tail| path.iter().cloned().chain(tail).collect())
                })
                .collect();
        }
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        path.push(rest[..len].to_owned());
        match rest[len..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    if path.is_empty() { Vec::new() } else { vec![path] }
}

/// What `name` re-exports in a module's `text` (`pub use a::b::name;`, `pub(crate) use a::{b::name};`,
/// `pub use a::x as name;`), as a path.
fn reexport(text: &str, name: &str) -> Option<Vec<String>> {
    for visibility in ["pub use ", "pub(crate) use ", "pub(super) use "] {
        for (start, _) in text.match_indices(visibility) {
            let tree = &text[start + visibility.len()..];
            let tree = &tree[..tree.find(';').unwrap_or(tree.len())];
            // `a::{b as c}` is read as the path `a::b__as__c`, then split.
            let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ").replace(" as ", "__as__");
            for mut path in expand_use_tree(&tree) {
                let last = path.pop().unwrap_or_default();
                let (item, alias) = last.split_once("__as__").unwrap_or((&last, &last));
                if alias == name {
                    path.push(item.to_owned());
                    return Some(path);
                }
            }
        }
    }
    None
}

/// The cycles of a directed graph: its strongly connected components of two nodes or more, each
/// given as one cycle through it (from its smallest node) and its members.
fn strongly_connected(edges: &BTreeMap<(String, String), String>) -> Vec<(Vec<String>, BTreeSet<String>)> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        next.entry(a).or_default().push(b);
        next.entry(b).or_default();
    }
    let reachable = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(node) = stack.pop() {
            for &n in &next[node] {
                if seen.insert(n) {
                    stack.push(n);
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&str, BTreeSet<&str>> = next.keys().map(|&node| (node, reachable(node))).collect();
    let mut done = BTreeSet::new();
    let mut cycles = Vec::new();
    for (&node, from_node) in &reach {
        if done.contains(node) || !from_node.contains(node) {
            continue;
        }
        let component: BTreeSet<&str> = from_node.iter().copied().filter(|other| reach[other].contains(node)).collect();
        done.extend(component.iter().copied());
        // A shortest way from `node` back to itself inside the component.
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([node]);
        let mut last = node;
        'search: while let Some(current) = queue.pop_front() {
            for &n in next[current].iter().filter(|n| component.contains(*n)) {
                if n == node {
                    last = current;
                    break 'search;
                }
                if !previous.contains_key(n) {
                    previous.insert(n, current);
                    queue.push_back(n);
                }
            }
        }
        let mut cycle = Vec::new();
        let mut at = last;
        while at != node {
            cycle.push(at.to_owned());
            at = previous[at];
        }
        cycle.push(node.to_owned());
        cycle.reverse();
        cycles.push((cycle, component.iter().map(|&m| m.to_owned()).collect()));
    }
    cycles
}
