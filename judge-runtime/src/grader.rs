//! Grading outputs outside the test harness: for calibration against human labels, measurement
//! scripts, or tools. No cache, no threshold: one verdict per call.

use std::borrow::Cow;

use crate::error::{ConfigError, JudgeError};
use crate::judge::techniques::prompt::{self, Task};
use crate::judge::techniques::verdict::{Scale, Verdict};
use crate::judge::transport::http::HttpClient;
use crate::judge::{Judge, JudgeSpec};
use crate::settings::params::GenerationParams;
use crate::settings::{DEFAULT_MAX_OUTPUT_CHARS, DEFAULT_TIMEOUT_SECS};

/// A judge, ready to grade outputs.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let grader = judge_runtime::Grader::new("openai:gpt-4.1-mini")?;
/// let verdict = grader.grade("Names Canberra.", Some("Capital of Australia?"), Some("Canberra"), "Sydney.").await?;
/// assert!(verdict.normalized() < 0.5);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Grader {
    judge: Judge,
}

impl Grader {
    /// A grader using `judge` (`provider:model`, or `local`), configured from the environment as
    /// the harness would be (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, …).
    pub fn new(judge: &str) -> Result<Self, ConfigError> {
        let spec = JudgeSpec::parse(judge).map_err(|reason| ConfigError::InvalidJudge {
            spec: judge.to_owned(),
            source_name: "Grader::new".to_owned(),
            reason,
        })?;
        Ok(Self { judge: Judge::new(spec, HttpClient::new(Default::default()), None)? })
    }

    /// Grades `output` against `rubric`, given the `input` it answers and a reference answer.
    pub async fn grade(
        &self,
        rubric: &str,
        input: Option<&str>,
        expected: Option<&str>,
        output: &str,
    ) -> Result<Verdict, JudgeError> {
        let owned = |s: &str| Cow::Owned(s.to_owned());
        let task = Task {
            rubric: owned(rubric),
            input: input.map(owned),
            expected: expected.map(owned),
            levels: None,
            criteria: None,
            steps: None,
        };
        let request = prompt::render(task, output, Scale::default(), DEFAULT_MAX_OUTPUT_CHARS);
        let timeout = std::time::Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS);
        let verdict = self.judge.verdict(&request, &GenerationParams::default(), timeout).await;
        self.judge.take_notices().iter().for_each(|text| crate::report::printer::notice(text));
        verdict
    }
}
