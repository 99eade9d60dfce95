//! A suite of 200 evals × 3 samples for the soak and kill tests: each sample's output is distinct
//! and carries the score the fake judge gives it, so any run that survives its faults must end
//! with exactly the same verdicts.

use std::sync::atomic::{AtomicUsize, Ordering};

use judge_runtime::llm_eval;

/// The output of the `n`-th call of eval `name`: the score is a function of both, 6..=10, so every
/// eval passes its 0.5 threshold.
fn output(name: &str, counter: &AtomicUsize) -> String {
    let n = counter.fetch_add(1, Ordering::SeqCst);
    let id: usize = name[1..].parse().expect("evals are named e000..e199");
    format!("Answer {n} of eval {name}. [score:{}]", 6 + (id * 3 + n) % 5)
}

macro_rules! soak_evals {
    ($($name:ident),* $(,)?) => { $(
        #[llm_eval(rubric = "Scripted.", input = "Soak.", expected = "answer", samples = 3, threshold = 0.5)]
        fn $name() -> String {
            static CALLS: AtomicUsize = AtomicUsize::new(0);
            output(stringify!($name), &CALLS)
        }
    )* };
}

soak_evals!(
    e000, e001, e002, e003, e004, e005, e006, e007, e008, e009, e010, e011, e012, e013, e014, e015, e016, e017, e018,
    e019, e020, e021, e022, e023, e024, e025, e026, e027, e028, e029, e030, e031, e032, e033, e034, e035, e036, e037,
    e038, e039, e040, e041, e042, e043, e044, e045, e046, e047, e048, e049, e050, e051, e052, e053, e054, e055, e056,
    e057, e058, e059, e060, e061, e062, e063, e064, e065, e066, e067, e068, e069, e070, e071, e072, e073, e074, e075,
    e076, e077, e078, e079, e080, e081, e082, e083, e084, e085, e086, e087, e088, e089, e090, e091, e092, e093, e094,
    e095, e096, e097, e098, e099, e100, e101, e102, e103, e104, e105, e106, e107, e108, e109, e110, e111, e112, e113,
    e114, e115, e116, e117, e118, e119, e120, e121, e122, e123, e124, e125, e126, e127, e128, e129, e130, e131, e132,
    e133, e134, e135, e136, e137, e138, e139, e140, e141, e142, e143, e144, e145, e146, e147, e148, e149, e150, e151,
    e152, e153, e154, e155, e156, e157, e158, e159, e160, e161, e162, e163, e164, e165, e166, e167, e168, e169, e170,
    e171, e172, e173, e174, e175, e176, e177, e178, e179, e180, e181, e182, e183, e184, e185, e186, e187, e188, e189,
    e190, e191, e192, e193, e194, e195, e196, e197, e198, e199
);

judge_runtime::main!();
