//! What both backends' log model shares: an output's cursor, a delivery without a row as
//! listed, and the merge of a queue read (pending exception rows and the log past the cursor).

use super::{DeliveryRow, Head, ids};

/// An output's cursor.
#[derive(Clone, Debug)]
pub(super) struct Cursor {
    /// The output's name.
    pub output: String,
    /// Its number in delivery ids.
    pub no: i64,
    /// Everything it takes up to here is settled.
    pub seq: i64,
    /// The newest event it takes (nothing above is for it).
    pub last_named: i64,
}

impl Cursor {
    /// The delivery of the event at `seq` to this output when it has no exception row:
    /// delivered at the first try when the cursor passed it, else waiting.
    pub(super) fn plain_row(
        &self,
        seq: i64,
        message_id: String,
        event_type: String,
        created_at: i64,
    ) -> DeliveryRow {
        let delivered = seq <= self.seq;
        DeliveryRow {
            id: ids::delivery_id(seq, self.no),
            message_id,
            output: self.output.clone(),
            event_type,
            status: if delivered { "delivered" } else { "pending" }.to_owned(),
            attempts: i64::from(delivered),
            created_at,
            last_status: None,
            last_error: None,
        }
    }
}

/// The deliveries a read yields (in id order), taken up to `limit` rows or `READ_MAX_BYTES`
/// of events; and up to which id the read is complete (`i64::MAX` when it yielded all there
/// was).
///
/// # Errors
/// The first row that could not be read.
pub(super) fn take_heads(
    rows: impl Iterator<Item = anyhow::Result<Head>>,
    limit: i64,
) -> anyhow::Result<(Vec<Head>, i64)> {
    let mut heads = Vec::new();
    let mut total = 0_usize;
    for head in rows {
        let head = head?;
        total = total.saturating_add(head.bytes());
        let id = head.id;
        heads.push(head);
        if total >= super::READ_MAX_BYTES || i64::try_from(heads.len()).unwrap_or(i64::MAX) >= limit
        {
            return Ok((heads, id));
        }
    }
    Ok((heads, i64::MAX))
}

/// One queue read from two reads (`(heads, complete up to)` each, from [`take_heads`]): each
/// is complete up to where it stopped, so together up to the nearer; in id order, at most
/// `limit` rows and `READ_MAX_BYTES` of events.
pub(super) fn merge_reads(
    (mut heads, read_to): (Vec<Head>, i64),
    (more, more_to): (Vec<Head>, i64),
    limit: i64,
) -> Vec<Head> {
    heads.extend(more);
    let read_to = read_to.min(more_to);
    heads.retain(|head| head.id <= read_to);
    heads.sort_by_key(|head| head.id);
    heads.truncate(usize::try_from(limit).unwrap_or(0));
    Head::keep_within_bytes(&mut heads);
    heads
}
