import AWSClient
import Foundation
import LivestreamCore

/// A table of livestreamd's own beside the streams table (the cleanup and event journals):
/// it must exist when configured by name; with the default name it is created on first use
/// (on-demand billing), by whichever process gets there first.
struct OwnTable {
    let store: DynamoDBStreamStore
    let name: String
    /// Whether a missing table may be created (the default name) or is a configuration error (a name given).
    let createsTable: Bool
    /// For messages: "the cleanup table", and the option naming it.
    let what: String
    let option: String
    /// For messages: how to create it by hand, e.g. "hash key id (S)".
    let keys: String
    /// CreateTable's request without `TableName` and `BillingMode`.
    let definition: [String: JSONValue]
    let sleep: @Sendable (Duration) -> Void

    /// Waits until the table is ACTIVE, creating it first when it may.
    /// - Returns: whether this call created it.
    @discardableResult
    func ensure() throws -> Bool {
        let status = try self.status()
        if status == "ACTIVE" { return false }
        var created = false
        if status == nil {
            guard createsTable else {
                throw ServiceError(.upstreamFailed, code: "ResourceNotFoundException", "dynamodb: \(what) \(name) (\(option)) does not exist; create it with \(keys)")
            }
            do {
                var request = definition
                request["TableName"] = .string(name)
                request["BillingMode"] = "PAY_PER_REQUEST"
                _ = try store.call("CreateTable", request, passing: AWSError.Code.resourceInUse)
                created = true
            } catch is AWSError {
                // Another process is creating it.
            }
        }
        for _ in 0..<60 {
            if try self.status() == "ACTIVE" { return created }
            sleep(.seconds(1))
        }
        throw ServiceError(.upstreamUnavailable, code: "TableNotActive", "dynamodb: \(what) \(name) did not become ACTIVE within a minute")
    }

    /// The table's status, nil when it does not exist.
    func status() throws -> String? {
        do {
            let answer = try store.call("DescribeTable", ["TableName": .string(name)], passing: AWSError.Code.resourceNotFound)
            return answer.objectValue?["Table"]?.objectValue?["TableStatus"]?.stringValue ?? "UNKNOWN"
        } catch is AWSError {
            return nil
        }
    }
}
