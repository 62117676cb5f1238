//! Changes to the delivery counts (by output and status) one transaction makes, applied at its
//! end in one statement per backend (`sqlite/counts.rs`, `postgres/counts.rs`).

/// Changes to the counts made by one transaction.
#[derive(Debug, Default)]
pub(super) struct Counts(Vec<(String, String, i64)>);

impl Counts {
    /// `n` more rows of `output` in `status` (fewer for a negative `n`).
    pub(super) fn add(&mut self, output: &str, status: &str, n: i64) {
        if n == 0 {
            return;
        }
        // A handful of (output, status) pairs per transaction: a scan beats hashing owned keys.
        match self
            .0
            .iter_mut()
            .find(|(o, s, _)| o == output && s == status)
        {
            Some((_, _, count)) => *count += n,
            None => self.0.push((output.to_owned(), status.to_owned(), n)),
        }
    }

    /// `n` rows of `output` went from status `from` to `to`.
    pub(super) fn moved(&mut self, output: &str, from: &str, to: &str, n: i64) {
        if from != to {
            self.add(output, from, -n);
            self.add(output, to, n);
        }
    }

    /// The changes to apply: `(output, status, n)`, without those that cancelled out.
    pub(super) fn changes(&self) -> impl Iterator<Item = (&str, &str, i64)> {
        self.0
            .iter()
            .filter(|(_, _, n)| *n != 0)
            .map(|(o, s, n)| (o.as_str(), s.as_str(), *n))
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn changes_sum_by_output_and_status_and_drop_what_cancels_out() {
        let mut counts = Counts::default();
        counts.add("raw", "pending", 1);
        counts.add("raw", "pending", 1);
        counts.add("forward", "pending", 1);
        counts.moved("raw", "pending", "delivered", 1);
        counts.moved("forward", "pending", "pending", 1);
        counts.moved("forward", "pending", "dead", 1);
        counts.moved("forward", "dead", "pending", 1);
        let changes: Vec<_> = counts.changes().collect();
        assert_eq!(
            changes,
            [
                ("raw", "pending", 1),
                ("forward", "pending", 1),
                ("raw", "delivered", 1)
            ]
        );
    }
}
