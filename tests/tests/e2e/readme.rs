//! The README's failure output is a real run's: regenerated here, compared with the README.
//! `UPDATE_README=1 cargo test -p judge-tests --test e2e readme` rewrites the block.

use judge_tests::FakeJudge;

use crate::common::{run_exact, suite};

const START: &str = "<!-- failure-output:start -->\n```text\n";
const END: &str = "```\n<!-- failure-output:end -->";

#[test]
fn the_readme_shows_a_real_failure() {
    let judge = FakeJudge::start();
    let cache = tempfile::tempdir().unwrap();
    let run = run_exact(suite(&judge, cache.path()), &["clock_hands"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    // The only volatile part: the duration.
    let output: String = run
        .stdout
        .lines()
        .map(|line| match line.find("; finished in ") {
            Some(i) => format!("{}; finished in 0.01s\n", &line[..i]),
            None => format!("{line}\n"),
        })
        .collect();

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme.find(START).expect("README.md has a failure-output block") + START.len();
    let end = start + readme[start..].find(END).expect("the failure-output block ends");
    if readme[start..end] == output {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, format!("{}{output}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    panic!(
        "README.md's failure output differs from a real run; rerun with UPDATE_README=1 to rewrite it.\n\
         --- README\n{}--- real run\n{output}",
        &readme[start..end]
    );
}

/// Every `JUDGE_*` variable the documentation names (README.md, docs/github-actions.yml) is one the
/// runtime reads: a renamed setting cannot leave the docs pointing at nothing.
#[test]
fn the_documented_variables_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Where settings are read: judge-rules' declarations (every variable of a setting, JUDGE_CONFIG
    // among them) and the embedded judge's model location. Test code is left out: a name must be
    // read, not named.
    let mut source = String::new();
    for file in ["judge-rules/src/declarations.rs", "judge-runtime/src/judge/embedded/local_model.rs"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        source.push_str(text.split("#[cfg(test)]\nmod tests").next().unwrap());
    }
    let mut named = Vec::new();
    for doc in ["README.md", "docs/github-actions.yml"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (i, _) in text.match_indices("JUDGE_") {
            // Not the middle of a longer name, e.g. `JUDGE_MAX_JUDGE_CALLS`.
            if text[..i].ends_with(|c: char| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
            let name: String =
                text[i..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
            // `JUDGE_REPORT_JSON`, `_JUNIT`: a shorthand the README uses in one table cell.
            if !name.ends_with('_') {
                named.push((doc, name));
            }
        }
    }
    assert!(named.len() > 20, "{named:?}");
    for (doc, name) in named {
        assert!(source.contains(&format!("\"{name}\"")), "{doc} names {name}, which judge-runtime does not read");
    }
}
