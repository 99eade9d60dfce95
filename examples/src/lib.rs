//! A tiny "app" standing in for a user's LLM features: a question-answering assistant ([`answer`]) and
//! an online shop's support assistant ([`support_answer`]). The eval suites in `tests/` grade their
//! answers with a judge, as a user's suites would grade their model's; the support assistant is graded
//! on the rows of `evals/support.jsonl` and `evals/support.csv`.
//!
//! Their answers are canned so the example runs anywhere; in a real crate they would call a model.

/// Answers a question, as the app's model would.
pub fn answer(question: &str) -> String {
    let q = question.to_lowercase();
    if q.contains("clock") && q.contains("overlap") {
        "The hour and minute hands overlap 22 times a day: the minute hand laps the hour hand once \
         every 12/11 hours, which is 11 times in 12 hours."
            .to_owned()
    } else if q.contains("capital") && q.contains("australia") {
        "The capital of Australia is Canberra, not Sydney.".to_owned()
    } else if q.contains("refund") {
        "You can return an unused item within 30 days of delivery for a full refund; \
         we cover the return shipping."
            .to_owned()
    } else {
        "I don't know.".to_owned()
    }
}

/// The async flavour of [`answer`], as an app calling a model over HTTP would have.
pub async fn answer_async(question: &str) -> Result<String, std::io::Error> {
    Ok(answer(question))
}

/// One entry of the support assistant's FAQ: the answer given when the question contains any of
/// `keywords` (lowercase).
struct FaqEntry {
    keywords: &'static [&'static str],
    answer: &'static str,
}

/// The support assistant's FAQ, tried in order: the first entry with a keyword in the question
/// answers it. Specific entries come before general ones, so that "my order arrived damaged, can I
/// get a refund?" is a damaged item and not a return, and "who pays for return shipping?" a return
/// and not shipping.
///
/// Two answers are deliberately weak, so that an eval of this assistant has failures to catch: the
/// warranty answer gives neither the period nor what to do, and the promo-code answer does not say
/// why a code is refused.
const SUPPORT_FAQ: &[FaqEntry] = &[
    FaqEntry {
        keywords: &["warranty", "guarantee", "stopped working", "broke after"],
        // Deliberately weak: no period, no steps.
        answer: "Most of our products come with a warranty. Please check the product page for details.",
    },
    FaqEntry {
        keywords: &["damaged", "broken", "cracked", "smashed", "dented"],
        answer: "I'm sorry it arrived damaged. Email a photo of the item and its packaging to support@example.com \
                 within 7 days of delivery, and we will send a free replacement or give you a full refund, \
                 whichever you prefer. You don't need to send the damaged item back.",
    },
    FaqEntry {
        keywords: &["cancel"],
        answer: "You can cancel an order within 1 hour of placing it: go to Account > Orders, select the order \
                 and click Cancel order. After that it has usually shipped; you can then return it within 30 days \
                 of delivery for a full refund.",
    },
    FaqEntry {
        keywords: &["exchange", "swap", "bigger size", "smaller size", "different size"],
        answer: "We don't exchange items directly. Return the item within 30 days of delivery for a full refund, \
                 and place a new order for the size or colour you want.",
    },
    FaqEntry {
        keywords: &["return", "refund", "money back", "send back", "send it back"],
        answer: "You can return an unused item within 30 days of delivery for a full refund. Start the return \
                 under Account > Orders > Return item and we email you a prepaid return label, so return \
                 shipping is free. The refund reaches your original payment method within 5 to 7 business days \
                 of the item reaching us.",
    },
    FaqEntry {
        keywords: &["in stock", "sold out", "out of stock", "restock"],
        answer: "Click Notify me on the product page and we will email you as soon as it is back in stock. \
                 We can't promise a date for a restock.",
    },
    FaqEntry {
        keywords: &["track", "where is my order", "where's my order", "hasn't arrived", "not arrived"],
        answer: "When your order ships, we email you a tracking link. You can also find it under Account > Orders \
                 > Track package. If the tracking hasn't updated for 5 business days, email support@example.com \
                 and we will open a claim with the carrier.",
    },
    FaqEntry {
        keywords: &["password", "log in", "login", "sign in", "locked out"],
        answer: "Click Forgot password? on the sign-in page and enter your email address; we send a reset link \
                 that works for 1 hour. If it doesn't arrive within a few minutes, check your spam folder, or \
                 email support@example.com.",
    },
    FaqEntry {
        keywords: &["delete my account", "close my account", "delete account", "personal data"],
        answer: "Go to Account > Privacy > Delete account. We delete your account and personal data within 30 \
                 days; we keep only the order records the law requires us to keep. This cannot be undone.",
    },
    FaqEntry {
        keywords: &["address"],
        answer: "You can change the delivery address until the order ships: go to Account > Orders, select the \
                 order and click Edit address. If it has already shipped, email support@example.com and we will \
                 ask the carrier to redirect it.",
    },
    FaqEntry {
        keywords: &["unsubscribe", "newsletter", "marketing email", "stop getting"],
        answer: "Click Unsubscribe at the bottom of any of our emails, or turn off marketing emails under Account \
                 > Preferences. It takes effect within 48 hours; order and shipping emails still come.",
    },
    FaqEntry {
        keywords: &[
            "international",
            "abroad",
            "outside the us",
            "customs",
            "canada",
            "mexico",
            "uk",
            "europe",
            "germany",
            "france",
            "australia",
            "japan",
        ],
        answer: "Yes, we ship to over 40 countries. International delivery takes 7 to 14 business days and costs \
                 a flat $19.99. Customs duties and import taxes are not included: the carrier collects them from \
                 you on delivery.",
    },
    FaqEntry {
        keywords: &[
            "shipping cost",
            "cost of shipping",
            "how much is shipping",
            "how much does shipping",
            "free shipping",
            "shipping fee",
            "delivery fee",
        ],
        answer: "Standard shipping within the US is free on orders over $50; below that it costs $4.99. Express \
                 shipping costs $14.99.",
    },
    FaqEntry {
        keywords: &["how long", "shipping", "delivery", "deliver", "arrive", "express", "when will"],
        answer: "Orders placed before 2 pm Eastern Time ship the same business day. Standard shipping within the \
                 US takes 3 to 5 business days; express shipping takes 1 to 2 business days.",
    },
    FaqEntry {
        keywords: &["gift card"],
        answer: "Gift cards come in amounts from $10 to $200 and never expire. Enter the code at checkout in the \
                 Gift card or promo code field; any balance you don't use stays on the card for your next order. \
                 Gift cards can't be exchanged for cash.",
    },
    FaqEntry {
        keywords: &["promo", "discount", "coupon", "voucher"],
        // Deliberately weak: vague, and says nothing about why a code is refused.
        answer: "We run promotions from time to time. Keep an eye on our website and newsletter for the latest offers.",
    },
    FaqEntry {
        keywords: &["pay", "credit card", "debit card", "visa", "mastercard", "klarna"],
        answer: "We accept Visa, Mastercard, American Express, PayPal, Apple Pay and Google Pay. We don't accept \
                 cash on delivery, cheques or bank transfers.",
    },
    FaqEntry {
        keywords: &[
            "contact",
            "phone",
            "call",
            "hours",
            "talk to",
            "speak to",
            "human",
            "physical",
            "in person",
            "visit",
        ],
        answer: "Our support team is available Monday to Friday, 9 am to 6 pm Eastern Time, by email at \
                 support@example.com or by phone at +1 202-555-0143. We are an online-only shop, with no \
                 physical stores.",
    },
];

/// What the support assistant says to a question its FAQ does not cover.
const SUPPORT_FALLBACK: &str =
    "I'm not sure I can help with that; please contact support@example.com and our team will get back to you.";

/// Answers a customer's question about the online shop, as the shop's support assistant would: from
/// a canned FAQ (shipping, returns and refunds, tracking, cancelling, the delivery address, payment,
/// gift cards, promo codes, the warranty, damaged items, the account, contact), matched by keywords.
/// A question it does not recognise gets a polite pointer to support@example.com.
///
/// ```
/// let answer = judge_examples::support_answer("Can I return a jacket that doesn't fit?");
/// assert!(answer.contains("30 days"));
/// ```
pub fn support_answer(question: &str) -> String {
    let q = question.to_lowercase();
    SUPPORT_FAQ
        .iter()
        .find(|entry| entry.keywords.iter().any(|keyword| q.contains(keyword)))
        .map_or(SUPPORT_FALLBACK, |entry| entry.answer)
        .to_owned()
}

/// The async flavour of [`support_answer`], as an assistant calling a model over HTTP would have.
pub async fn support_answer_async(question: &str) -> Result<String, std::io::Error> {
    Ok(support_answer(question))
}
