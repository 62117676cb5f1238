//! A delivery's id (both backends): the event's place in the log and the output's number in one
//! integer, `seq << 16 | no`. Every delivery has one whether or not it has a row (a delivery
//! simply delivered has none: the output's cursor passed it), ids of one output grow with the
//! log (Kick's order), and the CLI, the admin page and the workers keep using one integer.

/// Bits of a delivery id that hold the output's number.
const OUTPUT_BITS: u32 = 16;

/// Most outputs a database numbers (output names ever configured on it).
pub(super) const MAX_OUTPUTS: i64 = (1 << OUTPUT_BITS) - 1;

/// The id of output `no`'s delivery of the event at `seq`.
pub(super) const fn delivery_id(seq: i64, no: i64) -> i64 {
    (seq << OUTPUT_BITS) | no
}

/// The event's place in the log and the output's number of delivery `id`.
pub(super) const fn split(id: i64) -> (i64, i64) {
    (id >> OUTPUT_BITS, id & MAX_OUTPUTS)
}

/// The largest delivery id of the events up to `seq` (any output).
pub(super) const fn last_id_of(seq: i64) -> i64 {
    delivery_id(seq, MAX_OUTPUTS)
}

/// How `log.outputs` names output `no`: `,no,` (the column is `,1,3,`).
pub(super) fn mark(no: i64) -> String {
    format!(",{no},")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_holds_its_event_and_output_and_grows_with_the_log() {
        let id = delivery_id(123_456_789, 7);
        assert_eq!(split(id), (123_456_789, 7));
        assert!(delivery_id(10, MAX_OUTPUTS) < delivery_id(11, 1));
        assert_eq!(last_id_of(10), delivery_id(10, MAX_OUTPUTS));
        assert_eq!(split(delivery_id(1, MAX_OUTPUTS)), (1, MAX_OUTPUTS));
        assert_eq!(mark(3), ",3,");
    }
}
