import LivestreamCore

/// An IAM policy document, as `livestreamd iam-policy` prints it.
public struct IAMPolicy: Sendable, Equatable {
    public var statements: [IAMStatement]

    public init(_ statements: [IAMStatement]) {
        self.statements = statements
    }

    /// The JSON document (`Version` 2012-10-17).
    public var jsonValue: JSONValue {
        ["Version": "2012-10-17", "Statement": .array(statements.map(\.jsonValue))]
    }
}

/// One `Allow` statement.
public struct IAMStatement: Sendable, Equatable {
    public var sid: String
    public var actions: [String]
    public var resources: [String]
    /// The statement's `Condition` block, if any.
    public var condition: JSONValue?
    /// For trust policies: the services that may assume the role (`Principal.Service`).
    public var principalServices: [String]?

    public init(sid: String, actions: [String], resources: [String] = [], condition: JSONValue? = nil, principalServices: [String]? = nil) {
        self.sid = sid
        self.actions = actions
        self.resources = resources
        self.condition = condition
        self.principalServices = principalServices
    }

    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["Sid": .string(sid), "Effect": "Allow", "Action": .array(actions.map(JSONValue.string))]
        if !resources.isEmpty { object["Resource"] = .array(resources.map(JSONValue.string)) }
        if let condition { object["Condition"] = condition }
        if let principalServices { object["Principal"] = ["Service": .array(principalServices.map(JSONValue.string))] }
        return .object(object)
    }
}

/// What ARNs are made of: partition, region and account (`*` where not known).
public struct ARNScope: Sendable, Equatable {
    public var partition: String
    public var region: String
    public var account: String

    public init(region: String, account: String = "*") {
        self.region = region
        self.account = account
        partition = region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`; `regional: false` leaves the region out (IAM, CloudFront, S3).
    public func arn(_ service: String, _ resource: String, regional: Bool = true, withAccount: Bool = true) -> String {
        "arn:\(partition):\(service):\(regional ? region : ""):\(withAccount ? account : ""):\(resource)"
    }
}
