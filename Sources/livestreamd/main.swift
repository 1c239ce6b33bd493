import Foundation

// Everything runs in `Service`: closures written in top-level code are main-actor
// isolated and trap when run on other threads (docs/FINDINGS.md).
exit(Service.main())
