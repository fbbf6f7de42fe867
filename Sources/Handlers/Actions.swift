internal import Foundation
internal import GatehouseModel
internal import GatehouseStore
internal import Governance
internal import Portal
internal import Rendering
internal import Workflow

/// Everything a page or action needs, shared by the route closures; each action lives in its own file.
struct Actions: Sendable {
    let site: Site
    let store: Store
    let settings: App.Settings
    let views: Views
    let clock: @Sendable () -> Date
    let random: RandomSource
    let log: @Sendable (String) -> Void
    let originCheck: OriginCheck
    let cookie: SessionCookie
    /// Approvals, delivery and their mail, on the store.
    let approvals: Approvals
    /// The tenant's terms of use as sign-in checks them (hashed once, not on every request).
    let terms: TermsStamp
    /// The tenant's calendar, made once: making a time zone takes a process-wide lock.
    let calendar: TenantCalendar

    /// Runs a page or action; a form that cannot be read is a 4xx page, any other error a 503/500
    /// page whose detail goes only to the log.
    func guarded(_ request: RequestContext, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let error as FormDecodingError {
            log("\(request.method) \(request.path): \(error)")
            return views.message(status: error.status, title: "The form could not be read", text: error.publicMessage)
        } catch StoreError.busy(let path, let seconds) {
            log("\(request.method) \(request.path): \(StoreError.busy(path: path, seconds: seconds))")
            return views.message(
                status: .serviceUnavailable, title: "Busy",
                text: "The portal is busy right now and nothing was changed. Try again in a moment.")
        } catch {
            log("\(request.method) \(request.path): error: \(error)")
            return views.message(
                status: .internalServerError, title: "Something went wrong",
                text: "Something went wrong on our side and nothing was changed. Try again later; if it keeps happening, tell the portal's administrators.")
        }
    }

    /// The request's form, within the body limit.
    func form(_ request: RequestContext) throws -> URLEncodedForm {
        try request.form(limits: URLEncodedForm.Limits(maxBytes: settings.maxBodyBytes))
    }
}
