import LivestreamCore

/// A receiver's delivery, as stored in the event journal's cursor (so it survives restarts and is shared by processes).
struct DeliveryState: Equatable {
    /// Every event up to this sequence number was delivered, given up or not subscribed to.
    var after: Int64
    /// Failed attempts at the next event.
    var attempts = 0
    /// When the first of them failed (epoch ms); nil while nothing fails.
    var failingSince: Int64?
    /// When the next attempt is due (epoch ms).
    var nextAttemptAt: Int64?
    var lastSuccessAt: Int64?
    var lastError: String?
    var lastErrorAt: Int64?
    var delivered: Int64 = 0
    var abandoned: Int64 = 0
    /// The process delivering, and until when its claim holds (epoch ms): others leave the receiver to it.
    var holder: String?
    var heldUntil: Int64?

    init(after: Int64) {
        self.after = after
    }

    var jsonValue: JSONValue {
        [
            "after": .int(after), "attempts": .int(Int64(attempts)), "failing_since": optional(failingSince), "next_attempt_at": optional(nextAttemptAt),
            "last_success_at": optional(lastSuccessAt), "last_error": lastError.map(JSONValue.string) ?? .null, "last_error_at": optional(lastErrorAt),
            "delivered": .int(delivered), "abandoned": .int(abandoned), "holder": holder.map(JSONValue.string) ?? .null, "held_until": optional(heldUntil),
        ]
    }

    init?(jsonValue: JSONValue) {
        guard case .object(let object) = jsonValue, case .int(let after)? = object["after"] else { return nil }
        func int(_ key: String) -> Int64? { if case .int(let value)? = object[key] { value } else { nil } }
        self.after = after
        attempts = Int(int("attempts") ?? 0)
        failingSince = int("failing_since")
        nextAttemptAt = int("next_attempt_at")
        lastSuccessAt = int("last_success_at")
        lastError = object["last_error"]?.stringValue
        lastErrorAt = int("last_error_at")
        delivered = int("delivered") ?? 0
        abandoned = int("abandoned") ?? 0
        holder = object["holder"]?.stringValue
        heldUntil = int("held_until")
    }

    private func optional(_ value: Int64?) -> JSONValue { value.map(JSONValue.int) ?? .null }
}
