@testable import CloudFrontCDN
import LivestreamCore
import Testing

/// A config with elements the service does not model, formatted as CloudFront returns it.
let sharedConfig = """
<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>live-2026</CallerReference>
  <Aliases><Quantity>1</Quantity><Items><CNAME>live.example.com</CNAME></Items></Aliases>
  <DefaultRootObject></DefaultRootObject>
  <Origins>
    <Quantity>1</Quantity>
    <Items>
      <Origin>
        <Id>web</Id><DomainName>web.example.com</DomainName><OriginPath/>
        <CustomHeaders><Quantity>1</Quantity><Items><OriginCustomHeader><HeaderName>X-Secret</HeaderName><HeaderValue>a&amp;b</HeaderValue></OriginCustomHeader></Items></CustomHeaders>
        <CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy></CustomOriginConfig>
      </Origin>
    </Items>
  </Origins>
  <DefaultCacheBehavior><TargetOriginId>web</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <LambdaFunctionAssociations><Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:1:function:f:1</LambdaFunctionARN><EventType>viewer-request</EventType></LambdaFunctionAssociation></Items></LambdaFunctionAssociations>
  </DefaultCacheBehavior>
  <CacheBehaviors><Quantity>0</Quantity></CacheBehaviors>
  <!-- kept as written -->
  <Comment>shared live distribution</Comment>
  <Logging><Enabled>true</Enabled><IncludeCookies>false</IncludeCookies><Bucket>logs.s3.amazonaws.com</Bucket><Prefix>live/</Prefix></Logging>
  <PriceClass>PriceClass_100</PriceClass>
  <Enabled>true</Enabled>
</DistributionConfig>
"""

struct StreamOriginTests {
    let origin = try! StreamOrigin(streamId: "abc", viewerEndpoint: "https://x1.mediapackage.us-east-1.amazonaws.com/out/v1/h4sh/index.m3u8")

    @Test func parsingAndWritingGivesBackTheSameBytes() throws {
        #expect(try XMLTree(parsing: sharedConfig).serialized == sharedConfig)
        #expect(throws: XMLTreeError.self) { try XMLTree(parsing: "<a><b></a>") }
        #expect(throws: XMLTreeError.self) { try XMLTree(parsing: "<a>") }
    }

    @Test func associateThenDissociateRestoresTheDocument() throws {
        var tree = try XMLTree(parsing: sharedConfig)
        var config = try #require(tree.root)
        #expect(try origin.add(to: &config, maxOrigins: 25, maxCacheBehaviors: 25))
        #expect(try !origin.add(to: &config, maxOrigins: 25, maxCacheBehaviors: 25), "associating twice changes nothing")
        #expect(config.child("Origins")?.child("Quantity")?.text == "2")
        #expect(config.child("CacheBehaviors")?.child("Quantity")?.text == "1")
        let behaviour = try #require(config.child("CacheBehaviors")?.child("Items")?.child("CacheBehavior"))
        #expect(behaviour.child("PathPattern")?.text == "/out/v1/h4sh/*" && behaviour.child("TargetOriginId")?.text == "abc")
        let added = try #require(config.child("Origins")?.child("Items")?.elements.last)
        #expect(added.child("DomainName")?.text == "x1.mediapackage.us-east-1.amazonaws.com")
        #expect(added.child("CustomOriginConfig")?.child("OriginProtocolPolicy")?.text == "https-only")

        #expect(StreamOrigin.remove(streamId: "abc", from: &config))
        #expect(!StreamOrigin.remove(streamId: "abc", from: &config), "dissociating an absent stream changes nothing")
        tree.root = config
        #expect(tree.serialized == sharedConfig)
    }

    @Test func aFullDistributionIsAClearConflict() throws {
        var config = try #require(try XMLTree(parsing: sharedConfig).root)
        #expect { try origin.add(to: &config, maxOrigins: 1, maxCacheBehaviors: 25) } throws: { ($0 as? ServiceError)?.code == "cdn_limit" }
        #expect { try origin.add(to: &config, maxOrigins: 25, maxCacheBehaviors: 0) } throws: { ($0 as? ServiceError)?.code == "cdn_limit" }
    }

    @Test func aMovedEndpointIsCorrectedNotDuplicated() throws {
        var config = try #require(try XMLTree(parsing: sharedConfig).root)
        _ = try origin.add(to: &config, maxOrigins: 25, maxCacheBehaviors: 25)
        let moved = try StreamOrigin(streamId: "abc", viewerEndpoint: "https://x2.example.com/out/v1/other/index.m3u8")
        #expect(try moved.add(to: &config, maxOrigins: 25, maxCacheBehaviors: 25))
        let origins = config.child("Origins")?.child("Items")?.elements.filter { $0.child("Id")?.text == "abc" } ?? []
        #expect(origins.count == 1 && origins[0].child("DomainName")?.text == "x2.example.com")
        #expect(config.child("CacheBehaviors")?.child("Quantity")?.text == "1")
        #expect(throws: ServiceError.self) { try StreamOrigin(streamId: "abc", viewerEndpoint: "") }
    }

    @Test func aStreamsBehaviourGoesBeforeABroaderOneOfTheSite() throws {
        // CloudFront takes the first matching behaviour: appended after `*.m3u8`, ours would never be used.
        let withBroad = sharedConfig.replacingOccurrences(
            of: "<CacheBehaviors><Quantity>0</Quantity></CacheBehaviors>",
            with: "<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>*.m3u8</PathPattern><TargetOriginId>web</TargetOriginId></CacheBehavior></Items></CacheBehaviors>")
        var tree = try XMLTree(parsing: withBroad)
        var config = try #require(tree.root)
        #expect(try origin.add(to: &config, maxOrigins: 100, maxCacheBehaviors: 75))
        let patterns = config.child("CacheBehaviors")?.child("Items")?.elements.compactMap { $0.child("PathPattern")?.text } ?? []
        #expect(patterns == ["/out/v1/h4sh/*", "*.m3u8"])
        #expect(config.child("CacheBehaviors")?.child("Quantity")?.text == "2")
        #expect(StreamOrigin.remove(streamId: "abc", from: &config))
        tree.root = config
        #expect(tree.serialized == withBroad, "dissociating gives back the site's document")
    }

    @Test func theForwardedHeadersAreTheOldDeploymentsUnlessConfigured() throws {
        func headers(_ origin: StreamOrigin) -> [String] {
            origin.cacheBehavior.child("ForwardedValues")?.child("Headers")?.child("Items")?.elements.compactMap(\.text) ?? []
        }
        #expect(headers(origin) == ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"])
        let narrow = try StreamOrigin(streamId: "abc", viewerEndpoint: "https://x1.example.com/out/v1/h/index.m3u8", forwardedHeaders: ["Origin"])
        #expect(headers(narrow) == ["Origin"])
        #expect(narrow.cacheBehavior.child("ForwardedValues")?.child("Headers")?.child("Quantity")?.text == "1")
    }
}
