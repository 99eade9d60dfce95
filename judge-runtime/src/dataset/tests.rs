use super::*;
use crate::calibration::HumanLabel;

/// Writes `text` as `name` in a fresh directory and reads it as a dataset.
fn read(name: &str, text: &str) -> (tempfile::TempDir, Result<Dataset, DatasetError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("evals")).unwrap();
    std::fs::write(dir.path().join("evals").join(name), text).unwrap();
    let read = Dataset::read(dir.path(), &format!("evals/{name}"));
    (dir, read)
}

fn error(name: &str, text: &str) -> String {
    let (dir, read) = read(name, text);
    let message = read.expect_err("an error").to_string();
    // Every message starts with the resolved path.
    let path = dir.path().join("evals").join(name);
    assert!(message.starts_with(&path.display().to_string()), "{message}");
    message[path.display().to_string().len()..].to_owned()
}

#[test]
fn jsonl_rows_have_their_fields_settings_and_variables() {
    let text = r#"{"id": "refund-window", "input": "Can I return it?", "expected": "30 days", "max_words": 50}

{"input": "Do you ship abroad?", "threshold": 0.9, "samples": 3, "rubric": "Says yes.", "tone": "warm"}
{"id": 7, "input": "Hi", "expected": null, "compare_with": "Hello!"}
"#;
    let (_dir, read) = read("support.jsonl", text);
    let dataset = read.unwrap();
    let ids: Vec<&str> = dataset.rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["refund-window", "2", "7"], "a row without an id is named by its row number");
    assert_eq!(dataset.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3, 4]);
    let first = dataset.rows[0].case().unwrap();
    assert_eq!(first.input, "Can I return it?");
    assert_eq!(first.expected.as_deref(), Some("30 days"));
    assert_eq!(first.var::<u32>("max_words"), Ok(50));
    let second = &dataset.rows[1];
    assert_eq!(
        second.settings,
        RowSettings { rubric: Some("Says yes.".into()), threshold: Some(0.9), samples: Some(3), compare_with: None }
    );
    assert_eq!(second.vars().keys().collect::<Vec<_>>(), ["tone"], "known fields are not variables");
    assert_eq!(dataset.rows[2].input_and_expected().1, None);
    assert_eq!(dataset.rows[2].settings.compare_with.as_deref(), Some("Hello!"));
}

#[test]
fn a_json_array_and_a_csv_read_the_same_rows() {
    let json = "[\n  {\"id\": \"a\", \"input\": \"Q1\", \"expected\": \"A1\", \"threshold\": 0.5},\n\n  {\"id\": \"b\", \"input\": \"Q2\", \"words\": 3}\n]";
    let (_d1, json) = read("cases.json", json);
    let json = json.unwrap();
    assert_eq!(json.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4], "each object's own line");
    let csv = "id,input,expected,threshold,words\na,Q1,A1,0.5,\nb,\"Q2\",,,3\n";
    let (_d2, csv) = read("cases.csv", csv);
    let csv = csv.unwrap();
    assert_eq!(csv.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3]);
    for (j, c) in json.rows.iter().zip(&csv.rows) {
        assert_eq!((&j.id, j.input_and_expected(), &j.settings), (&c.id, c.input_and_expected(), &c.settings));
    }
    let case = csv.rows[1].case().unwrap();
    assert_eq!(case.var::<u32>("words"), Ok(3), "a CSV cell is read as the number it spells");
    assert!(csv.rows[0].vars().is_empty(), "an empty cell is an absent field");
}

#[test]
fn a_row_may_be_read_as_a_type_of_the_users() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Ticket {
        subject: String,
        priority: u8,
    }
    let (_dir, read) = read("tickets.jsonl", "{\"subject\": \"Broken\", \"priority\": 2}\n{\"subject\": \"Late\"}\n");
    let dataset = read.unwrap();
    assert_eq!(dataset.rows[0].deserialize::<Ticket>(), Ok(Ticket { subject: "Broken".into(), priority: 2 }));
    let error = dataset.rows[1].deserialize::<Ticket>().unwrap_err().to_string();
    assert_eq!(
        error,
        "the row cannot be read as `judge_runtime::dataset::tests::a_row_may_be_read_as_a_type_of_the_users::Ticket`: \
         missing field `priority`"
    );
    let error = dataset.rows[0].case().unwrap_err();
    assert!(error.starts_with("the row has no `input`; give it one, or take a row type of your own"), "{error}");
}

#[test]
fn bad_input_is_an_error_at_its_line_that_says_what_to_do() {
    let cases: [(&str, &str, &str); 15] = [
        ("a.csv", "id,input,input\na,x,y\n", ":1: column 3 of the header row repeats the name \"input\""),
        (
            "a.jsonl",
            "{\"input\": \"x\", \"id\": \"r\"}\n{\"input\": \"y\", \"id\": \"s\"}\n{\"input\": \"z\", \"id\": \"r\"}\n",
            ":3: duplicate id \"r\" on lines 1 and 3",
        ),
        (
            "a.jsonl",
            "{\"input\": \"x\"}\n{\"input\": \"y\",\n",
            ":2: malformed JSON at column 14: EOF while parsing a value",
        ),
        ("a.jsonl", "[1, 2]\n", ":1: a row is a JSON object (`{\"input\": …}`), not an array"),
        ("a.jsonl", "{\"input\": 3}\n", ":1: `input` must be a string, found a number"),
        (
            "a.jsonl",
            "{\"input\": \"x\", \"threshold\": 1.5}\n",
            ":1: 1.5 is out of range: `threshold` must be in 0.0..=1.0",
        ),
        (
            "a.jsonl",
            "{\"input\": \"x\", \"samples\": 0}\n",
            ":1: 0 is out of range: `samples` must be a whole number in 1..=10000",
        ),
        (
            "a.jsonl",
            "{\"input\": \"x\", \"id\": [\"r\"]}\n",
            ":1: `id` must be a non-empty string or a whole number, found an array",
        ),
        ("a.jsonl", "\n\n", ": the dataset has no rows; add at least one"),
        ("a.json", "{\"input\": \"x\"}", ":1: the file is not a JSON array of objects"),
        ("a.json", "[\n {\"input\": \"x\"},\n {\"input\": }\n]", ":3: malformed JSON: expected value"),
        // Syntax a first reading lets through, caught when the object is read as a value.
        (
            "a.json",
            "[\n {\"input\": \"x\"},\n {\"input\": \"y\",\n  \"n\": 1e400}\n]",
            ":4: malformed JSON: number out of range",
        ),
        ("a.json", "[{\"input\": \"\\ud800\"}]", ":1: malformed JSON: unexpected end of hex escape"),
        ("a.csv", "input,threshold\nx,high\n", ":2: `threshold` must be a number, found \"high\""),
        ("a.csv", "input,expected\nx,y,z\n", ":2: the record has 3 fields where the header row has 2"),
    ];
    for (name, text, expected) in cases {
        let message = error(name, text);
        assert!(message.starts_with(expected), "{name} {text:?}:\n  {message}\n  expected to start with {expected}");
    }
    assert!(error("a.txt", "x").starts_with(": `.txt` is not a dataset format: name the file .jsonl"));
    let dir = tempfile::tempdir().unwrap();
    let missing = Dataset::read(dir.path(), "evals/none.jsonl").unwrap_err().to_string();
    let resolved = dir.path().join("evals/none.jsonl").display().to_string();
    assert!(missing.starts_with(&format!("{resolved}: cannot read the dataset: No such file")), "{missing}");
}

#[test]
fn a_human_label_is_read_but_never_a_variable_nor_a_placeholder() {
    let (_dir, labelled) =
        read("labelled.jsonl", "{\"input\": \"a\", \"human\": 7}\n{\"input\": \"b\", \"human\": 3.5}\n");
    let dataset = labelled.unwrap();
    assert_eq!(dataset.rows[0].human, Some(HumanLabel::Score(7.0)));
    assert_eq!(dataset.rows[1].human, Some(HumanLabel::Score(3.5)));
    assert!(dataset.rows[0].vars().is_empty(), "a label is not a variable");
    assert!(dataset.rows[0].case().unwrap().vars.is_empty());
    let unfilled = dataset.rows[0].fill("Grade it like {{human}} would.").unwrap_err();
    assert!(unfilled.contains("never shown to the judge"), "{unfilled}");

    let (_dir, labelled) = read("labelled.csv", "id,input,human\na,x,true\nb,y,false\nc,z,\n");
    let labels: Vec<Option<HumanLabel>> = labelled.unwrap().rows.iter().map(|r| r.human).collect();
    assert_eq!(labels, [Some(HumanLabel::Pass(true)), Some(HumanLabel::Pass(false)), None]);
    let (_dir, labelled) = read("labelled.csv", "id,input,human\na,x,7\nb,y,9.5\n");
    assert_eq!(labelled.unwrap().rows[1].human, Some(HumanLabel::Score(9.5)));

    let mixed = error("mixed.jsonl", "{\"input\": \"a\", \"human\": 7}\n{\"input\": \"b\", \"human\": true}\n");
    assert!(mixed.starts_with(":2: the `human` labels of a dataset are all scores or all true/false"), "{mixed}");
    let wrong = error("wrong.csv", "id,input,human\na,x,good\n");
    assert!(wrong.starts_with(":2: `human` is a person's score"), "{wrong}");
    let wrong = error("wrong.jsonl", "{\"input\": \"a\", \"human\": \"7\"}\n");
    assert!(
        wrong.starts_with(
            ":1: `human` is a person's score (a number on the eval's scale) or true/false, found a string"
        ),
        "{wrong}"
    );
}
