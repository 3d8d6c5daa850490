//! Japanese-aware text search, the part without I/O: how text becomes index tokens and
//! how a query becomes lookups.
//!
//! Japanese has no spaces between words and many key words are two characters (農業,
//! 広報, 観光), below what a trigram index can look up. So text is indexed as
//! overlapping character **bigrams** (as Groonga's TokenBigram and Elasticsearch's CJK
//! bigram analyser do): 「観光農業」 → 観光 光農 農業. A query word of two or more
//! characters matches a document exactly when the document holds all of the word's
//! bigrams in a row, which an inverted index answers (SQLite FTS5 as a phrase, a
//! PostgreSQL GIN index as array containment plus a substring recheck). A word of one
//! character is a token prefix.
//!
//! Both sides are folded the same way first: NFKC (full-width ａｂｃ and half-width ｶﾅ
//! become their usual forms), lower case, and hiragana as katakana, so のうぎょう finds
//! ノウギョウ.

use unicode_normalization::UnicodeNormalization;

/// The most words a query is split into; more is a paste, not a search.
pub const QUERY_WORDS_MAX: usize = 8;
/// The longest query word considered, in characters.
pub const QUERY_WORD_MAX: usize = 40;

/// Text in its searchable form: NFKC, lower case, hiragana as katakana.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            // ぁ–ゖ → ァ–ヶ: the two blocks are 0x60 apart.
            'ぁ'..='ゖ' => char::from_u32(u32::from(c) + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Whether a character belongs to a word (letters, digits, the long vowel mark);
/// everything else separates words.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == 'ー'
}

/// The runs of word characters of folded text.
fn runs(folded: &str) -> impl Iterator<Item = Vec<char>> + '_ {
    folded
        .split(|c: char| !is_word_char(c))
        .filter(|run| !run.is_empty())
        .map(|run| run.chars().collect())
}

/// The bigrams of one run; a run of one character is its own token.
fn run_bigrams(run: &[char]) -> Vec<String> {
    if run.len() == 1 {
        return vec![run[0].to_string()];
    }
    run.windows(2).map(|w| w.iter().collect()).collect()
}

/// The index tokens of a document, in order, with repeats (a phrase lookup needs the
/// positions). Runs are kept apart: no bigram spans two words.
pub fn index_tokens(text: &str) -> Vec<String> {
    runs(&fold(text))
        .flat_map(|run| run_bigrams(&run))
        .collect()
}

/// The distinct index tokens of a document, sorted: what an array index stores.
pub fn index_token_set(text: &str) -> Vec<String> {
    let mut tokens = index_tokens(text);
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// One word of a query, ready to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryWord {
    /// Two characters or more: these bigrams, adjacent and in this order. `text` is
    /// the folded word, for a substring recheck.
    Phrase { text: String, bigrams: Vec<String> },
    /// One character: any token that starts with it.
    Prefix(String),
}

/// The words of a query, folded; every word must match (AND). Punctuation separates
/// words; repeated words count once; at most [`QUERY_WORDS_MAX`] words of at most
/// [`QUERY_WORD_MAX`] characters are kept.
pub fn query_words(query: &str) -> Vec<QueryWord> {
    let folded = fold(query);
    let mut words: Vec<QueryWord> = Vec::new();
    for run in runs(&folded) {
        let run: Vec<char> = run.into_iter().take(QUERY_WORD_MAX).collect();
        let word = if run.len() == 1 {
            QueryWord::Prefix(run[0].to_string())
        } else {
            QueryWord::Phrase {
                text: run.iter().collect(),
                bigrams: run_bigrams(&run),
            }
        };
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == QUERY_WORDS_MAX {
            break;
        }
    }
    words
}

/// An FTS5 `MATCH` expression for the words: each phrase quoted, prefixes starred,
/// all joined by AND. `None` when the query has no word. Tokens hold only word
/// characters, so quoting cannot be broken out of.
pub fn fts5_match(words: &[QueryWord]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let parts: Vec<String> = words
        .iter()
        .map(|w| match w {
            QueryWord::Phrase { bigrams, .. } => format!("\"{}\"", bigrams.join(" ")),
            QueryWord::Prefix(c) => format!("\"{c}\"*"),
        })
        .collect();
    Some(parts.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_joins_widths_cases_and_kana() {
        assert_eq!(fold("ＳＮＳ運用"), "sns運用");
        assert_eq!(fold("ﾏｰｹﾃｨﾝｸﾞ"), "マーケティング");
        assert_eq!(fold("のうぎょう"), "ノウギョウ");
    }

    #[test]
    fn japanese_text_becomes_bigrams_within_words() {
        assert_eq!(index_tokens("観光農業"), ["観光", "光農", "農業"]);
        // Punctuation and spaces split runs: no bigram across 、 or a space.
        assert_eq!(index_tokens("広報、PR 支援"), ["広報", "pr", "支援"]);
        assert_eq!(index_tokens("a"), ["a"]);
        assert_eq!(index_token_set("農業と農業"), ["ト農", "業ト", "農業"]);
    }

    #[test]
    fn a_two_character_word_is_one_bigram() {
        assert_eq!(
            query_words("農業"),
            [QueryWord::Phrase {
                text: "農業".into(),
                bigrams: vec!["農業".into()]
            }]
        );
        let words = query_words("観光農業　ＤＸ 農 観光農業");
        assert_eq!(words.len(), 3);
        assert_eq!(
            fts5_match(&words).unwrap(),
            "\"観光 光農 農業\" AND \"dx\" AND \"農\"*"
        );
    }

    #[test]
    fn hostile_queries_stay_inside_their_quotes() {
        let words = query_words("\" OR rowid:* NEAR(\"a\")");
        let expr = fts5_match(&words).unwrap();
        assert!(!expr.contains("\"\""), "{expr}");
        assert_eq!(
            expr,
            "\"or\" AND \"ro ow wi id\" AND \"ne ea ar\" AND \"a\"*"
        );
        assert_eq!(fts5_match(&query_words(" 、。!? ")), None);
    }

    #[test]
    fn every_bigram_of_a_substring_is_in_the_document() {
        let doc = "福祉施設のSNS運用と観光農業の広報を手伝います";
        let set = index_token_set(doc);
        for q in ["sns", "観光", "農業の広報", "広報", "手伝"] {
            for w in query_words(q) {
                if let QueryWord::Phrase { bigrams, text } = w {
                    assert!(fold(doc).contains(&text), "{q}");
                    assert!(bigrams.iter().all(|b| set.contains(b)), "{q}");
                }
            }
        }
    }
}
