//! [`Eval`]: what one run of an eval judges: a registered eval, or one row of its dataset. Its name,
//! texts and settings are the eval's, with the row's over them.

use std::sync::Arc;

use crate::calibration::HumanLabel;
use crate::dataset::{Dataset, Row};
use crate::error::{ConfigError, DatasetError};
use crate::harness::registry::EvalCase;
use crate::judge::techniques::pairwise;
use crate::judge::techniques::verdict::Scale;
use crate::outcome::{DatasetRowRef, EvalIdentity};
use crate::settings::{EvalSettings, RowOf, Settings};

/// A registered eval, or one row of its dataset.
#[derive(Debug, Clone)]
pub(crate) struct Eval {
    pub case: &'static EvalCase,
    /// The row, for an eval driven by a dataset.
    pub row: Option<DatasetRow>,
}

/// One row of a dataset, with its dataset.
#[derive(Debug, Clone)]
pub(crate) struct DatasetRow {
    pub dataset: Arc<Dataset>,
    pub row: Arc<Row>,
}

impl DatasetRow {
    /// `message` about this row, as `PATH:LINE: message`.
    pub fn error(&self, message: String) -> DatasetError {
        DatasetError::new(&self.dataset.path, Some(self.row.line), message)
    }
}

impl Eval {
    /// A registered eval without a dataset.
    pub fn of(case: &'static EvalCase) -> Self {
        Self { case, row: None }
    }

    /// The test name: `module::path::name`, and `::id` for a row.
    pub fn name(&self) -> String {
        match &self.row {
            Some(row) => format!("{}::{}", self.case.full_name(), row.row.id),
            None => self.case.full_name(),
        }
    }

    /// The name without its module path: `name`, or `name::id` for a row.
    fn short_name(&self) -> String {
        match &self.row {
            Some(row) => format!("{}::{}", self.case.name, row.row.id),
            None => self.case.name.to_owned(),
        }
    }

    /// What the reports tell of the eval. A row's rubric (its own, else the attribute's) has its
    /// `{{name}}` placeholders filled from the row: a placeholder it cannot fill is an error, given
    /// beside the identity (whose rubric is then as written).
    pub fn identity(&self) -> (EvalIdentity, Option<DatasetError>) {
        let case = self.case;
        let mut identity = EvalIdentity {
            name: self.name(),
            short_name: self.short_name(),
            file: case.file.to_owned(),
            line: case.line,
            rubric: case.rubric.to_owned(),
            input: case.input.map(str::to_owned),
            expected: case.expected.map(str::to_owned),
            dataset: None,
        };
        let mut error = None;
        if let Some(row) = &self.row {
            let rubric = row.row.settings.rubric.as_deref().unwrap_or(case.rubric);
            match row.row.fill(rubric) {
                Ok(filled) => identity.rubric = filled,
                Err(message) => {
                    identity.rubric = rubric.to_owned();
                    error = Some(row.error(message));
                }
            }
            (identity.input, identity.expected) = row.row.input_and_expected();
            identity.dataset = Some(DatasetRowRef {
                name: case.full_name(),
                file: row.dataset.file.clone(),
                id: row.row.id.clone(),
                line: row.row.line,
                min_pass_rate: case.min_pass_rate,
                human: row.row.human,
            });
        }
        (identity, error)
    }

    /// The eval's settings: the row's over the attribute's, its sections', the run's.
    pub fn settings(&self, settings: &Settings) -> Result<EvalSettings, ConfigError> {
        let name = self.name();
        let attribute = self.case.attribute_settings();
        match &self.row {
            None => settings.eval(&name, attribute, None),
            Some(row) => {
                let dataset = self.case.full_name();
                let row = RowOf {
                    path: &row.dataset.path,
                    line: row.row.line,
                    dataset: &dataset,
                    settings: &row.row.settings,
                };
                settings.eval(&name, attribute, Some(row))
            }
        }
    }

    /// The row's `human` score, when it lies outside the scale the eval's judge scores on (0–10,
    /// or 0–2 for a comparison): no verdict could agree with it, so the row is an error.
    pub fn label_off_scale(&self, settings: &EvalSettings) -> Option<DatasetError> {
        let row = self.row.as_ref()?;
        let Some(HumanLabel::Score(label)) = row.row.human else { return None };
        let compares =
            self.row_compare_with().is_some() || self.case.compare_with.is_some() || settings.compare_with.is_some();
        let (scale, what) = match compares {
            true => (pairwise::SCALE, "a comparison's scale 0–2 (0 a loss, 1 a tie, 2 a win)"),
            false => (Scale::default(), "the judge's scale 0–10"),
        };
        let within = (f64::from(scale.min)..=f64::from(scale.max)).contains(&label);
        (!within).then(|| {
            row.error(format!(
                "`human` is {label}, outside {what}: label the row with a score on that scale, or true/false"
            ))
        })
    }

    /// The row's own `compare_with`, over the attribute's.
    pub fn row_compare_with(&self) -> Option<&str> {
        self.row.as_ref().and_then(|row| row.row.settings.compare_with.as_deref())
    }
}
