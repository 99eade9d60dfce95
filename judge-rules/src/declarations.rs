//! Every setting of judge, declared once, here.
//!
//! An entry is `key: Type = reader => declaration;`:
//! - `key` is the attribute's and judge.toml's key;
//! - `Type = reader` is how judge-runtime holds and reads its value (names in judge-runtime's
//!   `settings/layer.rs`, where they are used; judge-rules passes them on unread). After the reader,
//!   `default` or `optional` says that the setting resolves on its own: to its merged value, else to
//!   its declared default (read by that reader from the declaration's words) or to none; the
//!   runtime then holds it, resolved, in its `EvalValues` or `RunValues` by key. Without either, the
//!   runtime resolves it by rules that span settings (the judge or ensemble, the technique, the
//!   threshold of a comparison, …);
//! - the declaration says, for this crate: the kind of value in words, the environment variable,
//!   where it may be set, the default in words, one doc line, and a number's range.
//!
//! An entry without `Type = reader` is held by the code alone (the attribute's `rubric`, `crate`,
//! …) or read before every other setting (`config`).
//!
//! Adding a setting: its entry here, the code that uses it, and its row in README.md's settings
//! table (which a test checks against these entries). An attribute key is also read by the macro
//! (judge-macros' `args.rs`) and crosses to the runtime as a typed field of `EvalCase`.

/// Calls the macro `$then` with every declaration: `eval { … } run { … }`, in the order the
/// documentation lists them.
#[doc(hidden)]
#[macro_export]
macro_rules! declare_settings {
    ($then:ident) => {
        $then! {
            eval {
                rubric => Setting::code(TEXT, "none: required", "what a good output does; the judge grades against it");
                threshold: f64 = number
                    => Setting::eval(NUMBER, Some("JUDGE_THRESHOLD"), "0.7", "pass mark of the reduced score")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0"));
                input => Setting::code(TEXT, "none", "the input the output answers, shown to the judge");
                expected => Setting::code(TEXT, "none", "a reference answer, for reference-guided grading");
                dataset => Setting::code(PATH, "none", "a file of cases (JSONL, JSON, CSV): a test per row");
                min_pass_rate => Setting::code(NUMBER, "none", "a dataset is one test, passing when this share of rows pass")
                    .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is the share of rows that must pass"));
                samples: judge_rules::Samples = samples
                    => Setting::eval(WHOLE, Some("JUDGE_SAMPLES"), "1", "outputs generated and judged per eval, or \"adaptive\"")
                        .within(Range::new(1.0, Some(10_000.0), "a whole number in 1..=10000").whole());
                min_samples: u32 = whole, default
                    => Setting::eval(WHOLE, Some("JUDGE_MIN_SAMPLES"), "3", "adaptive samples judged before the first decision")
                        .within(Range::new(2.0, Some(10_000.0), "a whole number in 2..=10000").whole());
                max_samples: u32 = whole, default
                    => Setting::eval(WHOLE, Some("JUDGE_MAX_SAMPLES"), "15", "adaptive samples judged at most")
                        .within(Range::new(2.0, Some(10_000.0), "a whole number in 2..=10000").whole());
                trim: f64 = number
                    => Setting::eval(NUMBER, Some("JUDGE_TRIM"), "0.15", "fraction of scores dropped at each end")
                        .within(Range::new(0.0, Some(0.5), "in 0.0..0.5").open_high().meaning("is the fraction dropped at each end"));
                reduce: judge_rules::Reduce = word(judge_rules::reduce::parse)
                    => Setting::eval(WORD, Some("JUDGE_REDUCE"), "trimmed_mean", "how the samples' scores reduce");
                scoring: bool = word(words::scoring)
                    => Setting::eval(WORD, Some("JUDGE_SCORING"), "weighted", "weighted by token probabilities, or stated");
                levels: Levels = levels
                    => Setting::eval("array of strings", None, "none", "rubric levels: bands of the scale");
                criteria: Criteria = criteria
                    => Setting::eval("table", None, "none", "criteria scored separately in one call");
                compare_with: Comparison = |_, raw| non_empty(raw).map(Comparison::Text)
                    => Setting::eval("string or function", None, "none", "the output each sample is compared with")
                        .aka(&["baseline"])
                        .not_in_file();
                on_tie: OnTie = word(OnTie::parse), default
                    => Setting::eval(WORD, Some("JUDGE_ON_TIE"), "pass", "what an eval whose comparisons all tie does")
                        .words(OnTie::WORDS);
                steps: Steps = steps
                    => Setting::eval("\"auto\" or array of strings", Some("JUDGE_STEPS"), "none", "G-Eval's evaluation steps");
                judge: JudgeName = |_, raw| text(raw).map(JudgeName::Written)
                    => Setting::eval("provider:model", Some("JUDGE_MODEL"), "none", "the judge");
                judges: Vec<JudgeName> = judges
                    => Setting::eval("array of provider:model", Some("JUDGE_MODELS"), "one judge", "an ensemble of judges");
                combine: Combine = word(Combine::parse), default
                    => Setting::eval(WORD, Some("JUDGE_COMBINE"), "mean", "how an ensemble's scores combine");
                max_spread: f64 = number
                    => Setting::eval(NUMBER, Some("JUDGE_MAX_SPREAD"), "none", "largest unflagged spread of an ensemble")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is the largest gap between judges' scores not flagged"));
                on_disagreement: bool = word(words::on_disagreement)
                    => Setting::eval(WORD, Some("JUDGE_ON_DISAGREEMENT"), "flag", "what a flagged disagreement does");
                temperature: f64 = number
                    => Setting::eval(NUMBER, Some("JUDGE_TEMPERATURE"), "0.0", "judge sampling temperature")
                        .within(Range::new(0.0, Some(2.0), "in 0.0..=2.0"));
                max_tokens: u32 = whole
                    => Setting::eval(WHOLE, Some("JUDGE_MAX_TOKENS"), "provider's", "longest judge reply, tokens")
                        .within(Range::new(1.0, Some(1_000_000.0), "a whole number in 1..=1000000").whole());
                seed: u64 = whole
                    => Setting::eval(WHOLE, Some("JUDGE_SEED"), "none", "sampling seed, where the provider takes one")
                        .within(Range::new(0.0, None, "a whole number ≥ 0").whole());
                timeout: Duration = seconds, default
                    => Setting::eval(NUMBER, Some("JUDGE_TIMEOUT"), "120", "limit on one judge request, seconds")
                        .within(Range::new(0.0, Some(86_400.0), "in (0, 86400]").open_low().meaning("is in seconds"));
                snapshot: SnapshotMode = snapshot, default
                    => Setting::eval("true, false or \"strict\"", Some("JUDGE_SNAPSHOT"), "false", "snapshot the verdict with insta");
                min_agreement: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "least exact agreement with a dataset's human labels")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is a share of the labelled rows"));
                min_kappa: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "least Cohen's kappa with a dataset's human labels")
                        .within(Range::new(-1.0, Some(1.0), "in -1.0..=1.0"));
                min_spearman: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "least Spearman correlation with a dataset's human scores")
                        .within(Range::new(-1.0, Some(1.0), "in -1.0..=1.0"));
                max_mae: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "largest mean absolute error against a dataset's human scores")
                        .within(Range::new(0.0, None, "a number ≥ 0").meaning("is in scale points"));
                probes: Vec<judge_rules::words::Probe> = probes, default
                    => Setting::eval("array of words", Some("JUDGE_PROBES"), "none", "bias probes beside each verdict, in extra judge calls")
                        .words(Probe::WORDS);
                max_position_bias: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "largest share of comparisons whose winner flips with the order")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is a share of the comparisons"));
                max_verbosity_bias: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "largest mean score gain from content-free padding")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is a gain of the 0..=1 score"));
                validate: judge_rules::words::Validate = word(judge_rules::words::Validate::parse), optional
                    => Setting::eval(WORD, Some("JUDGE_VALIDATE"), "none", "validate the judge on a dataset's rows without labels")
                        .words(Validate::WORDS);
                generator: JudgeName = |_, raw| text(raw).map(JudgeName::Written)
                    => Setting::eval("provider:model", Some("JUDGE_GENERATOR"), "the judge", "the model that writes synthetic pairs");
                max_pairs: u32 = whole, default
                    => Setting::eval(WHOLE, Some("JUDGE_MAX_PAIRS"), "50", "rows of a dataset made into synthetic pairs, at most")
                        .within(Range::new(1.0, Some(100_000.0), "a whole number in 1..=100000").whole());
                min_accuracy: f64 = number, optional
                    => Setting::eval(NUMBER, None, "none", "least share of synthetic pairs the judge orders right")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is a share of the pairs"));
                name => Setting::code(TEXT, "the function's", "the eval's name");
                crate => Setting::code("path", "judge_runtime", "the path of judge-runtime, when renamed");
            }
            run {
                max_concurrency: usize = whole, default
                    => Setting::run(WHOLE, "JUDGE_MAX_CONCURRENCY", "16", "judge requests in flight at once")
                        .within(Range::new(1.0, Some(4096.0), "a whole number in 1..=4096").whole());
                cache: CacheMode = word(CacheMode::parse), default
                    => Setting::run(WORD, "JUDGE_CACHE", "on", "verdict cache mode");
                cache_dir: CacheLocation = cache_location
                    => Setting::run("path or s3://BUCKET/PREFIX", "JUDGE_CACHE_DIR", "target/judge-cache", "verdict cache: a directory or an S3 bucket's prefix");
                rationales: Rationales = word(Rationales::parse), default
                    => Setting::run(WORD, "JUDGE_RATIONALES", "lowest", "rationales in a failure");
                deadline: Duration = seconds, default
                    => Setting::run(NUMBER, "JUDGE_DEADLINE", "900", "limit on one whole eval, seconds")
                        .within(Range::new(0.0, Some(86_400.0), "in (0, 86400]").open_low().meaning("is in seconds"));
                max_attempts: u32 = whole, default
                    => Setting::run(WHOLE, "JUDGE_MAX_ATTEMPTS", "6", "attempts of a transiently failing request")
                        .within(Range::new(1.0, Some(100.0), "a whole number in 1..=100 (1 means no retry)").whole());
                max_retry_wait: Duration = seconds, default
                    => Setting::run(NUMBER, "JUDGE_MAX_RETRY_WAIT", "300", "longest Retry-After waited, seconds")
                        .within(Range::new(0.0, Some(86_400.0), "in 0..=86400").meaning("is in seconds"));
                requests_per_minute: u32 = whole, optional
                    => Setting::run(WHOLE, "JUDGE_REQUESTS_PER_MINUTE", "unlimited", "requests per minute to one provider")
                        .within(Range::new(1.0, Some(u32::MAX as f64), "a whole number ≥ 1").whole());
                tokens_per_minute: u64 = whole, optional
                    => Setting::run(WHOLE, "JUDGE_TOKENS_PER_MINUTE", "unlimited", "tokens per minute to one provider")
                        .within(Range::new(1.0, None, "a whole number ≥ 1").whole());
                max_judge_calls: u64 = whole, optional
                    => Setting::run(WHOLE, "JUDGE_MAX_JUDGE_CALLS", "unlimited", "the run's budget of judge calls")
                        .within(Range::new(1.0, None, "a whole number ≥ 1").whole());
                max_judge_tokens: u64 = whole, optional
                    => Setting::run(WHOLE, "JUDGE_MAX_JUDGE_TOKENS", "unlimited", "the run's budget of judge tokens")
                        .within(Range::new(1.0, None, "a whole number ≥ 1").whole());
                max_judge_cost: f64 = number, optional
                    => Setting::run(NUMBER, "JUDGE_MAX_JUDGE_COST", "unlimited", "the run's budget of judge cost, by `prices`")
                        .within(Range::new(0.0, None, "a number > 0").open_low());
                prices: Prices = prices, optional
                    => Setting::file_only("table", "none", "each judge's price per million prompt and completion tokens");
                max_output_chars: usize = whole, default
                    => Setting::run(WHOLE, "JUDGE_MAX_OUTPUT_CHARS", "50000", "output length shown to the judge")
                        .within(Range::new(100.0, Some(100_000_000.0), "a whole number in 100..=100000000").whole());
                report_dir: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_REPORT_DIR", "none", "every report of a test binary");
                report_json: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_REPORT_JSON", "none", "the JSON report's file");
                report_junit: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_REPORT_JUNIT", "none", "the JUnit report's file");
                report_html: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_REPORT_HTML", "none", "the HTML report's file");
                report_markdown: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_REPORT_MARKDOWN", "none", "the Markdown report's file");
                score_baseline: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_SCORE_BASELINE", "none", "scores to compare with");
                save_score_baseline: PathBuf = file, optional
                    => Setting::run(PATH, "JUDGE_SAVE_SCORE_BASELINE", "none", "file to save this run's scores to");
                max_score_drop: f64 = number, optional
                    => Setting::run(NUMBER, "JUDGE_MAX_SCORE_DROP", "none", "largest allowed fall below the score baseline")
                        .within(Range::new(0.0, Some(1.0), "in 0.0..=1.0").meaning("is a drop of the 0..1 score"));
                progress: ProgressMode = word(ProgressMode::parse), default
                    => Setting::run(WORD, "JUDGE_PROGRESS", "auto", "progress on long runs");
                config => Setting::run(PATH, "JUDGE_CONFIG", "judge.toml", "the judge.toml to read").not_in_file();
            }
        }
    };
}
