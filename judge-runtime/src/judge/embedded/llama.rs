//! llama.cpp in-process, for the embedded judge (the `local` feature).
//!
//! One backend per process (initialised once, its logs silenced), each model file loaded once and
//! kept for the life of the process, one context per worker thread. A [`Session`] evaluates a
//! shared prefix once into sequence 0, forks it into parallel branches (sequences 1..n share its KV
//! cache), and extends the branches in batched decodes, reading next-token logits where asked.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::token::LlamaToken;

/// Tokens decoded per `llama_decode` call at most.
const BATCH_TOKENS: usize = 1024;

fn backend() -> Result<&'static LlamaBackend, String> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| format!("cannot initialise llama.cpp: {e}"))?;
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The model at `path`, loaded on first use and kept for the life of the process.
pub(crate) fn model(path: &Path) -> Result<&'static LlamaModel, String> {
    static MODELS: OnceLock<Mutex<HashMap<PathBuf, &'static LlamaModel>>> = OnceLock::new();
    let backend = backend()?;
    let mut models = MODELS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = models.get(path) {
        return Ok(model);
    }
    let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
        .map_err(|e| format!("cannot load the model {}: {e}", path.display()))?;
    // Leaked on purpose: contexts borrow the model, and the model serves the whole run.
    let model: &'static LlamaModel = Box::leak(Box::new(model));
    models.insert(path.to_owned(), model);
    Ok(model)
}

/// Renders a chat with the model's own template, ending with the assistant's turn opened.
pub(crate) fn chat(model: &LlamaModel, messages: &[(&str, &str)]) -> Result<String, String> {
    let template = model.chat_template(None).map_err(|e| format!("the model has no chat template: {e}"))?;
    let messages = messages
        .iter()
        .map(|(role, content)| LlamaChatMessage::new((*role).to_owned(), (*content).to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("a message contains a NUL byte: {e}"))?;
    model.apply_chat_template(&template, &messages, true).map_err(|e| format!("cannot apply the chat template: {e}"))
}

/// One continuation of the shared prefix, in its own sequence.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    seq: i32,
    /// Position of the next token.
    pos: i32,
    /// Greedy choice after the last token fed, when its logits were read.
    pub next: Option<LlamaToken>,
}

/// A context of one worker thread, with the prefix currently held in sequence 0.
pub(crate) struct Session {
    model: &'static LlamaModel,
    ctx: LlamaContext<'static>,
    batch: LlamaBatch<'static>,
    prefix: Vec<LlamaToken>,
    max_branches: usize,
    /// Tokens decoded so far (prefix and branches).
    pub tokens_decoded: u64,
}

impl Session {
    /// A context of `n_ctx` tokens shared by up to `max_branches` branches and the prefix.
    pub fn new(model: &'static LlamaModel, threads: usize, n_ctx: u32, max_branches: usize) -> Result<Self, String> {
        // Creating two contexts of one model at once is unsound in llama.cpp.
        static CREATING: Mutex<()> = Mutex::new(());
        let _guard = CREATING.lock().unwrap_or_else(|e| e.into_inner());
        let threads = i32::try_from(threads.max(1)).unwrap_or(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(BATCH_TOKENS as u32)
            .with_n_ubatch(512)
            .with_n_seq_max(max_branches as u32 + 1)
            // One pool of cells for all sequences, so branches can share the prefix's cells.
            .with_kv_unified(true)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx =
            model.new_context(backend()?, params).map_err(|e| format!("cannot create a llama.cpp context: {e}"))?;
        Ok(Self {
            model,
            ctx,
            batch: LlamaBatch::new(BATCH_TOKENS, max_branches as i32 + 1),
            prefix: Vec::new(),
            max_branches,
            tokens_decoded: 0,
        })
    }

    pub fn model(&self) -> &'static LlamaModel {
        self.model
    }

    /// Tokenizes text that may contain the template's special tokens.
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(text.as_bytes(), false, true)
    }

    /// The text of a token.
    pub fn piece(&self, token: LlamaToken) -> String {
        String::from_utf8_lossy(&self.model.vocab().token_to_piece(token, false, None)).into_owned()
    }

    /// Whether `token` ends a generation.
    pub fn is_end(&self, token: LlamaToken) -> bool {
        self.model.vocab().is_eog(token)
    }

    /// Makes sequence 0 hold exactly `prefix`, keeping what it already shares with the last prefix
    /// (the samples of one eval share everything up to their output), and drops all branches.
    pub fn set_prefix(&mut self, prefix: &[LlamaToken]) -> Result<(), String> {
        for seq in 1..=self.max_branches as u32 {
            self.ctx.clear_kv_cache_seq(Some(seq), None, None).map_err(|e| e.to_string())?;
        }
        let common = self.prefix.iter().zip(prefix).take_while(|(a, b)| a == b).count();
        // Keep at least one token to evaluate, so the prefix's last logits are fresh.
        let keep = common.min(prefix.len().saturating_sub(1));
        self.ctx.clear_kv_cache_seq(Some(0), Some(keep as u32), None).map_err(|e| e.to_string())?;
        self.prefix.truncate(keep);
        let mut root = Branch { seq: 0, pos: keep as i32, next: None };
        self.feed(std::slice::from_mut(&mut root), &[&prefix[keep..]], |_, _| false, |_, _, _| {})?;
        self.prefix = prefix.to_vec();
        Ok(())
    }

    /// Forks `n` branches off the prefix in sequence 0.
    pub fn fork(&mut self, n: usize) -> Result<Vec<Branch>, String> {
        if n > self.max_branches {
            return Err(format!("{n} branches requested, at most {} fit", self.max_branches));
        }
        let pos = self.prefix.len() as i32;
        (1..=n as i32)
            .map(|seq| {
                self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None).map_err(|e| e.to_string())?;
                self.ctx.copy_kv_cache_seq(0, seq, None, None).map_err(|e| e.to_string())?;
                Ok(Branch { seq, pos, next: None })
            })
            .collect()
    }

    /// Appends `inputs[i]` to `branches[i]`, all in shared batches. For each token `j` of branch
    /// `i` with `want(i, j)`, and for each branch's last token, `read(i, j, logits)` sees the
    /// next-token logits after it; each branch's greedy next token is recorded.
    pub fn feed(
        &mut self,
        branches: &mut [Branch],
        inputs: &[&[LlamaToken]],
        want: impl Fn(usize, usize) -> bool,
        mut read: impl FnMut(usize, usize, &[f32]),
    ) -> Result<(), String> {
        let mut pending: Vec<(i32, usize, usize, bool)> = Vec::new();
        let mut queue = inputs.iter().enumerate().flat_map(|(i, tokens)| (0..tokens.len()).map(move |j| (i, j)));
        loop {
            self.batch.clear();
            pending.clear();
            for (i, j) in queue.by_ref() {
                let last = j + 1 == inputs[i].len();
                let logits = last || want(i, j);
                let branch = &mut branches[i];
                self.batch.add(inputs[i][j], branch.pos, &[branch.seq], logits).map_err(|e| e.to_string())?;
                branch.pos += 1;
                if logits {
                    pending.push((self.batch.n_tokens() - 1, i, j, last));
                }
                if self.batch.n_tokens() as usize >= BATCH_TOKENS {
                    break;
                }
            }
            if self.batch.n_tokens() == 0 {
                return Ok(());
            }
            self.ctx.decode(&mut self.batch).map_err(|e| format!("llama.cpp could not decode: {e}"))?;
            self.tokens_decoded += self.batch.n_tokens() as u64;
            for &(index, i, j, last) in &pending {
                let logits = self.ctx.get_logits_ith(index);
                if want(i, j) || last {
                    read(i, j, logits);
                }
                if last {
                    branches[i].next = Some(LlamaToken::new(argmax(logits) as i32));
                }
            }
        }
    }

    /// Greedy generation on every branch, in lockstep, until each has produced `max_tokens`, an
    /// end-of-generation token, or a token containing a newline (after some text). Returns each
    /// branch's text; the newline or end token is not included, but is fed.
    pub fn generate(&mut self, branches: &mut [Branch], max_tokens: usize) -> Result<Vec<String>, String> {
        let mut texts = vec![String::new(); branches.len()];
        let mut done = vec![false; branches.len()];
        for _ in 0..max_tokens {
            let mut step: Vec<(usize, [LlamaToken; 1])> = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                if done[i] {
                    continue;
                }
                let token = branch.next.ok_or("a branch was generated from before it was fed")?;
                let piece = self.piece(token);
                let ends = self.is_end(token) || (piece.contains('\n') && !texts[i].trim().is_empty());
                if ends {
                    done[i] = true;
                } else {
                    texts[i].push_str(&piece);
                }
                step.push((i, [token]));
            }
            if step.is_empty() {
                break;
            }
            // Feed the chosen tokens (ending ones too, so the branch's context is complete).
            let mut stepping: Vec<Branch> = step.iter().map(|(i, _)| branches[*i].clone()).collect();
            let inputs: Vec<&[LlamaToken]> = step.iter().map(|(_, t)| &t[..]).collect();
            self.feed(&mut stepping, &inputs, |_, _| false, |_, _, _| {})?;
            for ((i, _), branch) in step.iter().zip(stepping) {
                branches[*i] = branch;
            }
            if done.iter().all(|d| *d) {
                break;
            }
        }
        Ok(texts.into_iter().map(|t| t.trim().to_owned()).collect())
    }
}

fn argmax(logits: &[f32]) -> usize {
    logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// `ln softmax(logits)[token]`.
pub(crate) fn log_prob(logits: &[f32], token: LlamaToken) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    logits[token.0 as usize] as f64 - max - sum.ln()
}

/// Engine speed, measured by [`measure`].
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct EngineFigures {
    /// Tokens of the shared prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens evaluated per second (one sequence, from an empty cache).
    pub prompt_tokens_per_sec: f64,
    /// Tokens generated per second by one sequence.
    pub decode_tokens_per_sec: f64,
    /// Samples scored together.
    pub samples: usize,
    /// Tokens of each sample's own suffix.
    pub suffix_tokens: usize,
    /// Tokens generated per sample.
    pub generated_tokens: usize,
    /// Seconds for all samples sharing the prompt's KV cache (prompt evaluated once).
    pub shared_secs: f64,
    /// Seconds for the same samples evaluated independently (prompt evaluated for each).
    pub independent_secs: f64,
}

/// Measures the engine on `model` with a prompt of about `prompt_tokens` tokens, `samples` suffixes
/// of about `suffix_tokens` tokens, and `generated_tokens` greedy tokens per sample.
#[doc(hidden)]
pub fn measure(
    model_path: &Path,
    prompt_tokens: usize,
    suffix_tokens: usize,
    generated_tokens: usize,
    samples: usize,
) -> Result<EngineFigures, String> {
    use std::time::Instant;
    let model = model(model_path)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut session = Session::new(model, threads, 8192, samples.max(1))?;
    let text = |n: usize, seed: &str| {
        let mut tokens = Vec::new();
        let mut i = 0;
        while tokens.len() < n {
            tokens.extend(session.tokenize(&format!(" {seed} sentence number {i} of the text under evaluation.")));
            i += 1;
        }
        tokens.truncate(n);
        tokens
    };
    let prompt = text(prompt_tokens, "Rubric");
    let suffixes: Vec<Vec<LlamaToken>> = (0..samples).map(|i| text(suffix_tokens, &format!("Output{i}"))).collect();
    // Keep generating whatever comes: newlines do not stop it here.
    let decode = |session: &mut Session, branches: &mut [Branch]| -> Result<(), String> {
        for _ in 0..generated_tokens {
            let steps: Vec<[LlamaToken; 1]> = branches.iter().map(|b| [b.next.unwrap_or(LlamaToken::new(0))]).collect();
            let inputs: Vec<&[LlamaToken]> = steps.iter().map(|s| &s[..]).collect();
            session.feed(branches, &inputs, |_, _| false, |_, _, _| {})?;
        }
        Ok(())
    };

    session.set_prefix(&[])?;
    let start = Instant::now();
    session.set_prefix(&prompt)?;
    let prompt_tokens_per_sec = prompt.len() as f64 / start.elapsed().as_secs_f64();

    let mut one = session.fork(1)?;
    session.feed(&mut one, &[&suffixes[0][..]], |_, _| false, |_, _, _| {})?;
    let start = Instant::now();
    decode(&mut session, &mut one)?;
    let decode_tokens_per_sec = generated_tokens as f64 / start.elapsed().as_secs_f64();

    session.set_prefix(&[])?;
    let start = Instant::now();
    session.set_prefix(&prompt)?;
    let mut branches = session.fork(samples)?;
    let inputs: Vec<&[LlamaToken]> = suffixes.iter().map(Vec::as_slice).collect();
    session.feed(&mut branches, &inputs, |_, _| false, |_, _, _| {})?;
    decode(&mut session, &mut branches)?;
    let shared_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    for suffix in &suffixes {
        session.set_prefix(&[])?;
        // Everything but the suffix's last token as the prefix; feeding that token gives the
        // branch its first greedy choice, as in the shared run.
        let mut whole = prompt.clone();
        whole.extend_from_slice(&suffix[..suffix.len() - 1]);
        session.set_prefix(&whole)?;
        let mut branch = session.fork(1)?;
        session.feed(&mut branch, &[&suffix[suffix.len() - 1..]], |_, _| false, |_, _, _| {})?;
        decode(&mut session, &mut branch)?;
    }
    let independent_secs = start.elapsed().as_secs_f64();

    Ok(EngineFigures {
        prompt_tokens: prompt.len(),
        prompt_tokens_per_sec,
        decode_tokens_per_sec,
        samples,
        suffix_tokens,
        generated_tokens,
        shared_secs,
        independent_secs,
    })
}

/// The softmax of `logits`, computed stably (shifted by the maximum).
pub(crate) fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits.iter().map(|&l| (l as f64 - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_a_distribution() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
