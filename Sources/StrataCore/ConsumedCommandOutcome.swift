/// What became of one API command taken from an asynchronous consumer (an outbox row): applied;
/// skipped for good (an unknown method, a payload that is not a valid request, an error that a
/// retry cannot mend — logged, never retried); or to be retried (an internal error: the store or
/// the broker failed), which stops the batch at that command so order is kept.
package enum ConsumedCommandOutcome: Sendable, Equatable {
    case applied
    case skipped(String)
    case retry(String)
}
