//! Python for the tests (llama-cpp-python's and moto's servers, the statistics reference):
//! `python3`, with only the variables Python needs, and the end of a server's log.

use std::process::{Command, Stdio};

/// `python3` with only the variables Python needs to find itself and its packages. The servers
/// read settings from the environment too (llama-cpp-python's `HOST` and `PORT` even win over the
/// command line, and `API_KEY` would demand a key), so nothing else is passed on.
pub(crate) fn python3() -> Command {
    let mut command = Command::new("python3");
    command.env_clear();
    for (key, value) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        let kept = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "VIRTUAL_ENV"].contains(&name)
            || ["PYTHON", "PYENV_", "CONDA_", "LLAMA_CPP_LIB"].iter().any(|prefix| name.starts_with(prefix));
        if kept {
            command.env(key, value);
        }
    }
    command
}

/// The last `lines` lines of the log of `server` at `log`, for assertion messages.
pub(crate) fn log_tail(server: &str, log: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    format!("--- the last {lines} lines of {server} log {}\n{tail}", log.display())
}

/// Whether `python3 -c "import MODULE"` succeeds.
pub(crate) fn python_module_installed(module: &str) -> bool {
    python3()
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
