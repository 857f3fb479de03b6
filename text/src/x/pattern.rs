//! A tiny backtracking matcher with the semantics of JavaScript regular expressions, just big enough
//! for twitter-text's URL patterns.
//!
//! Why not the `regex` crate: it has no lookahead, which twitter-text's TLD patterns need (a TLD
//! must not run on into letters or digits), and its Unicode tables would add far more to the wasm
//! bundle than these few hundred lines. Patterns are built once from small constructors that read
//! like the original regular expressions (see `url.rs`), and matched over `char`s (code points).
//!
//! Matching is continuation-passing: every pattern offers its possible end positions, best first,
//! to the continuation (the rest of the pattern), and stops at the first one the continuation
//! accepts — exactly a backtracking regex engine's order.
//!
//! A post can be a pasted 10,000-character article, and a naive backtracking matcher would take
//! seconds on some texts (a long run of kana with a dot somewhere: every kana may start a host
//! name) or overflow the stack (`a.a.a.…`). So, without changing what matches:
//! - a repeated character class (`[...]*`) is a loop, not a recursion;
//! - a domain label and its dot (`[...]+\.`) has only one possible end, so it is one step
//!   ([`Pattern::Label`]), its repetition is a loop, and the run of label characters found from one
//!   position is remembered for the next positions in the same run;
//! - which TLDs match at a position is remembered ([`Subject`]), and so is a chain of labels
//!   after which the rest of the pattern failed everywhere;
//! - other repetitions stop after [`MAX_ITERATIONS`] nested iterations (far beyond any real URL).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// A set of characters, like a regex character class.
pub(crate) type CharSet = fn(char) -> bool;

/// How many groups a match records: group 0 is the whole match.
pub(crate) const GROUPS: usize = 6;

/// The `(start, end)` char range of each group that took part in the match.
pub(crate) type Captures = [Option<(usize, usize)>; GROUPS];

/// "As many as there are": the upper bound of `*` and `+`.
const UNBOUNDED: usize = usize::MAX;

/// The most iterations of repetitions of compound patterns under way at once, all repetitions
/// together: each is a level of recursion, and a URL path of 5,000 `(a)` must not overflow the
/// stack (the browser gives wasm 1 MB). Only URL paths have such repetitions (balanced
/// parentheses), and no real one comes close; past it, the path simply ends there.
pub(crate) const MAX_ITERATIONS: usize = 32;

/// A pattern, as an abstract syntax tree (no parser: built with the functions below).
pub(crate) enum Pattern {
    /// One character of the set: `[...]`.
    Set(CharSet),
    /// A literal, matched case-insensitively for ASCII (twitter-text's patterns carry the `i` flag).
    Literal(&'static str),
    /// One of the words of a `|`-separated list, tried in the list's order: `(?:com|co|...)`.
    Words(Words),
    /// A domain label and its dot: `(?:[edge][chars]*)?[edge]\.`, where `edge` is part of `chars`
    /// and `.` is not. It can only end at the first character outside `chars`, so it is matched
    /// in one step: the label is that whole run, it must begin and end with `edge`, and a dot must
    /// follow.
    Label { chars: CharSet, edge: CharSet },
    /// Each in turn.
    Sequence(Vec<Pattern>),
    /// The first alternative that lets the whole match succeed.
    Either(Vec<Pattern>),
    /// Greedy repetition, `min..=max` times.
    Repeat(Box<Pattern>, usize, usize),
    /// `^`: the start of the text (no `m` flag).
    Start,
    /// `(?=[^set]|$)`: the next character is not in the set, or the text ends here.
    NotFollowedBy(CharSet),
    /// A capturing group: records where the inner pattern matched.
    Group(usize, Box<Pattern>),
}

/// `[...]`
pub(crate) fn set(chars: CharSet) -> Pattern {
    Pattern::Set(chars)
}

/// A literal string (ASCII case-insensitive).
pub(crate) fn lit(text: &'static str) -> Pattern {
    Pattern::Literal(text)
}

/// `(?:a|b|c)` over literal words.
pub(crate) fn words(list: &'static str) -> Pattern {
    let mut by_first = BTreeMap::<char, Vec<&'static str>>::new();
    for word in list.split('|') {
        if let Some(first) = word.chars().next() {
            by_first.entry(first.to_ascii_lowercase()).or_default().push(word);
        }
    }
    Pattern::Words(Words { by_first })
}

/// A word list indexed by first character (lowercase), each bucket in the list's order: the TLD
/// lists have 1,574 words, and a position is compared with the few that can match.
pub(crate) struct Words {
    by_first: BTreeMap<char, Vec<&'static str>>,
}

/// `(?:[edge][chars]*)?[edge]\.` (see [`Pattern::Label`]).
pub(crate) fn label(chars: CharSet, edge: CharSet) -> Pattern {
    Pattern::Label { chars, edge }
}

/// `ab`
pub(crate) fn seq<const N: usize>(items: [Pattern; N]) -> Pattern {
    Pattern::Sequence(items.into())
}

/// `a|b`
pub(crate) fn either<const N: usize>(alternatives: [Pattern; N]) -> Pattern {
    Pattern::Either(alternatives.into())
}

/// `a?`
pub(crate) fn opt(inner: Pattern) -> Pattern {
    Pattern::Repeat(Box::new(inner), 0, 1)
}

/// `a*`
pub(crate) fn star(inner: Pattern) -> Pattern {
    Pattern::Repeat(Box::new(inner), 0, UNBOUNDED)
}

/// `a+`
pub(crate) fn plus(inner: Pattern) -> Pattern {
    Pattern::Repeat(Box::new(inner), 1, UNBOUNDED)
}

/// `(a)`, recorded as group `index`.
pub(crate) fn group(index: usize, inner: Pattern) -> Pattern {
    assert!(index > 0 && index < GROUPS, "group 0 is the whole match");
    Pattern::Group(index, Box::new(inner))
}

/// The continuation: given where the pattern so far ended, does the rest match?
type Next<'k> = &'k mut dyn FnMut(usize, &mut Captures) -> bool;

/// A text being matched, with what was learnt about it, kept across start positions.
pub(crate) struct Subject<'t> {
    text: &'t [char],
    /// Per label pattern (by address) and start: where the run of its label characters ends.
    label_runs: RefCell<BTreeMap<(usize, usize), usize>>,
    /// Per words pattern (by address) and position: where the words that match there end.
    word_ends: RefCell<BTreeMap<(usize, usize), Vec<usize>>>,
    /// Per label repetition (by address): positions from which every further end of the
    /// repetition was offered to the rest of the pattern, and refused.
    dead_ends: RefCell<BTreeSet<(usize, usize)>>,
    /// How many iterations of compound repetitions are under way (see [`MAX_ITERATIONS`]).
    iterations: Cell<usize>,
}

impl<'t> Subject<'t> {
    /// Prepares `text` for matching.
    pub(crate) fn new(text: &'t [char]) -> Self {
        Subject {
            text,
            label_runs: RefCell::default(),
            word_ends: RefCell::default(),
            dead_ends: RefCell::default(),
            iterations: Cell::new(0),
        }
    }

    /// Where the run of `chars` starting at `pos` ends. A run found once answers for every
    /// position inside it, so trying each start position of a long run costs one pass, not one
    /// pass per position.
    fn run_end(&self, key: usize, chars: CharSet, pos: usize) -> usize {
        let mut runs = self.label_runs.borrow_mut();
        // The run found from the nearest start at or before `pos`, if it reaches past `pos`
        // (runs of one pattern are disjoint or end together, so no other one can).
        if let Some((_, &end)) = runs.range((key, 0)..=(key, pos)).next_back()
            && end > pos
        {
            return end;
        }
        let end = pos + self.text[pos.min(self.text.len())..].iter().take_while(|&&c| chars(c)).count();
        runs.insert((key, pos), end);
        end
    }

    /// The ends of the words of `list` found at `pos`, in the list's order.
    fn word_ends(&self, key: usize, list: &Words, pos: usize) -> Vec<usize> {
        let Some(first) = self.text.get(pos) else { return Vec::new() };
        let Some(bucket) = list.by_first.get(&first.to_ascii_lowercase()) else { return Vec::new() };
        self.word_ends
            .borrow_mut()
            .entry((key, pos))
            .or_insert_with(|| bucket.iter().filter_map(|word| literal_end(self.text, pos, word)).collect())
            .clone()
    }
}

impl Pattern {
    /// The first match that starts at or after `from`, like JavaScript's `exec` with
    /// `lastIndex = from`.
    pub(crate) fn find(&self, subject: &Subject, from: usize) -> Option<Captures> {
        (from..=subject.text.len()).find_map(|start| self.match_at(subject, start))
    }

    /// A match that starts exactly at `start`.
    pub(crate) fn match_at(&self, subject: &Subject, start: usize) -> Option<Captures> {
        let mut captures = [None; GROUPS];
        let matched = self.run(subject, start, &mut captures, &mut |end, captures| {
            captures[0] = Some((start, end));
            true
        });
        matched.then_some(captures)
    }

    /// This pattern's identity, for the memos of [`Subject`] (patterns live in statics).
    fn key(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    fn run(&self, subject: &Subject, pos: usize, captures: &mut Captures, next: Next) -> bool {
        let text = subject.text;
        match self {
            Pattern::Set(chars) => text.get(pos).is_some_and(|&c| chars(c)) && next(pos + 1, captures),
            Pattern::Literal(literal) => literal_end(text, pos, literal).is_some_and(|end| next(end, captures)),
            Pattern::Words(list) => subject.word_ends(self.key(), list, pos).into_iter().any(|end| next(end, captures)),
            Pattern::Label { .. } => self.label_end(subject, pos).is_some_and(|end| next(end, captures)),
            Pattern::Sequence(items) => run_sequence(items, subject, pos, captures, next),
            Pattern::Either(alternatives) => alternatives.iter().any(|alternative| alternative.run(subject, pos, captures, next)),
            Pattern::Repeat(inner, min, max) => match **inner {
                Pattern::Set(chars) => run_repeated_set(chars, *min, *max, text, pos, captures, next),
                Pattern::Label { .. } => inner.run_repeated_label(*min, *max, subject, pos, captures, next),
                _ => inner.run_repeated(*min, *max, subject, pos, captures, next),
            },
            Pattern::Start => pos == 0 && next(pos, captures),
            Pattern::NotFollowedBy(chars) => !text.get(pos).is_some_and(|&c| chars(c)) && next(pos, captures),
            Pattern::Group(index, inner) => {
                let before = captures[*index];
                let matched = inner.run(subject, pos, captures, &mut |end, captures| {
                    let earlier = captures[*index];
                    captures[*index] = Some((pos, end));
                    // Undo the record if the rest fails, so a later alternative starts clean.
                    next(end, captures) || {
                        captures[*index] = earlier;
                        false
                    }
                });
                if !matched {
                    captures[*index] = before;
                }
                matched
            }
        }
    }

    /// Where a [`Pattern::Label`] starting at `pos` ends (after its dot), if it matches there.
    fn label_end(&self, subject: &Subject, pos: usize) -> Option<usize> {
        let Pattern::Label { chars, edge } = self else { return None };
        let end = subject.run_end(self.key(), *chars, pos);
        let label = &subject.text[pos.min(end)..end];
        let edged = label.first().is_some_and(|&c| edge(c)) && label.last().is_some_and(|&c| edge(c));
        (edged && subject.text.get(end) == Some(&'.')).then_some(end + 1)
    }

    /// Greedy repetition of a label (unbounded): each label has one possible end, so the ends form a
    /// chain, offered to the rest of the pattern longest first.
    ///
    /// Chains from different start positions share their tails (`b.c.` after `a.b.c.` and after
    /// `b.c.`), and whether the rest of the pattern matches from a position does not depend on
    /// where the match started (these patterns have no back-references). So a tail whose every
    /// end was refused once is remembered and not walked again: without that, each position of
    /// a text like `a.a.a.…` would walk the whole chain, and the count would take seconds. (It
    /// would depend on the iterations under way, which bound what follows; so inside another
    /// repetition nothing is remembered. The URL patterns have labels only outside them.)
    fn run_repeated_label(&self, min: usize, max: usize, subject: &Subject, pos: usize, captures: &mut Captures, next: Next) -> bool {
        debug_assert_eq!(max, UNBOUNDED, "a bounded label repetition would need its own memo");
        let key = self.key();
        let remember = subject.iterations.get() == 0;
        let is_dead = |end: usize| remember && subject.dead_ends.borrow().contains(&(key, end));
        // The chain of ends, up to its end or to a tail known to be refused.
        let mut ends = vec![pos];
        loop {
            let last = ends[ends.len() - 1];
            if ends.len() > min && is_dead(last) {
                ends.pop();
                break;
            }
            match self.label_end(subject, last) {
                Some(end) => ends.push(end),
                None => break,
            }
        }
        let candidates = ends.get(min..).unwrap_or_default();
        if candidates.iter().rev().any(|&end| next(end, captures)) {
            return true;
        }
        if remember {
            subject.dead_ends.borrow_mut().extend(candidates.iter().map(|&end| (key, end)));
        }
        false
    }

    /// Greedy repetition of a general pattern: one more iteration first, then stop. `min` and
    /// `max` count the iterations still needed and allowed.
    fn run_repeated(&self, min: usize, max: usize, subject: &Subject, pos: usize, captures: &mut Captures, next: Next) -> bool {
        let under_way = subject.iterations.get();
        if max > 0 && under_way < MAX_ITERATIONS {
            subject.iterations.set(under_way + 1);
            // An iteration must consume something: JavaScript ends a loop on an empty iteration.
            let more = self.run(subject, pos, captures, &mut |end, captures| {
                end > pos && self.run_repeated(min.saturating_sub(1), max - 1, subject, end, captures, next)
            });
            subject.iterations.set(under_way);
            if more {
                return true;
            }
        }
        min == 0 && next(pos, captures)
    }
}

fn run_sequence(items: &[Pattern], subject: &Subject, pos: usize, captures: &mut Captures, next: Next) -> bool {
    match items.split_first() {
        None => next(pos, captures),
        Some((first, rest)) => first.run(subject, pos, captures, &mut |end, captures| run_sequence(rest, subject, end, captures, next)),
    }
}

/// `[...]{min,max}`: the longest run first, then shorter ones, without recursion.
fn run_repeated_set(chars: CharSet, min: usize, max: usize, text: &[char], pos: usize, captures: &mut Captures, next: Next) -> bool {
    let run = text[pos.min(text.len())..].iter().take(max).take_while(|&&c| chars(c)).count();
    (min..=run).rev().any(|length| next(pos + length, captures))
}

/// Where `literal` ends if the text has it at `pos` (ASCII case-insensitive).
fn literal_end(text: &[char], pos: usize, literal: &str) -> Option<usize> {
    let mut end = pos;
    for expected in literal.chars() {
        match text.get(end) {
            Some(c) if c.eq_ignore_ascii_case(&expected) => end += 1,
            _ => return None,
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    fn find(pattern: &Pattern, text: &str) -> Option<Captures> {
        pattern.find(&Subject::new(&chars(text)), 0)
    }

    fn whole(pattern: &Pattern, text: &str) -> Option<(usize, usize)> {
        find(pattern, text).and_then(|captures| captures[0])
    }

    #[test]
    fn greedy_repetition_backtracks_like_javascript() {
        // /a*ab/ on "aaab": a* first takes all three, then gives one back.
        let pattern = seq([star(set(|c| c == 'a')), lit("ab")]);
        assert_eq!(whole(&pattern, "xaaab"), Some((1, 5)));
    }

    #[test]
    fn alternatives_are_tried_in_order_not_longest_first() {
        // JavaScript's /co|com/ matches "co" in "com"; only a lookahead forces the longer one.
        assert_eq!(whole(&words("co|com"), "com"), Some((0, 2)));
        let bounded = seq([words("co|com"), Pattern::NotFollowedBy(|c| c.is_ascii_alphanumeric())]);
        assert_eq!(whole(&bounded, "com"), Some((0, 3)));
    }

    #[test]
    fn groups_record_the_successful_path_only() {
        // /(a+)?ab/ on "aab": the group must give back one "a".
        let pattern = seq([opt(group(1, plus(set(|c| c == 'a')))), lit("ab")]);
        let captures = find(&pattern, "aab").unwrap();
        assert_eq!(captures[1], Some((0, 1)));
        // A group that cannot take part is left unset.
        let captures = find(&pattern, "ab").unwrap();
        assert_eq!(captures[1], None);
    }

    #[test]
    fn literals_ignore_ascii_case_and_start_anchors() {
        assert_eq!(whole(&lit("http"), "xHTTP"), Some((1, 5)));
        let anchored = seq([Pattern::Start, lit("a")]);
        assert_eq!(whole(&anchored, "ba"), None);
        assert_eq!(whole(&anchored, "ab"), Some((0, 1)));
    }

    #[test]
    fn labels_match_as_their_regex_does() {
        // (?:[a-z](?:[-a-z])*)?[a-z]\.  — no dash at either end, a dot after.
        let domain = seq([star(label(|c| c == '-' || c.is_ascii_lowercase(), |c| c.is_ascii_lowercase())), lit("x")]);
        assert_eq!(whole(&domain, "ab.c-d.x"), Some((0, 8)));
        assert_eq!(whole(&domain, "a.x"), Some((0, 3)));
        assert_eq!(whole(&domain, "-a.x"), Some((1, 4)));
        assert_eq!(whole(&domain, "a-.x"), Some((3, 4)));
        assert_eq!(whole(&domain, "ab"), None);
    }

    #[test]
    fn compound_repetitions_are_bounded_all_together() {
        let pairs = star(seq([lit("("), lit(")")]));
        let text = "()".repeat(MAX_ITERATIONS + 10);
        assert_eq!(whole(&pairs, &text), Some((0, 2 * MAX_ITERATIONS)));
        // Nested: the inner repetitions count against the same bound.
        let nested = star(seq([lit("<"), star(seq([lit("("), lit(")")])), lit(">")]));
        let text = "<()()()>".repeat(MAX_ITERATIONS);
        assert_eq!(whole(&nested, &text), Some((0, 8 * (MAX_ITERATIONS / 4))));
    }

    #[test]
    fn long_runs_do_not_recurse() {
        let text = "a".repeat(200_000) + "b";
        assert_eq!(whole(&seq([star(set(|c| c == 'a')), lit("b")]), &text), Some((0, 200_001)));
    }
}
