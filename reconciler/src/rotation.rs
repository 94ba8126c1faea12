//! Which due contacts a run asks about first, so that nobody starves: those never asked (in this
//! execution environment) first, longest listed first among them; then the least recently
//! asked. A contact Connect says is live stays due and is asked again, but only after every
//! other due contact has had its turn.
//!
//! Why least recently asked, not a window or a shuffle: a run asks as many as its deadline
//! allows, which varies with Connect's latency, and the due list changes between runs (contacts
//! heal, new ones come due). An order kept by what was actually asked needs neither count to be
//! known or stable; a shuffle bounds the wait only in probability. The memory is the
//! environment's: a cold start forgets it and begins a new round, longest listed first, so
//! across one the bound is at most two rounds. It costs no write (the table holds one item per
//! contact, docs/contract.md).
//!
//! The bound: with `due` contacts and `per_run` asked each run, every contact due all along is
//! asked within `ceil(due / per_run)` runs ([`rounds`]).

use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Rotation {
    /// The run in which each contact was last asked about.
    asked: HashMap<String, u64>,
    /// Runs ordered so far.
    runs: u64,
}

impl Rotation {
    /// The order in which to ask about `due` (contact id, how long listed): indices into it. The
    /// memory keeps only what is still due.
    pub fn order(&mut self, due: &[(&str, Duration)]) -> Vec<usize> {
        self.runs += 1;
        let still_due: HashMap<&str, ()> = due.iter().map(|(id, _)| (*id, ())).collect();
        self.asked
            .retain(|id, _| still_due.contains_key(id.as_str()));
        let mut order: Vec<(usize, &(&str, Duration))> = due.iter().enumerate().collect();
        order.sort_by_key(|(_, (id, listed_for))| {
            (
                self.asked.get(*id).copied(),
                std::cmp::Reverse(*listed_for),
                *id,
            )
        });
        order.into_iter().map(|(index, _)| index).collect()
    }

    /// `contact_id` was asked about in this run.
    pub fn asked(&mut self, contact_id: &str) {
        self.asked.insert(contact_id.to_owned(), self.runs);
    }
}

/// The runs it takes to ask about `due` contacts, `per_run` a run.
pub fn rounds(due: usize, per_run: usize) -> usize {
    due.div_ceil(per_run.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{BUDGET, calls_per_run};

    /// Contacts `c-0…` listed `n`, `n-1`, … minutes: `c-0` the longest.
    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c-{i}")).collect()
    }

    /// Runs of `per_run` calls over `due` contacts that all stay live (the worst case: nobody
    /// heals); for each contact, the first run that asked about it.
    fn first_asked(due: &[String], per_run: usize, runs: usize) -> HashMap<String, usize> {
        let listed: Vec<(&str, Duration)> = due
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    id.as_str(),
                    Duration::from_secs(60 * (due.len() - i) as u64),
                )
            })
            .collect();
        let mut rotation = Rotation::default();
        let mut first = HashMap::new();
        for run in 1..=runs {
            for i in rotation.order(&listed).into_iter().take(per_run) {
                rotation.asked(listed[i].0);
                first.entry(listed[i].0.to_owned()).or_insert(run);
            }
        }
        first
    }

    /// At the defaults (60 s timeout, 1 call a second, at most 50 a run): how many a run asks.
    fn per_run_at_defaults() -> usize {
        let left = BUDGET.timeout - BUDGET.reserve;
        calls_per_run(left, 1.0).min(crate::config::DEFAULT_MAX_CONTACTS)
    }

    #[test]
    fn every_due_contact_is_asked_within_the_bound_whatever_the_count() {
        let per_run = per_run_at_defaults();
        assert_eq!(per_run, 50);
        for due in [125, 150, 500, 5_000] {
            let contacts = ids(due);
            let bound = rounds(due, per_run);
            let first = first_asked(&contacts, per_run, bound);
            assert_eq!(first.len(), due, "{due} due: all asked within {bound} runs");
            assert!(first.values().all(|run| *run <= bound));
        }
        assert_eq!(
            [125, 150, 500, 5_000].map(|due| rounds(due, per_run)),
            [3, 3, 10, 100]
        );
    }

    #[test]
    fn a_live_contact_is_asked_again_only_after_every_other_had_its_turn() {
        let contacts = ids(150);
        let listed: Vec<(&str, Duration)> = contacts
            .iter()
            .map(|id| (id.as_str(), Duration::from_secs(3_600)))
            .collect();
        let mut rotation = Rotation::default();
        let mut asked = Vec::new();
        for _ in 0..6 {
            for i in rotation.order(&listed).into_iter().take(50) {
                rotation.asked(listed[i].0);
                asked.push(i);
            }
        }
        // Each round of three runs asks every contact once.
        for round in asked.chunks(150) {
            let mut round = round.to_vec();
            round.sort_unstable();
            assert_eq!(round, (0..150).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_run_cut_short_leaves_the_rest_first_in_line() {
        let contacts = ids(10);
        let listed: Vec<(&str, Duration)> = contacts
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), Duration::from_secs(100 - i as u64)))
            .collect();
        let mut rotation = Rotation::default();
        // The deadline stops the first run after 3 calls: the next begins with the 4th.
        for i in rotation.order(&listed).into_iter().take(3) {
            rotation.asked(listed[i].0);
        }
        assert_eq!(rotation.order(&listed)[..3], [3, 4, 5]);
    }

    #[test]
    fn contacts_that_come_due_later_wait_behind_those_never_asked_but_ahead_of_re_asks() {
        let contacts = ids(6);
        let mut rotation = Rotation::default();
        let first: Vec<(&str, Duration)> = contacts[..4]
            .iter()
            .map(|id| (id.as_str(), Duration::from_secs(600)))
            .collect();
        for i in rotation.order(&first).into_iter().take(2) {
            rotation.asked(first[i].0);
        }
        let mut later = first.clone();
        later.extend(
            contacts[4..]
                .iter()
                .map(|id| (id.as_str(), Duration::from_secs(60))),
        );
        let order: Vec<&str> = rotation
            .order(&later)
            .into_iter()
            .map(|i| later[i].0)
            .collect();
        assert_eq!(order, ["c-2", "c-3", "c-4", "c-5", "c-0", "c-1"]);
    }

    #[test]
    fn what_is_no_longer_due_is_forgotten() {
        let mut rotation = Rotation::default();
        let listed = [("c-1", Duration::ZERO), ("c-2", Duration::ZERO)];
        rotation.order(&listed);
        rotation.asked("c-1");
        rotation.order(&listed[1..]);
        assert_eq!(rotation.asked.len(), 0);
    }
}
