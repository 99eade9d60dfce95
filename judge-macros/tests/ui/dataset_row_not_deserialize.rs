use judge_runtime::llm_eval;

struct Ticket {
    subject: String,
}

#[llm_eval(dataset = "evals/tickets.csv", rubric = "Triages the ticket.")]
fn triage(ticket: &Ticket) -> String {
    ticket.subject.clone()
}

judge_runtime::main!();
